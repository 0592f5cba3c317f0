//! A block's event calendar: for each month, the list of agents that wake up in it.
//!
//! Lists are chains of fixed-size chunks drawn from one arena, with emptied chunks reused, so
//! scheduling never reallocates or copies a list and memory stays close to two bytes per
//! scheduled agent. A month's list is read in the order it was written.
//!
//! Wake-ups past the end of the run are dropped, or, when the run checks its invariants, kept
//! in one list after the last month (never read by the month loop), so that every agent in a
//! live state can be seen to have exactly one pending wake-up.

use super::prefetch::prefetch;

/// Agents per chunk (a chunk is 128 bytes: two cache lines).
const CHUNK: usize = 62;
/// No chunk.
const NIL: u32 = u32::MAX;

/// A piece of a month's list. Every chunk of a list is full but its last, whose length the
/// calendar keeps apart (`tail_len`), so a push reads nothing from the chunk it writes to.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Chunk {
    next: u32,
    items: [u16; CHUNK],
}

const EMPTY: Chunk = Chunk {
    next: NIL,
    items: [0; CHUNK],
};

/// Per-month lists of agents (block-local indices).
pub(crate) struct Calendar {
    /// Months of the run; list `horizon` (kept only when checking) holds later wake-ups.
    horizon: usize,
    keep_beyond: bool,
    first: Vec<u32>,
    last: Vec<u32>,
    /// Agents in each month's last chunk.
    tail_len: Vec<u16>,
    chunks: Vec<Chunk>,
    free: Vec<u32>,
}

impl Calendar {
    /// An empty calendar of `months` months; `keep_beyond` keeps wake-ups after the last month
    /// in a list of their own instead of dropping them.
    pub fn new(months: u32, keep_beyond: bool) -> Calendar {
        let horizon = months as usize;
        let m = horizon + usize::from(keep_beyond);
        Calendar {
            horizon,
            keep_beyond,
            first: vec![NIL; m],
            last: vec![NIL; m],
            tail_len: vec![0; m],
            chunks: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Whether nobody wakes up in `month`.
    pub fn is_empty(&self, month: u32) -> bool {
        self.first[month as usize] == NIL
    }

    /// Adds `agent` to `month`'s list; months past the end are dropped (or kept after the
    /// last month).
    #[inline(always)]
    pub fn push(&mut self, month: u32, agent: u16) {
        let mut m = month as usize;
        if m >= self.horizon {
            if !self.keep_beyond {
                return;
            }
            m = self.horizon;
        }
        let len = usize::from(self.tail_len[m]);
        let last = self.last[m];
        if last != NIL && len < CHUNK {
            self.chunks[last as usize].items[len] = agent;
            self.tail_len[m] += 1;
            return;
        }
        self.push_new_chunk(m, agent);
    }

    /// Starts a new chunk at the end of month `m`'s list.
    fn push_new_chunk(&mut self, m: usize, agent: u16) {
        let new = match self.free.pop() {
            Some(i) => i,
            None => {
                self.chunks.push(EMPTY);
                (self.chunks.len() - 1) as u32
            }
        };
        let c = &mut self.chunks[new as usize];
        c.next = NIL;
        c.items[0] = agent;
        let last = self.last[m];
        if last == NIL {
            self.first[m] = new;
        } else {
            self.chunks[last as usize].next = new;
        }
        self.last[m] = new;
        self.tail_len[m] = 1;
    }

    /// Detaches `month`'s first chunk and returns a copy of its agents; `None` when the month's
    /// list is exhausted. The chunk is recycled, so pushes made while its agents are handled
    /// may reuse it.
    #[inline]
    pub fn pop_chunk(&mut self, month: u32) -> Option<([u16; CHUNK], usize)> {
        let m = month as usize;
        let i = self.first[m];
        if i == NIL {
            return None;
        }
        let c = self.chunks[i as usize];
        if c.next != NIL {
            // The next chunk is read right after this one's agents are handled.
            let next = &self.chunks[c.next as usize];
            prefetch(&next.items, 0);
            prefetch(&next.items, CHUNK - 1);
        }
        let n = if i == self.last[m] {
            usize::from(self.tail_len[m])
        } else {
            CHUNK
        };
        self.first[m] = c.next;
        if c.next == NIL {
            self.last[m] = NIL;
            self.tail_len[m] = 0;
        }
        self.free.push(i);
        Some((c.items, n))
    }

    /// Calls `f(month, agent)` for every pending wake-up, month by month (wake-ups after the
    /// last month, when kept, come last with `month` = the number of months).
    pub fn for_each(&self, mut f: impl FnMut(u32, u16)) {
        for (m, &first) in self.first.iter().enumerate() {
            let mut i = first;
            while i != NIL {
                let n = if i == self.last[m] {
                    usize::from(self.tail_len[m])
                } else {
                    CHUNK
                };
                let chunk = &self.chunks[i as usize];
                for &a in &chunk.items[..n] {
                    f(m as u32, a);
                }
                i = chunk.next;
            }
        }
    }

    /// Agents waiting in all months (for checks).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, _| n += 1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Chunk>(), 128);
        assert_eq!(std::mem::align_of::<Chunk>(), 64);
    }

    #[test]
    fn lists_keep_order_across_chunks_and_reuse_them() {
        let mut c = Calendar::new(4, false);
        for a in 0..150u16 {
            c.push(1 + u32::from(a % 2), a);
        }
        c.push(9, 7); // past the end: dropped
        assert_eq!(c.len(), 150);
        assert!(c.is_empty(0) && !c.is_empty(1));
        let mut seen = Vec::new();
        while let Some((items, n)) = c.pop_chunk(1) {
            seen.extend_from_slice(&items[..n]);
            c.push(3, 1000); // pushing while reading reuses freed chunks
        }
        assert_eq!(seen, (0..150).step_by(2).collect::<Vec<u16>>());
        assert!(c.is_empty(1));
        assert_eq!(c.len(), 75 + 2);
        let arena = c.chunks.len();
        while c.pop_chunk(2).is_some() {}
        for a in 0..62 {
            c.push(0, a);
        }
        assert_eq!(c.chunks.len(), arena, "freed chunks are reused");
    }

    #[test]
    fn wake_ups_past_the_end_are_kept_when_checking() {
        let mut c = Calendar::new(4, true);
        c.push(2, 5);
        c.push(4, 6);
        c.push(400, 7);
        let mut seen = Vec::new();
        c.for_each(|m, a| seen.push((m, a)));
        assert_eq!(seen, [(2, 5), (4, 6), (4, 7)]);
    }
}
