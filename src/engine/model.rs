//! The engine's input: places, routes and parameters resolved to one value per simulated year.
//!
//! Nothing here knows a country, a file format or a publisher. The `scenario` module compiles a
//! TOML scenario into a [`Model`]; the engine reads only this. Probabilities are per month unless
//! a field says "per trip" or "per decision"; every [`YearSeries`] already has its schedule
//! evaluated and its events applied.

use rand::RngExt;
use rand_distr::{Distribution, Gamma, LogNormal};

use super::rng::Rng;

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
    /// Elasticity of exit with respect to the resettled stock (network/broker effect).
    pub network_elasticity: YearSeries,
    /// Resettled stock scale (persons) in the network factor `(1 + stock/scale)^elasticity`.
    pub network_scale: f64,
    /// Probability that a crossing attempt is caught at the border.
    pub border_enforcement: YearSeries,
    /// Share of would-be leavers deterred by pressure on families left behind.
    pub family_pressure: YearSeries,
    /// Share of the network feedback cut by the regime (phone and remittance crackdowns).
    pub link_suppression: YearSeries,
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
    /// Destination network: host stock (persons) scale in `(1 + stock/scale)^elasticity`.
    pub network_scale: f64,
    /// Destination network elasticity.
    pub network_elasticity: f64,
    /// Exponent on perceived acceptance in destination choice.
    pub acceptance_weight: f64,
    /// Years by which perceived acceptance lags actual acceptance.
    pub acceptance_lag_years: u32,
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
    /// Monthly probability that a protected person leaves the host.
    pub departure: YearSeries,
    /// Monthly probability of death.
    pub death: YearSeries,
    /// Route taken by removed people.
    pub removal_route: Option<RouteId>,
    /// Route taken by protected people who leave.
    pub departure_route: Option<RouteId>,
    /// Persons per year resettled from transit (referrals), reached in expectation.
    pub resettlement_quota: YearSeries,
    /// Route referrals travel on (from a transit place to this host).
    pub resettlement_route: Option<RouteId>,
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
