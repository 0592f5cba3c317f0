//! Per-year lookup tables built once per model: monthly hazards and route-choice weights.
//!
//! The hot loop reads only these (and the month's context); it never converts a probability,
//! walks a schedule or allocates.

use super::hazard::{Hazard, StepFn, hazard};
use super::model::{Model, PlaceKind, RouteId, YearSeries};

/// Competing risks of one place: per year (to choose which one fired) and as a [`Hazard`] (to
/// draw when the next one fires). Monthly hazards throughout.
#[derive(Default)]
pub(crate) struct TransitHazards {
    pub arrest: Vec<f64>,
    pub death: Vec<f64>,
    pub move_on: Vec<f64>,
    pub return_home: Vec<f64>,
    pub claim: Vec<f64>,
    /// The sum of the five risks.
    pub total: Vec<f64>,
    pub wait: Hazard,
}

#[derive(Default)]
pub(crate) struct ResettlementHazards {
    pub death: Vec<f64>,
    pub return_home: Vec<f64>,
    /// `death + return_home`.
    pub calendar: Vec<f64>,
    /// Upper bound of the onward hazard (before the `W/(1+W)` thinning).
    pub onward: Vec<f64>,
    /// Onward modulation by months since arrival, zero during the programme.
    pub onward_f: StepFn,
    /// `calendar + onward · onward_f`.
    pub wait: Hazard,
    /// Routes to hosts, in route order.
    pub onward_routes: Vec<RouteId>,
}

#[derive(Default)]
pub(crate) struct HostHazards {
    pub death: Vec<f64>,
    pub departure: Vec<f64>,
    pub naturalisation: Vec<f64>,
    /// `death + departure` (protected people).
    pub protected: Vec<f64>,
    /// `death + irregular removal`.
    pub irregular: Vec<f64>,
    /// Naturalisation eligibility by months with status.
    pub naturalisation_f: StepFn,
    /// Protected people: `protected + naturalisation · naturalisation_f`.
    pub protected_wait: Hazard,
    /// People staying irregularly.
    pub irregular_wait: Hazard,
    /// Death alone (claimants, naturalised people).
    pub death_wait: Hazard,
}

/// All lookup tables of a model.
pub(crate) struct Tables {
    pub transit: Vec<TransitHazards>,
    pub resettlement: Vec<ResettlementHazards>,
    pub host: Vec<HostHazards>,
    /// Ordinary route choice per place and year: `(route, cumulative weight)`.
    pub route_choice: Vec<Vec<Vec<(RouteId, f64)>>>,
    /// Largest re-attempt probability in this or any later year.
    pub reattempt_max_from: Vec<f64>,
}

fn hazards(series: &YearSeries) -> Vec<f64> {
    series.iter().map(|&p| hazard(p)).collect()
}

fn sum(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

impl Tables {
    pub fn new(model: &Model) -> Tables {
        let n_places = model.places.len();
        let years = model.n_years;
        let zero = vec![0.0; years];

        let mut transit: Vec<TransitHazards> =
            (0..n_places).map(|_| TransitHazards::default()).collect();
        for (p, t) in model.transit.iter().enumerate() {
            let Some(t) = t else { continue };
            let h = &mut transit[p];
            h.arrest = hazards(&t.arrest);
            h.death = hazards(&t.death);
            h.move_on = hazards(&t.move_on);
            h.return_home = hazards(&t.return_home);
            h.claim = if model.hosts[p].is_some() {
                hazards(&t.claim_asylum)
            } else {
                zero.clone()
            };
            h.total = (0..years)
                .map(|y| h.arrest[y] + h.death[y] + h.move_on[y] + h.return_home[y] + h.claim[y])
                .collect();
            h.wait = Hazard::calendar(h.total.clone());
        }

        let mut resettlement: Vec<ResettlementHazards> = (0..n_places)
            .map(|_| ResettlementHazards::default())
            .collect();
        for (p, r) in model.resettlement.iter().enumerate() {
            let Some(r) = r else { continue };
            let h = &mut resettlement[p];
            h.death = hazards(&r.death);
            h.return_home = hazards(&r.return_to_origin);
            h.calendar = sum(&h.death, &h.return_home);
            h.onward = hazards(&r.onward);
            let f = onward_modulation(r.programme_months, &r.onward_by_duration);
            h.wait = Hazard::stepped(&h.calendar, &h.onward, &f);
            h.onward_f = f;
            h.onward_routes = model
                .routes
                .iter()
                .enumerate()
                .filter(|(_, route)| {
                    usize::from(route.from) == p
                        && model.places[usize::from(route.to)].kind == PlaceKind::Host
                })
                .map(|(i, _)| i as RouteId)
                .collect();
        }

        let mut host: Vec<HostHazards> = (0..n_places).map(|_| HostHazards::default()).collect();
        for (p, hs) in model.hosts.iter().enumerate() {
            let Some(hs) = hs else { continue };
            let h = &mut host[p];
            h.death = hazards(&hs.death);
            h.departure = if hs.departure_route.is_some() {
                hazards(&hs.departure)
            } else {
                zero.clone()
            };
            h.naturalisation = hazards(&hs.naturalisation);
            let irregular_removal = if hs.removal_route.is_some() {
                hazards(&hs.irregular_removal)
            } else {
                zero.clone()
            };
            h.protected = sum(&h.death, &h.departure);
            h.irregular = sum(&h.death, &irregular_removal);
            let f = if hs.naturalisation_min_months == 0 {
                StepFn::constant(1.0)
            } else {
                StepFn::new(vec![(0, 0.0), (hs.naturalisation_min_months, 1.0)])
            };
            h.protected_wait = Hazard::stepped(&h.protected, &h.naturalisation, &f);
            h.irregular_wait = Hazard::calendar(h.irregular.clone());
            h.death_wait = Hazard::calendar(h.death.clone());
            h.naturalisation_f = f;
        }

        let special: Vec<bool> = special_routes(model);
        let mut route_choice = vec![vec![Vec::new(); years]; n_places];
        for (p, per_year) in route_choice.iter_mut().enumerate() {
            let kind = model.places[p].kind;
            if kind != PlaceKind::Origin && kind != PlaceKind::Transit {
                continue;
            }
            let sensitivity = model.transit[p].as_ref().map(|t| &t.cost_sensitivity);
            for (y, choices) in per_year.iter_mut().enumerate() {
                let mut cum = 0.0;
                for (r, route) in model.routes.iter().enumerate() {
                    if usize::from(route.from) != p || special[r] || route.weight[y] <= 0.0 {
                        continue;
                    }
                    let penalty = sensitivity.map_or(1.0, |s| (-s[y] * route.cost / 1000.0).exp());
                    cum += route.weight[y] * penalty;
                    choices.push((r as RouteId, cum));
                }
            }
        }

        let mut reattempt_max_from = model.origin.reattempt.clone();
        for y in (0..years.saturating_sub(1)).rev() {
            reattempt_max_from[y] = reattempt_max_from[y].max(reattempt_max_from[y + 1]);
        }

        Tables {
            transit,
            resettlement,
            host,
            route_choice,
            reattempt_max_from,
        }
    }
}

/// Routes that are never chosen freely: hand-overs after arrest, referrals, removals and
/// departures from hosts.
fn special_routes(model: &Model) -> Vec<bool> {
    let mut special = vec![false; model.routes.len()];
    let mut mark = |r: Option<RouteId>| {
        if let Some(r) = r {
            special[usize::from(r)] = true;
        }
    };
    for route in &model.routes {
        mark(route.arrest_route);
    }
    for t in model.transit.iter().flatten() {
        mark(t.arrest_route);
    }
    for h in model.hosts.iter().flatten() {
        mark(h.resettlement_route);
        mark(h.removal_route);
        mark(h.departure_route);
    }
    special
}

/// Onward modulation: zero during the programme, then the by-duration multiplier.
fn onward_modulation(programme: u32, by_duration: &[(u32, f64)]) -> StepFn {
    let value_at = |month: u32| {
        by_duration
            .iter()
            .rev()
            .find(|s| s.0 <= month)
            .map_or(1.0, |s| s.1)
    };
    let mut steps = Vec::new();
    if programme > 0 {
        steps.push((0, 0.0));
    }
    steps.push((programme, value_at(programme)));
    for &(start, value) in by_duration {
        if start > programme {
            steps.push((start, value));
        }
    }
    StepFn::new(steps)
}

/// Picks an entry from cumulative weights with `u` uniform on [0, 1).
#[inline]
pub(crate) fn pick(choices: &[(RouteId, f64)], u: f64) -> Option<RouteId> {
    let total = choices.last()?.1;
    let x = u * total;
    let i = choices.partition_point(|c| c.1 <= x).min(choices.len() - 1);
    Some(choices[i].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onward_modulation_zeroes_programme() {
        let f = onward_modulation(3, &[(0, 0.5), (24, 1.0), (60, 0.2)]);
        assert_eq!(f.steps(), &[(0, 0.0), (3, 0.5), (24, 1.0), (60, 0.2)]);
        let g = onward_modulation(0, &[(0, 2.0)]);
        assert_eq!(g.steps(), &[(0, 2.0)]);
    }

    #[test]
    fn pick_respects_weights() {
        let c = vec![(4, 1.0), (7, 3.0)];
        assert_eq!(pick(&c, 0.0), Some(4));
        assert_eq!(pick(&c, 0.33), Some(4));
        assert_eq!(pick(&c, 0.34), Some(7));
        assert_eq!(pick(&c, 0.999), Some(7));
        assert_eq!(pick(&[], 0.5), None);
    }
}
