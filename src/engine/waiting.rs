//! Waiting queues: agents whose next event falls in a year whose hazard is not known yet (it
//! follows drivers), kept by the cumulative hazard at which the event falls.
//!
//! An agent joins a queue in any month but leaves only in a January, once the year's hazard is
//! known: then every agent whose threshold the year's cumulative hazard reaches is released,
//! smallest threshold first (ties, which have probability zero, by agent), and the order of
//! release decides the order in which they are handled and so which random numbers each draws.
//!
//! Agents that join during a year are kept unsorted and sorted once, as a run of their own, in
//! the next January; a release takes the reached front of every run and merges those fronts.
//! That is the order a binary heap pops in, at a fraction of the cost: a heap sifts every
//! agent through a dozen levels on the way in and on the way out, each level a load that waits
//! for the one before, where here each agent is sorted twice among neighbours already in cache.

/// An agent waiting for the cumulative hazard of its state to reach its threshold, packed in
/// one integer that orders like `(threshold, agent)` with thresholds in [`f64::total_cmp`]'s
/// order: sorting compares one integer instead of two floats' bit patterns and two agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Waiting(u128);

/// `f64::total_cmp`'s key: flipping every bit but the sign of a negative number makes the bit
/// patterns of all floats order as signed integers; flipping the sign bit then makes them
/// order as unsigned ones. Its own inverse on the lower 63 bits, so it can be undone.
#[inline(always)]
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits() as i64;
    let key = bits ^ ((((bits >> 63) as u64) >> 1) as i64);
    (key as u64) ^ (1 << 63)
}

#[inline(always)]
fn from_order_key(key: u64) -> f64 {
    let bits = (key ^ (1 << 63)) as i64;
    f64::from_bits((bits ^ ((((bits >> 63) as u64) >> 1) as i64)) as u64)
}

impl Waiting {
    #[inline(always)]
    pub fn new(threshold: f64, agent: u16) -> Waiting {
        Waiting((u128::from(order_key(threshold)) << 16) | u128::from(agent))
    }

    /// The cumulative hazard at which the agent's event falls.
    #[inline(always)]
    pub fn threshold(self) -> f64 {
        from_order_key((self.0 >> 16) as u64)
    }

    /// The agent (block-local index).
    #[inline(always)]
    pub fn agent(self) -> u16 {
        self.0 as u16
    }
}

/// One waiting queue of a block.
#[derive(Clone, Debug, Default)]
pub(crate) struct WaitQueue {
    /// Joined since the last release, in no order.
    incoming: Vec<Waiting>,
    /// Earlier joiners: sorted runs, each still waiting from `next` on.
    runs: Vec<Run>,
}

#[derive(Clone, Debug)]
struct Run {
    next: usize,
    items: Vec<Waiting>,
}

impl Run {
    fn rest(&self) -> &[Waiting] {
        &self.items[self.next..]
    }
}

impl WaitQueue {
    /// Adds an agent.
    #[inline]
    pub fn push(&mut self, w: Waiting) {
        self.incoming.push(w);
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.incoming.is_empty() && self.runs.iter().all(|r| r.rest().is_empty())
    }

    /// Everyone waiting, in no particular order (for checks).
    pub fn iter(&self) -> impl Iterator<Item = &Waiting> + '_ {
        self.incoming
            .iter()
            .chain(self.runs.iter().flat_map(Run::rest))
    }

    /// Replaces the contents of `out` with every agent whose threshold is at most `limit`, in
    /// increasing order, and removes them from the queue. Exactly the agents a binary heap of
    /// the same agents would pop, in the order it would pop them, while its smallest threshold
    /// is at most `limit` (thresholds are never NaN).
    pub fn release(&mut self, limit: f64, out: &mut Vec<Waiting>) {
        out.clear();
        if !self.incoming.is_empty() {
            let mut items = std::mem::take(&mut self.incoming);
            items.sort_unstable();
            self.runs.push(Run { next: 0, items });
        }
        let mut fronts = 0;
        for run in &mut self.runs {
            let rest = run.rest();
            let n = rest.iter().take_while(|w| w.threshold() <= limit).count();
            if n > 0 {
                out.extend_from_slice(&rest[..n]);
                run.next += n;
                fronts += 1;
            }
        }
        if fronts > 1 {
            // A few sorted runs one after the other: the stable sort merges them (keys are
            // distinct, so it gives the one order an unstable sort would).
            out.sort();
        }
        self.runs.retain_mut(|run| {
            if run.next == run.items.len() {
                return false;
            }
            // Give back the space of the released front once it is most of the run.
            if run.next * 2 > run.items.len() {
                run.items.drain(..run.next);
                run.next = 0;
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::{Ordering, Reverse};
    use std::collections::BinaryHeap;

    use rand::RngExt;

    use super::*;
    use crate::engine::rng::{Purpose, stream};

    /// The order agents are released in: by threshold (`total_cmp`), then by agent.
    #[derive(Clone, Copy, Debug)]
    struct Plain {
        threshold: f64,
        agent: u16,
    }
    impl PartialEq for Plain {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == Ordering::Equal
        }
    }
    impl Eq for Plain {}
    impl PartialOrd for Plain {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Plain {
        fn cmp(&self, o: &Self) -> Ordering {
            self.threshold
                .total_cmp(&o.threshold)
                .then(self.agent.cmp(&o.agent))
        }
    }

    #[test]
    fn packed_agents_order_like_threshold_then_agent_and_unpack() {
        let values = [
            f64::NEG_INFINITY,
            -3.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 4.0,
            1e-300,
            0.7,
            0.7000000000000001,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        let mut all = Vec::new();
        for &t in &values {
            for agent in [0, 1, 9_999, u16::MAX] {
                let w = Waiting::new(t, agent);
                assert_eq!((w.threshold().to_bits(), w.agent()), (t.to_bits(), agent));
                all.push((
                    w,
                    Plain {
                        threshold: t,
                        agent,
                    },
                ));
            }
        }
        for (a, pa) in &all {
            for (b, pb) in &all {
                assert_eq!(a.cmp(b), pa.cmp(pb), "{pa:?} {pb:?}");
            }
        }
    }

    /// Years of joiners and releases against a binary heap fed the same agents: the same agents
    /// come out, in the same order, year after year.
    #[test]
    fn releases_what_a_heap_pops_in_the_order_it_pops() {
        let mut rng = stream(5, 0, Purpose::External, 0, 0);
        let mut queue = WaitQueue::default();
        let mut heap = BinaryHeap::new();
        let mut out = Vec::new();
        let mut agent = 0u16;
        let mut limit = 0.0;
        for year in 0..40 {
            // Joiners wait beyond the current limit, a few with equal thresholds.
            for _ in 0..rng.random_range(0..300) {
                let threshold = if agent.is_multiple_of(17) {
                    limit + 1.0
                } else {
                    limit + rng.random::<f64>() * 5.0
                };
                queue.push(Waiting::new(threshold, agent));
                heap.push(Reverse(Plain { threshold, agent }));
                agent = agent.wrapping_add(1);
            }
            limit += if year % 7 == 3 {
                0.0
            } else {
                rng.random::<f64>() * 2.0
            };
            let mut popped = Vec::new();
            while let Some(&Reverse(w)) = heap.peek() {
                if w.threshold > limit {
                    break;
                }
                heap.pop();
                popped.push((w.threshold.to_bits(), w.agent));
            }
            queue.release(limit, &mut out);
            let released: Vec<_> = out
                .iter()
                .map(|w| (w.threshold().to_bits(), w.agent()))
                .collect();
            assert_eq!(released, popped, "year {year}");
            let mut left: Vec<_> = queue.iter().map(|w| w.agent()).collect();
            let mut want: Vec<_> = heap.iter().map(|w| w.0.agent).collect();
            left.sort_unstable();
            want.sort_unstable();
            assert_eq!(left, want, "year {year}");
            assert_eq!(queue.is_empty(), heap.is_empty());
        }
    }
}
