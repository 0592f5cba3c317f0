//! The scenario file, field for field: a serde mirror of the TOML with every default explicit.
//!
//! Unknown keys are refused (`deny_unknown_fields`). Nothing here is validated beyond types;
//! `compile` checks values and builds the engine's model. Serialising a `RawScenario` gives the
//! *resolved* scenario: the same document with every default written out, which is what `--set`
//! paths are checked against.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::param::{Param, RawDuration, RawState};

/// What a parameter's values may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A probability in [0, 1].
    Probability,
    /// A number ≥ 0.
    NonNegative,
    /// A number > 0.
    Positive,
    /// Any finite number.
    Real,
}

impl Domain {
    /// Whether `v` is allowed.
    pub fn admits(self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Domain::Probability => (0.0..=1.0).contains(&v),
                Domain::NonNegative => v >= 0.0,
                Domain::Positive => v > 0.0,
                Domain::Real => true,
            }
    }

    /// "expected …" wording.
    pub fn expected(self) -> &'static str {
        match self {
            Domain::Probability => "a probability in [0, 1]",
            Domain::NonNegative => "a number >= 0",
            Domain::Positive => "a number > 0",
            Domain::Real => "a finite number",
        }
    }
}

fn one() -> Param {
    Param::Const(1.0)
}
fn zero() -> Param {
    Param::Const(0.0)
}
fn half() -> Param {
    Param::Const(0.5)
}
fn one_u32() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn month() -> String {
    "month".into()
}
fn fixed(months: f64) -> RawDuration {
    RawDuration::Fixed { months }
}

/// The whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Short name; the default output folder is `output/<name>/`.
    pub name: String,
    /// One line saying what the scenario is.
    #[serde(default)]
    pub description: String,
    /// Years, step, seed, replicates, scale.
    pub run: RawRun,
    /// Places by id.
    pub places: BTreeMap<String, RawPlace>,
    /// Routes by id.
    #[serde(default)]
    pub routes: BTreeMap<String, RawRoute>,
    /// Leaving the origin.
    pub exit: RawExit,
    /// The origin regime's deterrence.
    #[serde(default)]
    pub deterrence: RawDeterrence,
    /// Behaviour at transit places, by place id.
    #[serde(default)]
    pub transit: BTreeMap<String, RawTransit>,
    /// Resettlement, by place id.
    #[serde(default)]
    pub resettlement: BTreeMap<String, RawResettlement>,
    /// Asylum hosts, by place id.
    #[serde(default)]
    pub hosts: BTreeMap<String, RawHost>,
    /// Named windows of years that scale parameters.
    #[serde(default)]
    pub events: BTreeMap<String, RawEvent>,
    /// Which series a run produces.
    #[serde(default)]
    pub observation: RawObservation,
    /// How movers choose among the routes leaving a place.
    #[serde(default)]
    pub choice: RawChoice,
    /// People already in the system at the start of the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initial: Vec<RawInitial>,
    /// The observed data this scenario is compared with: project data folders, UNHCR-layout
    /// tables or tidy CSV files, relative to the scenario file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed: Vec<String>,
}

/// `[run]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// First simulated year (from January).
    pub start_year: i32,
    /// Last simulated year (to December), inclusive.
    pub end_year: i32,
    /// Time step; only `"month"` is supported.
    #[serde(default = "month")]
    pub step: String,
    /// Master seed (0 ..= 2^63 − 1).
    #[serde(default)]
    pub seed: u64,
    /// Independent replicates.
    #[serde(default = "one_u32")]
    pub replicates: u32,
    /// Persons represented by one agent.
    #[serde(default = "one_u32")]
    pub persons_per_agent: u32,
}

/// Role of a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawPlaceKind {
    /// Where people leave from (exactly one).
    Origin,
    /// Where people hide and wait.
    Transit,
    /// Where people become citizens.
    Resettlement,
    /// Where asylum is claimed.
    Host,
}

/// `[places.<id>]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlace {
    /// origin / transit / resettlement / host.
    pub kind: RawPlaceKind,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// ISO 3166-1 alpha-3 code where the place is (in) a country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iso3: Option<String>,
}

/// `[routes.<id>]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Place id the route starts from.
    pub from: String,
    /// Place id the route leads to.
    pub to: String,
    /// Months on the road.
    pub duration: RawDuration,
    /// Probability of arrest per trip.
    #[serde(default = "zero")]
    pub arrest: Param,
    /// Probability of death per trip.
    #[serde(default = "zero")]
    pub death: Param,
    /// Cost per trip (scenario currency); lowers choice by `exp(-cost_sensitivity * cost / 1000)`.
    #[serde(default)]
    pub cost: f64,
    /// Choice weight among the routes leaving `from`.
    #[serde(default = "one")]
    pub weight: Param,
    /// First and last year the route is open (default: the whole run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years_open: Option<[i32; 2]>,
    /// Route that people arrested on this trip are taken along (default: repatriation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrest_route: Option<String>,
}

/// Age of leavers by band.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAge {
    /// Band edges in years, increasing (n + 1 edges for n bands).
    pub edges: Vec<f64>,
    /// Share of leavers in each band (sums to 1).
    pub shares: Vec<f64>,
}

impl Default for RawAge {
    fn default() -> Self {
        RawAge {
            edges: vec![15.0, 60.0],
            shares: vec![1.0],
        }
    }
}

/// `[exit]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExit {
    /// Origin place id.
    pub origin: String,
    /// People at risk of leaving.
    pub population: Param,
    /// Exit attempts per person per month.
    pub base_rate: Param,
    /// Push multiplier.
    #[serde(default = "one")]
    pub push: Param,
    /// Share of leavers who are female.
    #[serde(default = "half")]
    pub female_share: Param,
    /// Age of leavers.
    #[serde(default)]
    pub age: RawAge,
}

/// `[deterrence]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeterrence {
    /// Probability a crossing attempt is caught at the border.
    #[serde(default = "zero")]
    pub border_enforcement: Param,
    /// Share of would-be leavers deterred by punishment of families.
    #[serde(default = "zero")]
    pub family_pressure: Param,
    /// Months from arrest to hand-over.
    #[serde(default = "default_detention")]
    pub detention: RawDuration,
    /// Probability of dying in detention or punishment.
    #[serde(default = "zero")]
    pub detention_death: Param,
    /// Months of punishment before another attempt is possible.
    #[serde(default = "default_punishment")]
    pub punishment: RawDuration,
    /// Probability of trying again after punishment.
    #[serde(default = "zero")]
    pub reattempt: Param,
}

fn default_detention() -> RawDuration {
    fixed(1.0)
}
fn default_punishment() -> RawDuration {
    fixed(12.0)
}

impl Default for RawDeterrence {
    fn default() -> Self {
        RawDeterrence {
            border_enforcement: zero(),
            family_pressure: zero(),
            detention: default_detention(),
            detention_death: zero(),
            punishment: default_punishment(),
            reattempt: zero(),
        }
    }
}

/// `[transit.<place>]` — monthly probabilities.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTransit {
    /// Arrest.
    #[serde(default = "zero")]
    pub arrest: Param,
    /// Death.
    #[serde(default = "zero")]
    pub death: Param,
    /// Setting out on a route.
    #[serde(default = "zero")]
    pub move_on: Param,
    /// Going back to the origin.
    #[serde(default = "zero")]
    pub return_home: Param,
    /// Claiming asylum here (the place needs a `[hosts.<place>]` section).
    #[serde(default = "zero")]
    pub claim_asylum: Param,
    /// Route-choice penalty per 1000 cost units.
    #[serde(default = "zero")]
    pub cost_sensitivity: Param,
    /// Route arrested people are taken along (default: repatriation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrest_route: Option<String>,
    /// Multipliers of the monthly hazards for women.
    #[serde(default)]
    pub female: RawTransitFemale,
}

fn one_f64() -> f64 {
    1.0
}

/// `[transit.<place>.female]`: multipliers of women's monthly hazards (1: as men).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTransitFemale {
    /// Arrest.
    #[serde(default = "one_f64")]
    pub arrest: f64,
    /// Death.
    #[serde(default = "one_f64")]
    pub death: f64,
    /// Setting out on a route.
    #[serde(default = "one_f64")]
    pub move_on: f64,
    /// Going back to the origin.
    #[serde(default = "one_f64")]
    pub return_home: f64,
    /// Claiming asylum here.
    #[serde(default = "one_f64")]
    pub claim_asylum: f64,
}

impl Default for RawTransitFemale {
    fn default() -> Self {
        RawTransitFemale {
            arrest: 1.0,
            death: 1.0,
            move_on: 1.0,
            return_home: 1.0,
            claim_asylum: 1.0,
        }
    }
}

/// `[resettlement.<place>.female]`: multipliers of women's monthly hazards.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResettlementFemale {
    /// Death.
    #[serde(default = "one_f64")]
    pub death: f64,
    /// Returning to the origin.
    #[serde(default = "one_f64")]
    pub return_to_origin: f64,
    /// Considering onward migration.
    #[serde(default = "one_f64")]
    pub onward: f64,
}

impl Default for RawResettlementFemale {
    fn default() -> Self {
        RawResettlementFemale {
            death: 1.0,
            return_to_origin: 1.0,
            onward: 1.0,
        }
    }
}

/// `[hosts.<place>.female]`: multipliers of women's monthly hazards.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHostFemale {
    /// Death.
    #[serde(default = "one_f64")]
    pub death: f64,
    /// Departure of protected people.
    #[serde(default = "one_f64")]
    pub departure: f64,
    /// Naturalisation.
    #[serde(default = "one_f64")]
    pub naturalisation: f64,
    /// Loss of status.
    #[serde(default = "one_f64")]
    pub cessation: f64,
    /// Later removal of people staying irregularly.
    #[serde(default = "one_f64")]
    pub irregular_removal: f64,
    /// Moving on of people staying irregularly.
    #[serde(default = "one_f64")]
    pub irregular_departure: f64,
}

impl Default for RawHostFemale {
    fn default() -> Self {
        RawHostFemale {
            death: 1.0,
            departure: 1.0,
            naturalisation: 1.0,
            cessation: 1.0,
            irregular_removal: 1.0,
            irregular_departure: 1.0,
        }
    }
}

/// `[resettlement.<place>]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResettlement {
    /// Months in the settlement programme (no onward moves).
    #[serde(default)]
    pub programme_months: u32,
    /// Monthly probability of death.
    #[serde(default = "zero")]
    pub death: Param,
    /// Monthly probability of returning to the origin.
    #[serde(default = "zero")]
    pub return_to_origin: Param,
    /// Monthly probability of considering onward migration.
    #[serde(default = "zero")]
    pub onward: Param,
    /// Multiplier of the onward hazard by years since arrival (`years` are durations).
    #[serde(default = "one")]
    pub onward_by_years_since_arrival: Param,
    /// Multipliers of women's monthly hazards.
    #[serde(default)]
    pub female: RawResettlementFemale,
}

/// `[choice]`: how movers choose among the routes leaving a place (one rule for every place).
///
/// A route's weight is `weight × cost penalty`, times, where it leads to a host, the host's
/// `attraction × network × acceptance^acceptance_weight`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    /// Exponent on perceived acceptance (0: acceptance does not matter).
    #[serde(default)]
    pub acceptance_weight: f64,
    /// Years by which perceived acceptance lags actual acceptance.
    #[serde(default)]
    pub acceptance_lag_years: u32,
    /// The destination network: `(1 + S/scale)^elasticity` with `S` the people in `stock` at
    /// the route's destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<RawNetwork>,
}

/// `[choice.network]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// States counted at the destination (default: everyone living in a host).
    #[serde(default = "in_host")]
    pub stock: Vec<RawState>,
    /// Persons.
    pub scale: f64,
    /// Exponent (events may multiply it).
    pub elasticity: f64,
    /// Months between the count and the January it acts from.
    #[serde(default)]
    pub lag_months: u32,
}

fn in_host() -> Vec<RawState> {
    vec![RawState::InHost]
}

/// `[[initial]]`: people already at a place, in a state, when the run starts.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInitial {
    /// Place id.
    pub place: String,
    /// Life state (`in_transit`, `resettled`, `asylum_seeker`, `refugee`,
    /// `complementary_protection`, `irregular`, `naturalised`).
    pub state: RawState,
    /// Persons.
    pub persons: f64,
    /// Share who are female.
    #[serde(default = "half_f64")]
    pub female_share: f64,
    /// Ages (default: the ages of leavers, `exit.age`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<RawAge>,
    /// Months already spent in the state at the start (default: none).
    #[serde(default = "no_months")]
    pub months_in_state: RawDuration,
}

fn half_f64() -> f64 {
    0.5
}

fn no_months() -> RawDuration {
    RawDuration::Fixed { months: 0.0 }
}

/// `[hosts.<place>]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Pull in destination choice.
    #[serde(default = "one")]
    pub attraction: Param,
    /// Probability a decided claim is recognised.
    pub recognition: Param,
    /// Probability of complementary protection.
    #[serde(default = "zero")]
    pub complementary: Param,
    /// Probability a claim is closed without a substantive decision.
    #[serde(default = "zero")]
    pub closed: Param,
    /// Probability that prior resettlement-country citizenship is detected.
    #[serde(default = "zero")]
    pub citizenship_check: Param,
    /// Share of recognition and complementary protection lost when it is detected.
    #[serde(default = "one")]
    pub check_effect: Param,
    /// Months from claim to decision.
    pub processing: RawDuration,
    /// Probability a rejected or closed claimant is removed.
    #[serde(default = "zero")]
    pub removal: Param,
    /// Monthly probability of later removal of someone staying irregularly.
    #[serde(default = "zero")]
    pub irregular_removal: Param,
    /// Route removed people are taken along.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_route: Option<String>,
    /// Monthly probability of naturalisation once eligible.
    #[serde(default = "zero")]
    pub naturalisation: Param,
    /// Years with status before naturalisation is possible.
    #[serde(default)]
    pub naturalisation_min_years: u32,
    /// Monthly probability that a protected person leaves (along the routes leaving the host,
    /// chosen by the `[choice]` rule).
    #[serde(default = "zero")]
    pub departure: Param,
    /// Monthly probability that a refugee or complementary protection holder loses the status
    /// (cessation, withdrawal).
    #[serde(default = "zero")]
    pub cessation: Param,
    /// Where status loss leads: `irregular` (stays without status) or `returned` (goes back to
    /// the origin).
    #[serde(default)]
    pub cessation_to: RawCessation,
    /// Share of arrivals registered as refugees on a group basis (prima facie), without an
    /// individual claim.
    #[serde(default = "zero")]
    pub prima_facie: Param,
    /// Monthly probability that someone staying irregularly moves on (along the routes
    /// leaving the host).
    #[serde(default = "zero")]
    pub irregular_departure: Param,
    /// Monthly probability of death.
    #[serde(default = "zero")]
    pub death: Param,
    /// Persons per year resettled from transit, reached in expectation.
    #[serde(default = "zero")]
    pub resettlement_quota: Param,
    /// Route that referred refugees travel on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resettlement_route: Option<String>,
    /// Whether this host's figures are published (selectable as `reporting_hosts`).
    #[serde(default = "yes")]
    pub reports: bool,
    /// Whether complementary protection counts in the refugee stock.
    #[serde(default)]
    pub complementary_in_refugee_stock: bool,
    /// Multipliers of women's monthly hazards.
    #[serde(default)]
    pub female: RawHostFemale,
}

/// Where loss of status leads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawCessation {
    /// Stays in the host without status.
    #[default]
    Irregular,
    /// Goes back to the origin.
    Returned,
}

/// `[events.<name>]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    /// One line saying what happened.
    #[serde(default)]
    pub description: String,
    /// First year of the window.
    pub from: i32,
    /// Last year of the window, inclusive.
    pub to: i32,
    /// Whether the event happens (counterfactuals switch events off).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Multipliers by parameter path, e.g. `multiply.exit.push = 3`.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub multiply: toml::Table,
}

/// `[observation]`
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObservation {
    /// Small-number masking as published.
    #[serde(default)]
    pub masking: RawMasking,
    /// Declared observable series.
    #[serde(default)]
    pub series: Vec<RawSeries>,
}

/// `[observation.masking]`: values `1 ..= below − 1` are shown as `shown_as`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMasking {
    /// Values from 1 up to (not including) this are masked; 0 turns masking off.
    #[serde(default)]
    pub below: u64,
    /// The value shown instead.
    #[serde(default)]
    pub shown_as: u64,
}

/// Kind of count an observable series reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawCount {
    /// First entries into the place per year.
    Arrivals,
    /// Asylum claims lodged per year.
    Applications,
    /// Recognised refugees at year end (plus complementary protection where the host counts it).
    Refugees,
    /// Pending claims at year end.
    AsylumSeekers,
    /// Recognitions per year.
    DecisionsRecognized,
    /// Complementary protection grants per year.
    DecisionsComplementary,
    /// Rejections per year.
    DecisionsRejected,
    /// Claims closed otherwise per year.
    DecisionsClosed,
    /// Naturalisations per year.
    Naturalisations,
    /// Arrivals of referred (quota) refugees per year.
    ResettlementArrivals,
    /// Departures from the resettlement country to this place per year.
    OnwardDepartures,
    /// Arrivals registered as refugees on a group basis (prima facie) per year.
    GroupRecognitions,
    /// Losses of status (cessation, withdrawal) per year.
    Cessations,
    /// Departures of protected or irregular people from the host per year.
    HostDepartures,
}

/// `[[observation.series]]`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSeries {
    /// Series name in outputs.
    pub name: String,
    /// What is counted.
    pub count: RawCount,
    /// Place ids, or one of `"reporting_hosts"`, `"hosts"`.
    pub places: RawPlaces,
    /// Also report `female` and `male` rows.
    #[serde(default)]
    pub by_sex: bool,
    /// Apply `[observation.masking]`.
    #[serde(default)]
    pub mask: bool,
}

/// A list of place ids or a named set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "expected a list of place ids or one of \"hosts\", \"reporting_hosts\", \"transit\", \"resettlement\", \"all\""
)]
pub enum RawPlaces {
    /// Explicit ids.
    List(Vec<String>),
    /// `"reporting_hosts"`, `"hosts"`, `"transit"`, `"resettlement"` or `"all"`.
    Named(String),
}

/// Visits every calendar-time parameter (the ones events may scale) with its path and domain.
///
/// The strengths of drivers (`<parameter>.drivers.<i>.elasticity` or `.cap`) and of the
/// destination network (`choice.network.elasticity`) are visited too, as constants: events may
/// scale them.
pub fn for_each_param(s: &RawScenario, f: &mut dyn FnMut(String, &Param, Domain)) {
    use Domain::*;
    let mut at = |prefix: &str, name: &str, p: &Param, d: Domain| {
        let path = format!("{prefix}.{name}");
        for (i, driver) in p.drivers().iter().enumerate() {
            let (key, value) = driver.strength();
            let domain = if key == "cap" { NonNegative } else { Real };
            let strength = Param::Const(value.unwrap_or(0.0));
            f(format!("{path}.drivers.{i}.{key}"), &strength, domain);
        }
        f(path, p, d)
    };
    if let Some(n) = &s.choice.network {
        at(
            "choice.network",
            "elasticity",
            &Param::Const(n.elasticity),
            Real,
        );
    }
    for (id, r) in &s.routes {
        let pre = format!("routes.{id}");
        at(&pre, "arrest", &r.arrest, Probability);
        at(&pre, "death", &r.death, Probability);
        at(&pre, "weight", &r.weight, NonNegative);
    }
    let e = &s.exit;
    at("exit", "population", &e.population, NonNegative);
    at("exit", "base_rate", &e.base_rate, NonNegative);
    at("exit", "push", &e.push, NonNegative);
    at("exit", "female_share", &e.female_share, Probability);
    let d = &s.deterrence;
    at(
        "deterrence",
        "border_enforcement",
        &d.border_enforcement,
        Probability,
    );
    at(
        "deterrence",
        "family_pressure",
        &d.family_pressure,
        Probability,
    );
    at(
        "deterrence",
        "detention_death",
        &d.detention_death,
        Probability,
    );
    at("deterrence", "reattempt", &d.reattempt, Probability);
    for (id, t) in &s.transit {
        let pre = format!("transit.{id}");
        at(&pre, "arrest", &t.arrest, Probability);
        at(&pre, "death", &t.death, Probability);
        at(&pre, "move_on", &t.move_on, Probability);
        at(&pre, "return_home", &t.return_home, Probability);
        at(&pre, "claim_asylum", &t.claim_asylum, Probability);
        at(&pre, "cost_sensitivity", &t.cost_sensitivity, NonNegative);
    }
    for (id, r) in &s.resettlement {
        let pre = format!("resettlement.{id}");
        at(&pre, "death", &r.death, Probability);
        at(&pre, "return_to_origin", &r.return_to_origin, Probability);
        at(&pre, "onward", &r.onward, Probability);
    }
    for (id, h) in &s.hosts {
        let pre = format!("hosts.{id}");
        at(&pre, "attraction", &h.attraction, NonNegative);
        at(&pre, "recognition", &h.recognition, Probability);
        at(&pre, "complementary", &h.complementary, Probability);
        at(&pre, "closed", &h.closed, Probability);
        at(&pre, "citizenship_check", &h.citizenship_check, Probability);
        at(&pre, "check_effect", &h.check_effect, Probability);
        at(&pre, "removal", &h.removal, Probability);
        at(&pre, "irregular_removal", &h.irregular_removal, Probability);
        at(&pre, "naturalisation", &h.naturalisation, Probability);
        at(&pre, "departure", &h.departure, Probability);
        at(&pre, "cessation", &h.cessation, Probability);
        at(&pre, "prima_facie", &h.prima_facie, Probability);
        at(
            &pre,
            "irregular_departure",
            &h.irregular_departure,
            Probability,
        );
        at(&pre, "death", &h.death, Probability);
        at(
            &pre,
            "resettlement_quota",
            &h.resettlement_quota,
            NonNegative,
        );
    }
}
