//! Degrees of freedom on view: how many hand-set, time-specific values act on each observed
//! series a scenario declares.
//!
//! A model with as many hand-set yearly values as observed points can fit anything. For every
//! declared series this counts the values that differ by year and were set by hand — schedule
//! knots after the first, event multipliers, and routes open only part of the run — among the
//! parameters that act on the series:
//!
//! * the origin's (`exit.*`, `deterrence.*`);
//! * those of every place *upstream* of the series' places (a place from which a chain of
//!   routes leads there), and of every route between such places or into the series' places;
//! * the choice factors of hosts that movers at upstream places may choose (attraction,
//!   acceptance: recognition, complementary protection, citizenship checks, prima facie
//!   recognition) and their resettlement quotas;
//! * for series that are not arrivals (stocks, claims, decisions), the series' own places.
//!
//! A driver's strength is a constant (a mechanism, not a knot) and counts only when an event
//! scales it. What moves the stock a driver reads is an outcome of the model, not a hand-set
//! value, and is not counted again. The destination network's elasticity (`choice.*`) acts on
//! every series.

use std::collections::BTreeSet;

use super::Scenario;
use super::raw::for_each_param;
use crate::engine::{Model, PlaceId};
use crate::observe::{Count, SeriesSpec};

/// The hand-set time-specific values acting on one declared series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesFreedom {
    /// Declared series name.
    pub series: String,
    /// Schedule knots after the first, summed over the parameters acting on the series.
    pub knots: usize,
    /// Event multipliers of those parameters (enabled events only).
    pub multipliers: usize,
    /// Routes acting on the series that are open only part of the run.
    pub windows: usize,
    /// The parameters with at least one such value, with their count.
    pub by_parameter: Vec<(String, usize)>,
    /// Knots after the first of the calibration's free schedules acting on the series
    /// (estimated, not hand-set).
    pub free_knots: usize,
    /// The calibration's free constants acting on the series.
    pub free_constants: usize,
}

impl SeriesFreedom {
    /// All hand-set time-specific values.
    pub fn total(&self) -> usize {
        self.knots + self.multipliers + self.windows
    }
}

/// What a calibration estimates: key paths of free constants, and free schedules with their
/// number of knots. A hand-set value at a freed path is estimated, not hand-set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Freed {
    /// Free constants.
    pub constants: Vec<String>,
    /// Free schedules: path and number of knots.
    pub schedules: Vec<(String, usize)>,
}

/// Per declared series, the hand-set time-specific values acting on it.
pub fn count(s: &Scenario) -> Vec<SeriesFreedom> {
    count_with(s, &Freed::default())
}

/// As [`count`], with the values a calibration estimates counted apart.
pub fn count_with(s: &Scenario, free: &Freed) -> Vec<SeriesFreedom> {
    s.observation
        .series
        .iter()
        .map(|spec| series_freedom(s, spec, free))
        .collect()
}

fn series_freedom(s: &Scenario, spec: &SeriesSpec, free: &Freed) -> SeriesFreedom {
    let m = &s.model;
    let targets: BTreeSet<PlaceId> = spec.places.iter().copied().collect();
    let upstream = upstream_of(m, &targets);
    let own = !matches!(spec.count, Count::Arrivals);
    let id = |p: PlaceId| m.places[usize::from(p)].id.as_str();
    let mut sections: BTreeSet<String> = ["exit", "deterrence", "choice"].map(String::from).into();
    for &p in &upstream {
        for section in ["transit", "resettlement", "hosts"] {
            sections.insert(format!("{section}.{}", id(p)));
        }
    }
    if own {
        for &p in &targets {
            for section in ["transit", "resettlement", "hosts"] {
                sections.insert(format!("{section}.{}", id(p)));
            }
        }
    }
    let mut routes = BTreeSet::new();
    let mut choice_hosts = BTreeSet::new();
    for route in &m.routes {
        if !upstream.contains(&route.from) {
            continue;
        }
        if upstream.contains(&route.to) || targets.contains(&route.to) {
            routes.insert(route.id.clone());
        }
        if m.hosts[usize::from(route.to)].is_some() {
            choice_hosts.insert(id(route.to).to_string());
        }
    }
    let choice_keys = [
        "attraction",
        "recognition",
        "complementary",
        "citizenship_check",
        "check_effect",
        "prima_facie",
        "resettlement_quota",
    ];
    let acts = |path: &str| -> bool {
        let parts: Vec<&str> = path.split('.').collect();
        match parts.as_slice() {
            ["routes", r, ..] => routes.contains(*r),
            ["hosts", h, key, ..] if choice_hosts.contains(*h) && choice_keys.contains(key) => true,
            [section, place, ..] if sections.contains(&format!("{section}.{place}")) => true,
            [section, ..] => sections.contains(*section),
            [] => false,
        }
    };

    let freed = |path: &str| {
        free.constants.iter().any(|c| c == path) || free.schedules.iter().any(|(p, _)| p == path)
    };
    let mut by_parameter: Vec<(String, usize)> = Vec::new();
    let mut knots = 0;
    for_each_param(&s.raw, &mut |path, p, _| {
        let k = p.time_specific_values();
        if k > 0 && acts(&path) && !freed(&path) {
            knots += k;
            by_parameter.push((path, k));
        }
    });
    let mut multipliers = 0;
    for (name, event) in s.raw.events.iter().filter(|(_, e)| e.enabled) {
        let mut leaves = Vec::new();
        multiplied(&event.multiply, String::new(), &mut leaves);
        for target in leaves {
            let path = format!("events.{name}.multiply.{target}");
            if acts(&target) && !freed(&path) {
                multipliers += 1;
                by_parameter.push((path, 1));
            }
        }
    }
    let (first, last) = (s.run.start_year, s.run.end_year);
    let mut windows = 0;
    for (rid, r) in &s.raw.routes {
        if routes.contains(rid)
            && let Some([open, close]) = r.years_open
            && (open > first || close < last)
        {
            windows += 1;
            by_parameter.push((format!("routes.{rid}.years_open"), 1));
        }
    }
    by_parameter.sort();
    // An event multiplier acts where the parameter it multiplies acts.
    let acts_freed = |path: &str| match path.split_once(".multiply.") {
        Some((event, target)) if event.starts_with("events.") => acts(target),
        _ => acts(path),
    };
    SeriesFreedom {
        series: spec.name.clone(),
        knots,
        multipliers,
        windows,
        by_parameter,
        free_knots: free
            .schedules
            .iter()
            .filter(|(p, _)| acts_freed(p))
            .map(|(_, k)| k.saturating_sub(1))
            .sum(),
        free_constants: free.constants.iter().filter(|p| acts_freed(p)).count(),
    }
}

/// Places on a chain of routes from the origin into `targets` that does not pass through a
/// target first (people who left a target and come back make no new arrivals), the origin
/// included.
fn upstream_of(m: &Model, targets: &BTreeSet<PlaceId>) -> BTreeSet<PlaceId> {
    let reach = |start: Vec<PlaceId>, forward: bool| -> BTreeSet<PlaceId> {
        let mut seen: BTreeSet<PlaceId> = start.iter().copied().collect();
        let mut frontier = start;
        while let Some(p) = frontier.pop() {
            if forward && targets.contains(&p) {
                continue;
            }
            for route in &m.routes {
                let (here, next) = if forward {
                    (route.from, route.to)
                } else {
                    (route.to, route.from)
                };
                if here == p && seen.insert(next) {
                    frontier.push(next);
                }
            }
        }
        seen
    };
    let from_origin = reach(vec![m.origin.place], true);
    let into_targets = reach(targets.iter().copied().collect(), false);
    from_origin
        .intersection(&into_targets)
        .copied()
        .filter(|p| !targets.contains(p))
        .collect()
}

fn multiplied(t: &toml::Table, prefix: String, out: &mut Vec<String>) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => multiplied(inner, path, out),
            _ => out.push(path),
        }
    }
}
