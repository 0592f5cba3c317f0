//! What the engine counts: life states (stocks) and flows, by place and sex, per year.
//!
//! These are the simulated truth. The `observe` module turns them into published-style series.

/// The state an agent is in; every agent is in exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum LifeState {
    /// On a route out of the origin.
    Crossing = 0,
    /// Hiding, working or married at a transit place.
    InTransit = 1,
    /// On a route between places outside the origin.
    Travelling = 2,
    /// Arrested, awaiting hand-over to the origin.
    Detained = 3,
    /// Back in the origin after repatriation (punished; may try again).
    Repatriated = 4,
    /// Living in the resettlement country as a citizen.
    Resettled = 5,
    /// Asylum claim pending in a host.
    AsylumSeeker = 6,
    /// Recognised as a refugee in a host.
    Refugee = 7,
    /// Holding complementary protection in a host.
    Complementary = 8,
    /// Rejected or closed, staying in a host without status.
    Irregular = 9,
    /// Naturalised in a host.
    Naturalised = 10,
    /// Returned to the origin of their own accord.
    Returned = 11,
    /// Dead.
    Dead = 12,
}

impl LifeState {
    /// All states, in index order.
    pub const ALL: [LifeState; 13] = [
        LifeState::Crossing,
        LifeState::InTransit,
        LifeState::Travelling,
        LifeState::Detained,
        LifeState::Repatriated,
        LifeState::Resettled,
        LifeState::AsylumSeeker,
        LifeState::Refugee,
        LifeState::Complementary,
        LifeState::Irregular,
        LifeState::Naturalised,
        LifeState::Returned,
        LifeState::Dead,
    ];
    /// Number of states.
    pub const COUNT: usize = 13;

    /// Snake-case name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            LifeState::Crossing => "crossing",
            LifeState::InTransit => "in_transit",
            LifeState::Travelling => "travelling",
            LifeState::Detained => "detained",
            LifeState::Repatriated => "repatriated",
            LifeState::Resettled => "resettled",
            LifeState::AsylumSeeker => "asylum_seeker",
            LifeState::Refugee => "refugee",
            LifeState::Complementary => "complementary_protection",
            LifeState::Irregular => "irregular",
            LifeState::Naturalised => "naturalised",
            LifeState::Returned => "returned",
            LifeState::Dead => "dead",
        }
    }

    /// The state with this index.
    pub fn from_index(i: u8) -> Option<LifeState> {
        LifeState::ALL.get(usize::from(i)).copied()
    }

    /// Living in a host country (any status).
    pub fn in_host(self) -> bool {
        matches!(
            self,
            LifeState::AsylumSeeker
                | LifeState::Refugee
                | LifeState::Complementary
                | LifeState::Irregular
                | LifeState::Naturalised
        )
    }
}

/// Events counted per year, by place and sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum FlowKind {
    /// New crossing attempts from the origin (first attempts).
    ExitAttempts = 0,
    /// Crossing attempts by people repatriated before.
    Reattempts = 1,
    /// Arrivals at a place: every arrival at a transit place or a host, and first entries into
    /// a resettlement place (by people not yet its citizens).
    Arrivals = 2,
    /// Asylum claims lodged in a host.
    Applications = 3,
    /// Claims recognised.
    DecisionsRecognized = 4,
    /// Claims given complementary protection.
    DecisionsComplementary = 5,
    /// Claims rejected.
    DecisionsRejected = 6,
    /// Claims closed without a substantive decision.
    DecisionsClosed = 7,
    /// Arrests, by place of arrest (the origin for border catches).
    Arrests = 8,
    /// Hand-overs to the origin, by place of arrest.
    Repatriations = 9,
    /// Deaths while crossing, travelling or hiding in transit, by place.
    DeathsInTransit = 10,
    /// All deaths, by place.
    Deaths = 11,
    /// Departures from the resettlement country, by destination.
    OnwardDepartures = 12,
    /// Returns to the origin, by place left.
    Returns = 13,
    /// Naturalisations, by host.
    Naturalisations = 14,
    /// Arrivals of referred refugees (resettlement quotas), by host.
    ResettlementArrivals = 15,
    /// Removals of rejected people, by host.
    Removals = 16,
    /// People setting out on a route from a transit place, by place.
    TransitDepartures = 17,
    /// Arrivals registered as refugees on a group basis (prima facie), by host.
    GroupRecognitions = 18,
    /// Losses of refugee or complementary status (cessation, withdrawal), by host.
    Cessations = 19,
    /// Departures of protected or irregular people from a host, by host.
    HostDepartures = 20,
}

impl FlowKind {
    /// Number of flow kinds.
    pub const COUNT: usize = 21;
}

/// Sex index used in tallies.
pub const FEMALE: usize = 1;
/// Sex index used in tallies.
pub const MALE: usize = 0;

/// Counts for one year: flows during the year and stocks at its end, in persons.
#[derive(Clone, Debug)]
pub struct YearTally {
    /// Calendar year.
    pub year: i32,
    /// Number of places (the stride of the tables).
    pub n_places: usize,
    /// Flows, indexed by [`YearTally::flow_index`].
    pub flows: Vec<u64>,
    /// Stocks at the end of December, indexed by [`YearTally::stock_index`].
    pub stocks: Vec<u64>,
}

impl YearTally {
    /// Index of `(kind, place, sex)` in `flows`.
    #[inline]
    pub fn flow_index(n_places: usize, kind: FlowKind, place: usize, sex: usize) -> usize {
        ((kind as usize) * n_places + place) * 2 + sex
    }

    /// Index of `(state, place, sex)` in `stocks`.
    #[inline]
    pub fn stock_index(n_places: usize, state: LifeState, place: usize, sex: usize) -> usize {
        ((state as usize) * n_places + place) * 2 + sex
    }

    /// A flow for one sex.
    pub fn flow(&self, kind: FlowKind, place: usize, sex: usize) -> u64 {
        self.flows[Self::flow_index(self.n_places, kind, place, sex)]
    }

    /// A flow for both sexes.
    pub fn flow_total(&self, kind: FlowKind, place: usize) -> u64 {
        self.flow(kind, place, MALE) + self.flow(kind, place, FEMALE)
    }

    /// A stock for one sex.
    pub fn stock(&self, state: LifeState, place: usize, sex: usize) -> u64 {
        self.stocks[Self::stock_index(self.n_places, state, place, sex)]
    }

    /// A stock for both sexes.
    pub fn stock_total(&self, state: LifeState, place: usize) -> u64 {
        self.stock(state, place, MALE) + self.stock(state, place, FEMALE)
    }

    /// A state's stock summed over places and sexes.
    pub fn state_total(&self, state: LifeState) -> u64 {
        (0..self.n_places).map(|p| self.stock_total(state, p)).sum()
    }
}

/// Receives the engine's tallies as a replicate runs.
pub trait Observer {
    /// Called once per simulated year, in order, after December.
    fn year_end(&mut self, tally: &YearTally);

    /// Whether the observer needs no later year: the run then stops after this year's end
    /// (e.g. a calibration that has compared every year it fits, or a proposal already too far
    /// from the data to be accepted). The years before are simulated exactly as in a full run.
    fn done(&self) -> bool {
        false
    }
}

/// An observer that keeps every year's tally.
#[derive(Default, Clone, Debug)]
pub struct KeepAll {
    /// The tallies, one per year, in order.
    pub years: Vec<YearTally>,
}

impl Observer for KeepAll {
    fn year_end(&mut self, tally: &YearTally) {
        self.years.push(tally.clone());
    }
}
