//! Where movers go: one rule for every place people leave.
//!
//! Whoever sets out freely — a leaver at the origin, someone moving on from a transit place,
//! a resident of the resettlement country going onward, a protected or irregular person leaving
//! a host — chooses among the routes leaving that place in proportion to
//!
//! ```text
//! weight × exp(−cost_sensitivity × cost / 1000) × [attraction × network × acceptance^w]
//! ```
//!
//! where the bracket applies to routes that lead to a host: its attraction, the destination
//! network `(1 + S/scale)^elasticity` of the people already there, and its perceived acceptance,
//! lagged, raised to the acceptance weight. For movers leaving a resettlement place (citizens),
//! acceptance includes the hosts' checks for that citizenship. Residents of a resettlement place
//! who consider leaving go with probability `W / (1 + W)`, `W` the sum of the weights.
//! The weights are refreshed each January from the run's own copy of the model.

use super::model::{Model, PlaceKind, RouteId};
use super::tables::Tables;

/// The current year's route choice at every place.
#[derive(Clone, Debug, Default)]
pub(crate) struct Choices {
    /// Per place: `(route, cumulative weight)` over the routes that may be chosen this year.
    pub cum: Vec<Vec<(RouteId, f64)>>,
    /// Per place: `W / (1 + W)`, the probability that someone considering a move goes.
    pub accept: Vec<f64>,
}

impl Choices {
    pub fn new(n_places: usize) -> Choices {
        Choices {
            cum: vec![Vec::new(); n_places],
            accept: vec![0.0; n_places],
        }
    }

    /// Recomputes every place's choice for year index `y`; `network[h]` is the destination
    /// network multiplier of host `h` this year (1 without a network).
    pub fn refresh(&mut self, model: &Model, tables: &Tables, y: usize, network: &[f64]) {
        let lag = y.saturating_sub(model.choice.acceptance_lag_years as usize);
        let weight_of_acceptance = model.choice.acceptance_weight;
        for (p, routes) in tables.free_routes.iter().enumerate() {
            let citizens = model.places[p].kind == PlaceKind::Resettlement;
            let sensitivity = model.transit[p]
                .as_ref()
                .map_or(0.0, |t| t.cost_sensitivity[y]);
            let cum = &mut self.cum[p];
            cum.clear();
            let mut total = 0.0;
            for &r in routes {
                let route = &model.routes[usize::from(r)];
                let mut w = route.weight[y];
                if w <= 0.0 {
                    continue;
                }
                if sensitivity > 0.0 && route.cost > 0.0 {
                    w *= (-sensitivity * route.cost / 1000.0).exp();
                }
                let to = usize::from(route.to);
                if let Some(h) = model.hosts[to].as_ref() {
                    w *= h.attraction[y] * network[to];
                    if weight_of_acceptance != 0.0 {
                        w *= acceptance(h, lag, citizens).powf(weight_of_acceptance);
                    }
                }
                if w > 0.0 {
                    total += w;
                    cum.push((r, total));
                }
            }
            self.accept[p] = total / (1.0 + total);
        }
    }
}

/// A host's acceptance as movers perceive it in year index `y`: the share of arrivals who end
/// up protected (group recognition, else an individual decision), cut by citizenship checks for
/// citizens of a resettlement place.
fn acceptance(h: &super::model::Host, y: usize, citizens: bool) -> f64 {
    let mut individual = (h.recognition[y] + h.complementary[y]).clamp(0.0, 1.0);
    if citizens {
        individual *= 1.0 - (h.citizenship_check[y] * h.check_effect[y]).clamp(0.0, 1.0);
    }
    let group = h.prima_facie[y];
    group + (1.0 - group) * individual
}
