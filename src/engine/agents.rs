//! Agents, stored column-wise in fixed-size blocks, each block with its own event calendar.
//!
//! The fields an event reads and writes travel together in one 8-byte [`Core`] record per
//! agent (state, flags, place, route, months in state); calendar links and attributes fixed at
//! creation (birth year, month of leaving) are columns of their own.
//!
//! A block owns [`BLOCK_SIZE`] consecutive agents (by creation order), their columns, a calendar
//! of who wakes up in which month, and the counts its agents changed this month. Blocks are the
//! unit of parallel work: the agents of one block never touch another block, and each block
//! draws from its own random stream, so the thread count cannot change a result.

use super::calendar::Calendar;
use super::tally::{FlowKind, LifeState, YearTally};
use super::waiting::{WaitQueue, Waiting};

/// Agents per block. Part of the random-stream layout: changing it changes results.
pub const BLOCK_SIZE: usize = 1 << 14;

/// Flag bit: female.
pub const FLAG_FEMALE: u8 = 1;
/// Flag bit: holds citizenship of a resettlement country.
pub const FLAG_CITIZEN: u8 = 2;
/// Flag bit: travelling as a referred (quota) refugee.
pub const FLAG_REFERRAL: u8 = 4;

/// What a scheduled wake-up is for: the end of a timed phase…
pub const DUE_TIMER: u8 = 0;
/// …or a hazard event (stored as a flag bit).
pub const DUE_HAZARD: u8 = FLAG_DUE_HAZARD;
/// Flag bit: the next wake-up is a hazard event, not the end of a timer.
pub const FLAG_DUE_HAZARD: u8 = 8;
/// …or a fresh draw of the next event, in the January after which a hazard that follows
/// drivers was not yet known (stored as a flag bit).
pub const DUE_REDRAW: u8 = FLAG_DUE_REDRAW;
/// Flag bit: the next wake-up is a redraw.
pub const FLAG_DUE_REDRAW: u8 = 16;

/// Months before the run that `since` can go back to (people of the starting stocks entered
/// their state before the run began): `since` holds the month plus this.
pub const MONTHS_BEFORE_START: u32 = 1200;

/// The fields every event reads and writes, kept together: the engine visits agents in
/// calendar order, not in index order, so one 8-byte record per agent costs one cache line per
/// event where a column per field would cost one per field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Core {
    /// Life state (`LifeState as u8`).
    pub state: u8,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Current place (the starting place while on a route).
    pub place: u16,
    /// Route being travelled (meaningful while crossing or travelling).
    pub route: u16,
    /// Month the current state was entered, plus [`MONTHS_BEFORE_START`].
    pub since: u16,
}

/// Per-agent columns: the hot record and attributes events never touch (12 bytes per agent,
/// plus about 2 for the agent's entry in the calendar). Repatriations are counted as a flow
/// only: the column of repatriations per agent was written by every hand-over and read by
/// nothing.
pub(crate) struct Columns {
    pub core: Vec<Core>,
    /// Birth year.
    pub born: Vec<i16>,
    /// Month of the first exit.
    pub left: Vec<u16>,
}

impl Columns {
    fn with_capacity(n: usize) -> Columns {
        Columns {
            core: Vec::with_capacity(n),
            born: Vec::with_capacity(n),
            left: Vec::with_capacity(n),
        }
    }
}

/// A block of agents with its calendar and this month's local counts.
pub(crate) struct Block {
    pub cols: Columns,
    /// Who wakes up in which month; each agent is in at most one month's list.
    pub calendar: Calendar,
    /// Agents of this block in each state, indexed like [`YearTally::stocks`].
    pub stocks: Vec<i32>,
    /// Flows this year, indexed like [`YearTally::flows`].
    pub flows: Vec<u32>,
    /// People setting out from each place this month.
    pub departures: Vec<u32>,
    /// Events processed.
    pub events: u64,
    pub n_places: usize,
    /// Per waiting queue (hazards that follow drivers): agents whose event falls in a year not
    /// known yet, by the cumulative hazard at which it falls.
    pub waiting: Vec<WaitQueue>,
    /// The agents a January releases from one queue (kept to reuse its space).
    pub released: Vec<Waiting>,
}

impl Block {
    /// An empty block; `keep_beyond` keeps wake-ups past the end of the run (for checks).
    pub fn new(months: u32, n_places: usize, keep_beyond: bool) -> Block {
        Block {
            cols: Columns::with_capacity(BLOCK_SIZE),
            calendar: Calendar::new(months, keep_beyond),
            stocks: vec![0; LifeState::COUNT * n_places * 2],
            flows: vec![0; FlowKind::COUNT * n_places * 2],
            departures: vec![0; n_places],
            events: 0,
            n_places,
            waiting: Vec::new(),
            released: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.cols.core.len()
    }

    pub fn is_full(&self) -> bool {
        self.len() >= BLOCK_SIZE
    }

    /// Whether any agent waits in a queue.
    pub fn has_waiting(&self) -> bool {
        self.waiting.iter().any(|q| !q.is_empty())
    }

    /// Puts agent `i` in waiting queue `q` until the cumulative hazard reaches `threshold`.
    pub fn wait_in_queue(&mut self, q: u16, threshold: f64, i: usize) {
        let q = usize::from(q);
        if self.waiting.len() <= q {
            self.waiting.resize_with(q + 1, WaitQueue::default);
        }
        self.waiting[q].push(Waiting::new(threshold, i as u16));
    }

    /// Appends an agent that entered `state` in `entered` (a month, negative before the run);
    /// returns its local index.
    pub fn push(
        &mut self,
        state: LifeState,
        flags: u8,
        place: u16,
        route: u16,
        entered: i32,
        born: i16,
    ) -> usize {
        let sex = usize::from(flags & FLAG_FEMALE);
        self.stocks[YearTally::stock_index(self.n_places, state, usize::from(place), sex)] += 1;
        let c = &mut self.cols;
        c.core.push(Core {
            state: state as u8,
            flags,
            place,
            route,
            since: (entered + MONTHS_BEFORE_START as i32) as u16,
        });
        c.born.push(born);
        c.left.push(entered.max(0) as u16);
        c.core.len() - 1
    }

    /// Appends an agent of the starting stocks: in `state` at `place` for `waited` months
    /// already (at most [`MONTHS_BEFORE_START`]); its first event is scheduled later.
    pub fn create_initial(
        &mut self,
        state: LifeState,
        place: u16,
        female: bool,
        born: i16,
        waited: u32,
    ) -> usize {
        let mut flags = if female { FLAG_FEMALE } else { 0 };
        if state == LifeState::Resettled {
            flags |= FLAG_CITIZEN;
        }
        let entered = -(waited.min(MONTHS_BEFORE_START) as i32);
        self.push(state, flags, place, 0, entered, born)
    }

    /// The month agent `i` entered its state (negative: before the run).
    #[inline(always)]
    pub fn entered(&self, i: usize) -> i64 {
        i64::from(self.cols.core[i].since) - i64::from(MONTHS_BEFORE_START)
    }

    /// Months agent `i` has been in its state at `month`.
    #[inline(always)]
    pub fn months_in_state(&self, i: usize, month: u32) -> u32 {
        month + MONTHS_BEFORE_START - u32::from(self.cols.core[i].since)
    }

    #[inline]
    pub fn sex(&self, i: usize) -> usize {
        usize::from(self.cols.core[i].flags & FLAG_FEMALE)
    }

    #[inline(always)]
    pub fn count_flow(&mut self, kind: FlowKind, place: u16, sex: usize) {
        let idx = YearTally::flow_index(self.n_places, kind, usize::from(place), sex);
        self.flows[idx] += 1;
    }

    /// Moves agent `i` to `state` at `place`, keeping the stock counts right.
    #[inline(always)]
    pub fn set_state(&mut self, i: usize, state: LifeState, place: u16, month: u32) {
        let n = self.n_places;
        let core = &mut self.cols.core[i];
        let sex = usize::from(core.flags & FLAG_FEMALE);
        let old = usize::from(core.state);
        let was = (old * n + usize::from(core.place)) * 2 + sex;
        core.state = state as u8;
        core.place = place;
        core.since = (month + MONTHS_BEFORE_START) as u16;
        self.stocks[was] -= 1;
        self.stocks[YearTally::stock_index(n, state, usize::from(place), sex)] += 1;
    }

    /// Wakes agent `i` in month `month` (dropped if past the end of the run).
    #[inline(always)]
    pub fn schedule(&mut self, i: usize, month: u32, due: u8) {
        let flags = &mut self.cols.core[i].flags;
        *flags = (*flags & !(FLAG_DUE_HAZARD | FLAG_DUE_REDRAW)) | due;
        self.calendar.push(month, i as u16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes an agent occupies at rest: its record, its other columns, and its calendar entry.
    #[test]
    fn an_agent_takes_at_most_32_bytes() {
        assert_eq!(std::mem::size_of::<Core>(), 8);
        let columns = size_of::<Core>() + size_of::<i16>() + size_of::<u16>();
        let calendar_entry = size_of::<u16>();
        assert_eq!(columns + calendar_entry, 14);
        assert!(columns + calendar_entry <= 32);
    }

    #[test]
    fn set_state_moves_one_count() {
        let mut b = Block::new(12, 3, false);
        let i = b.push(LifeState::Crossing, FLAG_FEMALE, 0, 0, 0, 1980);
        b.set_state(i, LifeState::InTransit, 2, 1);
        let at = |s, p| b.stocks[YearTally::stock_index(3, s, p, 1)];
        assert_eq!(
            (at(LifeState::Crossing, 0), at(LifeState::InTransit, 2)),
            (0, 1)
        );
        assert_eq!(b.stocks.iter().sum::<i32>(), 1);
        assert_eq!(
            b.cols.core[i],
            Core {
                state: LifeState::InTransit as u8,
                flags: FLAG_FEMALE,
                place: 2,
                route: 0,
                since: 1 + MONTHS_BEFORE_START as u16
            }
        );
    }
}
