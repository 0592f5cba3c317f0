//! The engine's input: places, routes and parameters resolved to one value per simulated year.
//!
//! Nothing here knows a country, a file format or a publisher. The `scenario` module compiles a
//! TOML scenario into a [`Model`]; the engine reads only this. Probabilities are per month unless
//! a field says "per trip" or "per decision"; every [`YearSeries`] already has its schedule
//! evaluated and its events applied.

use rand::RngExt;
use rand_distr::{Distribution, Gamma, LogNormal};

use super::rng::Rng;
use super::tally::{FlowKind, LifeState};

/// Index of a place in [`Model::places`].
pub type PlaceId = u16;
/// Index of a route in [`Model::routes`].
pub type RouteId = u16;

/// One value per simulated year; index 0 is [`Model::start_year`].
pub type YearSeries = Vec<f64>;

/// What a place is in the migration system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceKind {
    /// Where people leave from.
    Origin,
    /// Where people hide, work and wait; they may be arrested, die, move on or go back.
    Transit,
    /// Where people are resettled as citizens (and counted as arrivals).
    Resettlement,
    /// A third country where asylum is claimed.
    Host,
}

/// A place in the graph.
#[derive(Clone, Debug)]
pub struct Place {
    /// Identifier used in outputs (an ISO3 code where the place is a country).
    pub id: String,
    /// Role of the place.
    pub kind: PlaceKind,
}

/// A waiting time in whole months (at least one).
#[derive(Clone, Debug)]
pub enum Duration {
    /// Always this many months.
    Fixed(u32),
    /// Uniform on the integers `min..=max`.
    Uniform { min: u32, max: u32 },
    /// Gamma distributed, rounded to the nearest month.
    Gamma(Gamma<f64>),
    /// Log-normally distributed, rounded to the nearest month.
    LogNormal(LogNormal<f64>),
}

impl Duration {
    /// Draws a duration in months, never less than one. (Fixed and uniform durations are
    /// inlined where they are drawn; the continuous ones are not.)
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> u32 {
        let months = match self {
            Duration::Fixed(m) => *m,
            Duration::Uniform { min, max } => rng.random_range(*min..=*max),
            continuous => continuous.sample_continuous(rng),
        };
        months.max(1)
    }

    /// Draws a duration in months that may be zero (time already spent in a state).
    pub fn sample_from_zero(&self, rng: &mut Rng) -> u32 {
        match self {
            Duration::Fixed(m) => *m,
            Duration::Uniform { min, max } => rng.random_range(*min..=*max),
            Duration::Gamma(g) => g.sample(rng).round().clamp(0.0, 60_000.0) as u32,
            Duration::LogNormal(l) => l.sample(rng).round().clamp(0.0, 60_000.0) as u32,
        }
    }

    #[inline(never)]
    fn sample_continuous(&self, rng: &mut Rng) -> u32 {
        match self {
            Duration::Gamma(g) => round_months(g.sample(rng)),
            Duration::LogNormal(l) => round_months(l.sample(rng)),
            Duration::Fixed(m) => *m,
            Duration::Uniform { min, .. } => *min,
        }
    }
}

fn round_months(x: f64) -> u32 {
    // Saturating float-to-int conversion; anything beyond u16 months is past any run's end.
    x.round().clamp(1.0, 60_000.0) as u32
}

/// A link between two places.
#[derive(Clone, Debug)]
pub struct Route {
    /// Identifier used in messages.
    pub id: String,
    /// Where the trip starts.
    pub from: PlaceId,
    /// Where the trip ends.
    pub to: PlaceId,
    /// Time on the road.
    pub duration: Duration,
    /// Probability of arrest during one trip (by year the trip ends).
    pub arrest: YearSeries,
    /// Probability of death during one trip.
    pub death: YearSeries,
    /// Cost of the trip in the scenario's currency unit; lowers route choice.
    pub cost: f64,
    /// Choice weight; zero in years the route is closed.
    pub weight: YearSeries,
    /// Where people arrested on this trip are taken; `None` means repatriation to the origin.
    pub arrest_route: Option<RouteId>,
}

/// Age of leavers: probability mass per band, uniform within a band.
#[derive(Clone, Debug)]
pub struct AgeBands {
    /// Band edges in years, increasing; band `i` is `edges[i]..edges[i+1]`.
    pub edges: Vec<f64>,
    /// Cumulative probability at the end of each band (last is 1).
    pub cumulative: Vec<f64>,
}

impl AgeBands {
    /// The age at uniform `u` in [0, 1): the band `u` falls in, and within the band the
    /// position of `u` in it (uniform again, so one draw serves both).
    pub fn at(&self, u: f64) -> f64 {
        let band = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cumulative.len() - 1);
        let below = if band == 0 {
            0.0
        } else {
            self.cumulative[band - 1]
        };
        let within = ((u - below) / (self.cumulative[band] - below)).clamp(0.0, 1.0);
        let (lo, hi) = (self.edges[band], self.edges[band + 1]);
        lo + (hi - lo) * within
    }

    /// Draws an age in years.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        self.at(rng.random())
    }
}

/// Exit from the origin and the origin regime's deterrence.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The origin place.
    pub place: PlaceId,
    /// People at risk of leaving.
    pub population: YearSeries,
    /// Exit attempts per person per month before multipliers.
    pub base_rate: YearSeries,
    /// Push multiplier (famine, economic shocks).
    pub push: YearSeries,
    /// Share of leavers who are female.
    pub female_share: YearSeries,
    /// Age of leavers.
    pub age: AgeBands,
    /// Probability that a crossing attempt is caught at the border.
    pub border_enforcement: YearSeries,
    /// Share of would-be leavers deterred by pressure on families left behind.
    pub family_pressure: YearSeries,
    /// Time from arrest to hand-over to the origin.
    pub detention: Duration,
    /// Probability of dying in detention or punishment.
    pub detention_death: YearSeries,
    /// Time punished after repatriation before a new attempt is possible.
    pub punishment: Duration,
    /// Probability of trying again after punishment.
    pub reattempt: YearSeries,
}

/// Behaviour of people hiding at a transit place (monthly probabilities).
#[derive(Clone, Debug)]
pub struct Transit {
    /// Arrest (and repatriation unless `arrest_route` says otherwise).
    pub arrest: YearSeries,
    /// Death.
    pub death: YearSeries,
    /// Setting out on a route.
    pub move_on: YearSeries,
    /// Going back to the origin voluntarily.
    pub return_home: YearSeries,
    /// Claiming asylum where they are (the place must also be a host).
    pub claim_asylum: YearSeries,
    /// Route choice penalty per 1000 cost units: weight × exp(−sensitivity × cost / 1000).
    pub cost_sensitivity: YearSeries,
    /// Where arrested people are taken; `None` means repatriation to the origin.
    pub arrest_route: Option<RouteId>,
    /// Multipliers of women's hazards: arrest, death, move on, return home, claim.
    pub female: [f64; 5],
}

/// Life in the resettlement country.
#[derive(Clone, Debug)]
pub struct Resettlement {
    /// Months in the settlement programme, during which nobody moves on.
    pub programme_months: u32,
    /// Monthly probability of death.
    pub death: YearSeries,
    /// Monthly probability of returning to the origin.
    pub return_to_origin: YearSeries,
    /// Monthly probability of considering onward migration (calendar part).
    pub onward: YearSeries,
    /// Multiplier of `onward` by months since arrival: `(start_month, value)`, steps, first at 0.
    pub onward_by_duration: Vec<(u32, f64)>,
    /// Multipliers of women's hazards: death, return, onward.
    pub female: [f64; 3],
}

/// Asylum and life in a host country.
#[derive(Clone, Debug)]
pub struct Host {
    /// Pull of the host in destination choice.
    pub attraction: YearSeries,
    /// Probability a decided claim is recognised (refugee status).
    pub recognition: YearSeries,
    /// Probability a decided claim gets complementary protection.
    pub complementary: YearSeries,
    /// Probability a claim is closed without a substantive decision.
    pub closed: YearSeries,
    /// Probability the host detects prior citizenship of the resettlement country.
    pub citizenship_check: YearSeries,
    /// Factor by which detection cuts recognition and complementary protection.
    pub check_effect: YearSeries,
    /// Time from claim to decision.
    pub processing: Duration,
    /// Probability a rejected or closed claimant is removed.
    pub removal: YearSeries,
    /// Monthly probability that someone staying irregularly is removed later.
    pub irregular_removal: YearSeries,
    /// Monthly probability of naturalisation once eligible.
    pub naturalisation: YearSeries,
    /// Months of protected status before naturalisation is possible.
    pub naturalisation_min_months: u32,
    /// Monthly probability that a protected person leaves the host (by the choice rule).
    pub departure: YearSeries,
    /// Monthly probability that a protected person loses the status.
    pub cessation: YearSeries,
    /// Whether loss of status sends people back to the origin (else they stay irregularly).
    pub cessation_to_origin: bool,
    /// Share of (non-referred) arrivals registered as refugees without an individual claim.
    pub prima_facie: YearSeries,
    /// Monthly probability that someone staying irregularly moves on (by the choice rule).
    pub irregular_departure: YearSeries,
    /// Monthly probability of death.
    pub death: YearSeries,
    /// Route taken by removed people.
    pub removal_route: Option<RouteId>,
    /// Persons per year resettled from transit (referrals), reached in expectation.
    pub resettlement_quota: YearSeries,
    /// Route referrals travel on (from a transit place to this host).
    pub resettlement_route: Option<RouteId>,
    /// Multipliers of women's hazards: death, departure, naturalisation, cessation, irregular
    /// removal, irregular departure.
    pub female: [f64; 6],
}

/// A quantity the model tracks and drivers read.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    /// Persons in any of `states` at any of `places` at the end of a month.
    Stock {
        /// Life states counted.
        states: Vec<LifeState>,
        /// Places counted.
        places: Vec<PlaceId>,
    },
    /// Persons counted by `kind` at any of `places` over `window` months.
    Flow {
        /// Flow counted.
        kind: FlowKind,
        /// Places counted.
        places: Vec<PlaceId>,
        /// Months summed.
        window: u32,
    },
}

/// How a driver turns the quantity `S` into a multiplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverForm {
    /// `(1 + S/scale)^strength`.
    Power,
    /// `1 + strength · S/(S + scale)`.
    Saturating,
}

/// A multiplier of a parameter that follows a quantity of the model, read `lag_months` before
/// the January of each year and held for that year.
#[derive(Clone, Debug)]
pub struct Driver {
    /// Index into [`Model::quantities`].
    pub quantity: usize,
    /// Months between the end of the counted period and the January the multiplier acts from.
    pub lag_months: u32,
    /// Shape of the multiplier.
    pub form: DriverForm,
    /// Scale of `S` (persons).
    pub scale: f64,
    /// Elasticity (power) or cap (saturating), per year (events may scale it).
    pub strength: YearSeries,
}

impl Driver {
    /// The multiplier in year index `y` for a quantity `s` (persons).
    pub fn multiplier(&self, y: usize, s: f64) -> f64 {
        let s = s.max(0.0);
        match self.form {
            DriverForm::Power => (1.0 + s / self.scale).powf(self.strength[y]),
            DriverForm::Saturating => 1.0 + self.strength[y] * s / (s + self.scale),
        }
    }
}

/// A time-varying parameter of the model, addressed by section and field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamRef {
    /// `routes.<id>.arrest`, `.death`, `.weight`.
    Route(RouteId, RouteParam),
    /// `exit.*` and `deterrence.*`.
    Origin(OriginParam),
    /// `transit.<place>.*`.
    Transit(PlaceId, TransitParam),
    /// `resettlement.<place>.*`.
    Resettlement(PlaceId, ResettlementParam),
    /// `hosts.<place>.*`.
    Host(PlaceId, HostParam),
}

/// A route's time-varying parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum RouteParam {
    Arrest,
    Death,
    Weight,
}

/// The origin's and its regime's time-varying parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum OriginParam {
    Population,
    BaseRate,
    Push,
    FemaleShare,
    BorderEnforcement,
    FamilyPressure,
    DetentionDeath,
    Reattempt,
}

/// A transit place's time-varying parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum TransitParam {
    Arrest,
    Death,
    MoveOn,
    ReturnHome,
    ClaimAsylum,
    CostSensitivity,
}

/// A resettlement place's time-varying parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum ResettlementParam {
    Death,
    ReturnToOrigin,
    Onward,
}

/// A host's time-varying parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum HostParam {
    Attraction,
    Recognition,
    Complementary,
    Closed,
    CitizenshipCheck,
    CheckEffect,
    Removal,
    IrregularRemoval,
    Naturalisation,
    Departure,
    Cessation,
    PrimaFacie,
    IrregularDeparture,
    Death,
    ResettlementQuota,
}

impl ParamRef {
    /// Whether the parameter is a monthly probability (a driver then scales its hazard,
    /// `1 − (1 − p)^m`, so it stays a probability); other probabilities are capped at 1.
    pub fn is_monthly(self) -> bool {
        match self {
            ParamRef::Route(..) | ParamRef::Origin(_) => false,
            ParamRef::Transit(_, t) => t != TransitParam::CostSensitivity,
            ParamRef::Resettlement(..) => true,
            ParamRef::Host(_, h) => matches!(
                h,
                HostParam::IrregularRemoval
                    | HostParam::Naturalisation
                    | HostParam::Departure
                    | HostParam::Cessation
                    | HostParam::IrregularDeparture
                    | HostParam::Death
            ),
        }
    }

    /// Whether the parameter is a probability.
    pub fn is_probability(self) -> bool {
        match self {
            ParamRef::Route(_, r) => r != RouteParam::Weight,
            ParamRef::Origin(o) => !matches!(
                o,
                OriginParam::Population | OriginParam::BaseRate | OriginParam::Push
            ),
            ParamRef::Transit(_, t) => t != TransitParam::CostSensitivity,
            ParamRef::Resettlement(..) => true,
            ParamRef::Host(_, h) => {
                !matches!(h, HostParam::Attraction | HostParam::ResettlementQuota)
            }
        }
    }

    /// The value of year `y` after a multiplier `m`.
    pub fn scaled(self, value: f64, m: f64) -> f64 {
        if self.is_monthly() && value < 1.0 {
            1.0 - (1.0 - value).powf(m)
        } else if self.is_probability() {
            (value * m).min(1.0)
        } else {
            value * m
        }
    }
}

/// A parameter whose yearly values follow drivers.
#[derive(Clone, Debug)]
pub struct DrivenParam {
    /// The parameter.
    pub target: ParamRef,
    /// Its yearly values before drivers (schedule and events).
    pub base: YearSeries,
    /// Its drivers; their multipliers are multiplied.
    pub drivers: Vec<Driver>,
}

/// The destination network of the choice rule: `(1 + S/scale)^elasticity` with `S` the
/// people in some states at the route's destination.
#[derive(Clone, Debug)]
pub struct ChoiceNetwork {
    /// Per place: index into [`Model::quantities`] of the stock counted there (hosts only).
    pub quantity: Vec<Option<usize>>,
    /// Persons.
    pub scale: f64,
    /// Elasticity per year.
    pub elasticity: YearSeries,
    /// Months between the count and the January it acts from.
    pub lag_months: u32,
}

/// How movers choose among the routes leaving a place.
#[derive(Clone, Debug, Default)]
pub struct Choice {
    /// Exponent on perceived acceptance.
    pub acceptance_weight: f64,
    /// Years by which perceived acceptance lags.
    pub acceptance_lag_years: u32,
    /// The destination network, if any.
    pub network: Option<ChoiceNetwork>,
}

/// People in the system when the run starts.
#[derive(Clone, Debug)]
pub struct InitialStock {
    /// Where they are.
    pub place: PlaceId,
    /// Their state (a living state outside the origin, not on a route).
    pub state: LifeState,
    /// Number of agents.
    pub agents: u64,
    /// Share who are female.
    pub female_share: f64,
    /// Ages.
    pub age: AgeBands,
    /// Months already spent in the state (zero allowed).
    pub months_in_state: Duration,
}

/// Everything the engine needs to simulate one scenario.
#[derive(Clone, Debug)]
pub struct Model {
    /// Calendar year of the first simulated month (January).
    pub start_year: i32,
    /// Number of simulated years; the run has `12 * n_years` months.
    pub n_years: usize,
    /// Persons represented by one agent.
    pub persons_per_agent: u32,
    /// All places.
    pub places: Vec<Place>,
    /// All routes.
    pub routes: Vec<Route>,
    /// The origin and its regime.
    pub origin: Origin,
    /// Transit behaviour, indexed by place (`None` where the place is not a transit place).
    pub transit: Vec<Option<Transit>>,
    /// Resettlement, indexed by place.
    pub resettlement: Vec<Option<Resettlement>>,
    /// Host behaviour, indexed by place (transit places may be hosts too).
    pub hosts: Vec<Option<Host>>,
    /// How movers choose routes.
    pub choice: Choice,
    /// Quantities read by drivers.
    pub quantities: Vec<Quantity>,
    /// Parameters that follow drivers, each at most once.
    pub driven: Vec<DrivenParam>,
    /// People present at the start.
    pub initial: Vec<InitialStock>,
}

impl Model {
    /// Number of simulated months.
    pub fn months(&self) -> u32 {
        (self.n_years * 12) as u32
    }

    /// Calendar year of a year index.
    pub fn year(&self, index: usize) -> i32 {
        self.start_year + index as i32
    }

    /// Whether a parameter follows drivers.
    pub fn is_driven(&self, p: ParamRef) -> bool {
        self.driven.iter().any(|d| d.target == p)
    }

    /// Whether anything about choice or hazards changes with the model's own state.
    pub fn has_feedback(&self) -> bool {
        !self.driven.is_empty() || self.choice.network.is_some()
    }

    /// The yearly values of a parameter, to change (a run's own copy of the model).
    pub fn series_mut(&mut self, p: ParamRef) -> &mut YearSeries {
        match p {
            ParamRef::Route(r, f) => {
                let r = &mut self.routes[usize::from(r)];
                match f {
                    RouteParam::Arrest => &mut r.arrest,
                    RouteParam::Death => &mut r.death,
                    RouteParam::Weight => &mut r.weight,
                }
            }
            ParamRef::Origin(f) => {
                let o = &mut self.origin;
                match f {
                    OriginParam::Population => &mut o.population,
                    OriginParam::BaseRate => &mut o.base_rate,
                    OriginParam::Push => &mut o.push,
                    OriginParam::FemaleShare => &mut o.female_share,
                    OriginParam::BorderEnforcement => &mut o.border_enforcement,
                    OriginParam::FamilyPressure => &mut o.family_pressure,
                    OriginParam::DetentionDeath => &mut o.detention_death,
                    OriginParam::Reattempt => &mut o.reattempt,
                }
            }
            ParamRef::Transit(p, f) => {
                let t = self.transit[usize::from(p)]
                    .as_mut()
                    .expect("transit place");
                match f {
                    TransitParam::Arrest => &mut t.arrest,
                    TransitParam::Death => &mut t.death,
                    TransitParam::MoveOn => &mut t.move_on,
                    TransitParam::ReturnHome => &mut t.return_home,
                    TransitParam::ClaimAsylum => &mut t.claim_asylum,
                    TransitParam::CostSensitivity => &mut t.cost_sensitivity,
                }
            }
            ParamRef::Resettlement(p, f) => {
                let r = self.resettlement[usize::from(p)]
                    .as_mut()
                    .expect("resettlement place");
                match f {
                    ResettlementParam::Death => &mut r.death,
                    ResettlementParam::ReturnToOrigin => &mut r.return_to_origin,
                    ResettlementParam::Onward => &mut r.onward,
                }
            }
            ParamRef::Host(p, f) => {
                host_series_mut(self.hosts[usize::from(p)].as_mut().expect("host"), f)
            }
        }
    }
}

fn host_series_mut(h: &mut Host, f: HostParam) -> &mut YearSeries {
    match f {
        HostParam::Attraction => &mut h.attraction,
        HostParam::Recognition => &mut h.recognition,
        HostParam::Complementary => &mut h.complementary,
        HostParam::Closed => &mut h.closed,
        HostParam::CitizenshipCheck => &mut h.citizenship_check,
        HostParam::CheckEffect => &mut h.check_effect,
        HostParam::Removal => &mut h.removal,
        HostParam::IrregularRemoval => &mut h.irregular_removal,
        HostParam::Naturalisation => &mut h.naturalisation,
        HostParam::Departure => &mut h.departure,
        HostParam::Cessation => &mut h.cessation,
        HostParam::PrimaFacie => &mut h.prima_facie,
        HostParam::IrregularDeparture => &mut h.irregular_departure,
        HostParam::Death => &mut h.death,
        HostParam::ResettlementQuota => &mut h.resettlement_quota,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_uniform_gives_band_and_position_in_it() {
        let bands = AgeBands {
            edges: vec![0.0, 10.0, 20.0],
            cumulative: vec![0.25, 1.0],
        };
        assert_eq!(bands.at(0.0), 0.0);
        assert_eq!(bands.at(0.125), 5.0);
        assert_eq!(bands.at(0.25), 10.0);
        assert_eq!(bands.at(0.625), 15.0);
        assert!(bands.at(0.999_999) < 20.0);
    }
}
