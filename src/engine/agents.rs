//! Agents, stored column-wise in fixed-size blocks, each block with its own event calendar.
//!
//! A block owns [`BLOCK_SIZE`] consecutive agents (by creation order), their columns, a calendar
//! of who wakes up in which month, and the counts its agents changed this month. Blocks are the
//! unit of parallel work: the agents of one block never touch another block, and each block
//! draws from its own random stream, so the thread count cannot change a result.

use super::tally::{FlowKind, LifeState, YearTally};

/// Agents per block. Part of the random-stream layout: changing it changes results.
pub const BLOCK_SIZE: usize = 1 << 14;

/// Flag bit: female.
pub const FLAG_FEMALE: u8 = 1;
/// Flag bit: holds citizenship of a resettlement country.
pub const FLAG_CITIZEN: u8 = 2;
/// Flag bit: travelling as a referred (quota) refugee.
pub const FLAG_REFERRAL: u8 = 4;

/// What a scheduled wake-up is for.
pub const DUE_TIMER: u8 = 0;
/// What a scheduled wake-up is for.
pub const DUE_HAZARD: u8 = 1;

/// Per-agent columns (14 bytes per agent, plus 2 in the calendar).
#[derive(Default)]
pub(crate) struct Columns {
    pub state: Vec<u8>,
    pub flags: Vec<u8>,
    pub place: Vec<u16>,
    pub route: Vec<u16>,
    /// Month the current state was entered.
    pub since: Vec<u16>,
    /// Birth year.
    pub born: Vec<i16>,
    /// Month of the first exit.
    pub left: Vec<u16>,
    /// Times repatriated.
    pub repatriations: Vec<u8>,
    /// Whether the next wake-up ends a timed phase or is a hazard event.
    pub due: Vec<u8>,
}

/// A block of agents with its calendar and this month's local counts.
pub(crate) struct Block {
    pub cols: Columns,
    /// `calendar[m]` lists the agents (local index) that wake up in month `m`.
    pub calendar: Vec<Vec<u16>>,
    /// Stock changes this month, indexed like [`YearTally::stocks`].
    pub stock_delta: Vec<i32>,
    /// Flows this year, indexed like [`YearTally::flows`].
    pub flows: Vec<u32>,
    /// People setting out from each place this month.
    pub departures: Vec<u32>,
    /// Whether `stock_delta`/`departures` hold anything this month.
    pub touched: bool,
    /// Events processed.
    pub events: u64,
    pub n_places: usize,
}

impl Block {
    pub fn new(months: u32, n_places: usize) -> Block {
        Block {
            cols: Columns::default(),
            calendar: vec![Vec::new(); months as usize],
            stock_delta: vec![0; LifeState::COUNT * n_places * 2],
            flows: vec![0; FlowKind::COUNT * n_places * 2],
            departures: vec![0; n_places],
            touched: false,
            events: 0,
            n_places,
        }
    }

    pub fn len(&self) -> usize {
        self.cols.state.len()
    }

    pub fn is_full(&self) -> bool {
        self.len() >= BLOCK_SIZE
    }

    /// Appends an agent; returns its local index.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        state: LifeState,
        flags: u8,
        place: u16,
        route: u16,
        month: u16,
        born: i16,
    ) -> usize {
        let c = &mut self.cols;
        c.state.push(state as u8);
        c.flags.push(flags);
        c.place.push(place);
        c.route.push(route);
        c.since.push(month);
        c.born.push(born);
        c.left.push(month);
        c.repatriations.push(0);
        c.due.push(DUE_TIMER);
        c.state.len() - 1
    }

    #[inline]
    pub fn sex(&self, i: usize) -> usize {
        usize::from(self.cols.flags[i] & FLAG_FEMALE)
    }

    #[inline]
    pub fn count_flow(&mut self, kind: FlowKind, place: u16, sex: usize) {
        let idx = YearTally::flow_index(self.n_places, kind, usize::from(place), sex);
        self.flows[idx] += 1;
    }

    /// Moves agent `i` to `state` at `place`, keeping the stock counts right.
    #[inline]
    pub fn set_state(&mut self, i: usize, state: LifeState, place: u16, month: u32) {
        let sex = self.sex(i);
        let old = LifeState::from_index(self.cols.state[i]).expect("valid state");
        let n = self.n_places;
        self.stock_delta[YearTally::stock_index(n, old, usize::from(self.cols.place[i]), sex)] -= 1;
        self.stock_delta[YearTally::stock_index(n, state, usize::from(place), sex)] += 1;
        self.touched = true;
        self.cols.state[i] = state as u8;
        self.cols.place[i] = place;
        self.cols.since[i] = month as u16;
    }

    /// Wakes agent `i` in month `month` (dropped if past the end of the run).
    #[inline]
    pub fn schedule(&mut self, i: usize, month: u32, due: u8) {
        self.cols.due[i] = due;
        if let Some(bucket) = self.calendar.get_mut(month as usize) {
            bucket.push(i as u16);
        }
    }
}
