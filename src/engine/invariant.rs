//! The wake-up invariant, checked while a replicate runs (always in debug builds and tests, on
//! request in release with `diaspora run --check`): at the end of every year, an agent in a live
//! state has exactly one pending wake-up (a calendar entry in a month still to come, or after
//! the run when its next event falls there, or a place in a waiting queue), of the kind its
//! state is woken by; an agent in an absorbing state has none. Repatriated people are the one
//! live state that may have none: those who decided to stay at home.
//!
//! Conservation alone cannot see an agent that is stuck (counted in a state but never woken
//! again); this check can.

use super::agents::{BLOCK_SIZE, Block, FLAG_DUE_HAZARD, FLAG_DUE_REDRAW};
use super::sim::EngineError;
use super::tally::LifeState;

/// How many pending wake-ups a state may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Count {
    None,
    One,
    /// Repatriated: one if they will try again.
    AtMostOne,
}

/// The kind of wake-up a state is woken by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    Timer,
    Hazard,
    Either,
}

fn expected(state: LifeState) -> (Count, Due) {
    use LifeState::*;
    match state {
        Crossing | Travelling | Detained => (Count::One, Due::Timer),
        Repatriated => (Count::AtMostOne, Due::Timer),
        InTransit | Resettled | Refugee | Complementary | Irregular | Naturalised => {
            (Count::One, Due::Hazard)
        }
        AsylumSeeker => (Count::One, Due::Either),
        Returned | Dead => (Count::None, Due::Either),
    }
}

/// Checks every agent of every block at the end of `month` (all wake-ups of `month` and
/// before have been handled).
pub(crate) fn check_wake_ups(
    replicate: u32,
    month: u32,
    blocks: &[Block],
) -> Result<(), EngineError> {
    for (b, block) in blocks.iter().enumerate() {
        let agent = |i: usize| (b * BLOCK_SIZE + i) as u64;
        let fail = |i: usize, state: &'static str, problem: String| EngineError::WakeUp {
            replicate,
            month,
            agent: agent(i),
            state,
            problem,
        };
        let mut pending = vec![0u8; block.len()];
        let mut queued = vec![false; block.len()];
        let mut stale = None;
        block.calendar.for_each(|m, a| {
            let a = usize::from(a);
            if let Some(n) = pending.get_mut(a) {
                *n = n.saturating_add(1);
            }
            if m <= month && stale.is_none() {
                stale = Some((a, m));
            }
        });
        for q in &block.waiting {
            for w in q.iter() {
                let a = usize::from(w.agent());
                if let Some(n) = pending.get_mut(a) {
                    *n = n.saturating_add(1);
                    queued[a] = true;
                }
            }
        }
        if let Some((i, m)) = stale {
            return Err(fail(
                i,
                state_name(block, i),
                format!("has a wake-up in month {m}, which has passed"),
            ));
        }
        for (i, core) in block.cols.core.iter().enumerate() {
            let Some(state) = LifeState::from_index(core.state) else {
                continue; // the conservation recount reports invalid states
            };
            let (count, due) = expected(state);
            let n = pending[i];
            let wrong = match count {
                Count::None => n != 0,
                Count::One => n != 1,
                Count::AtMostOne => n > 1,
            };
            if wrong {
                let wanted = match count {
                    Count::None => "none",
                    Count::One => "exactly one",
                    Count::AtMostOne => "at most one",
                };
                return Err(fail(
                    i,
                    state.name(),
                    format!("has {n} pending wake-up(s), expected {wanted}"),
                ));
            }
            let hazard = core.flags & (FLAG_DUE_HAZARD | FLAG_DUE_REDRAW) != 0 || queued[i];
            let kind_ok = match due {
                Due::Timer => !hazard,
                Due::Hazard => hazard,
                Due::Either => true,
            };
            if n == 1 && !kind_ok {
                let (has, wants) = if hazard {
                    ("hazard event", "timer")
                } else {
                    ("timer", "hazard event")
                };
                return Err(fail(
                    i,
                    state.name(),
                    format!("waits for a {has} but its state is woken by a {wants}"),
                ));
            }
        }
    }
    Ok(())
}

fn state_name(block: &Block, i: usize) -> &'static str {
    block
        .cols
        .core
        .get(i)
        .and_then(|c| LifeState::from_index(c.state))
        .map_or("?", LifeState::name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::agents::{DUE_HAZARD, DUE_TIMER};

    fn block() -> Block {
        let mut b = Block::new(24, 2, true);
        let i = b.push(LifeState::Crossing, 0, 0, 0, 0, 1980);
        b.schedule(i, 5, DUE_TIMER);
        let j = b.push(LifeState::Crossing, 0, 0, 0, 0, 1980);
        b.set_state(j, LifeState::Dead, 0, 1);
        let k = b.push(LifeState::Crossing, 0, 0, 0, 0, 1980);
        b.set_state(k, LifeState::InTransit, 1, 1);
        b.schedule(k, 500, DUE_HAZARD); // after the run: kept
        b
    }

    #[test]
    fn a_consistent_calendar_passes() {
        assert!(check_wake_ups(0, 2, &[block()]).is_ok());
    }

    #[test]
    fn a_stuck_agent_a_doubled_wake_up_a_stale_one_and_a_wrong_kind_are_found() {
        let mut b = block();
        let i = b.push(LifeState::Crossing, 0, 0, 0, 0, 1980);
        b.set_state(i, LifeState::Resettled, 1, 2); // never scheduled: stuck
        let e = check_wake_ups(3, 2, &[b]).unwrap_err().to_string();
        assert_eq!(
            e,
            "wake-up invariant violated in replicate 3 at the end of month 2: agent 3 (resettled) has 0 pending wake-up(s), expected exactly one"
        );

        let mut b = block();
        b.schedule(0, 7, DUE_TIMER);
        let e = check_wake_ups(0, 2, &[b]).unwrap_err().to_string();
        assert!(e.contains("agent 0 (crossing) has 2 pending"), "{e}");

        let e = check_wake_ups(0, 5, &[block()]).unwrap_err().to_string();
        assert!(
            e.contains("has a wake-up in month 5, which has passed"),
            "{e}"
        );

        let mut b = block();
        b.schedule(1, 9, DUE_TIMER); // the dead agent
        let e = check_wake_ups(0, 2, &[b]).unwrap_err().to_string();
        assert!(
            e.contains("agent 1 (dead) has 1 pending wake-up(s), expected none"),
            "{e}"
        );

        let mut b = block();
        let i = b.push(LifeState::Crossing, 0, 0, 0, 0, 1980);
        b.set_state(i, LifeState::InTransit, 1, 2);
        b.schedule(i, 9, DUE_TIMER);
        let e = check_wake_ups(0, 2, &[b]).unwrap_err().to_string();
        assert!(
            e.contains("(in_transit) waits for a timer but its state is woken by a hazard event"),
            "{e}"
        );
    }
}
