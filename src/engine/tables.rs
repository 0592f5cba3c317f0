//! Per-year lookup tables: monthly hazards by place and sex, and which routes movers may choose.
//!
//! The hot loop reads only these (and the month's context); it never converts a probability,
//! walks a schedule or allocates. Tables are built once per model; a run whose parameters
//! follow drivers keeps its own copy and refreshes each year as it starts
//! ([`Tables::refresh_year`]).

use super::hazard::{Hazard, StepFn, hazard};
use super::model::{
    HostParam, Model, ParamRef, ResettlementParam, RouteId, TransitParam, YearSeries,
};
use super::tally::FEMALE;

/// Competing risks of one place and sex: per year (to choose which one fired) and as a
/// [`Hazard`] (to draw when the next one fires). Monthly hazards throughout.
#[derive(Clone, Default)]
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

#[derive(Clone, Default)]
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
}

#[derive(Clone, Default)]
pub(crate) struct HostHazards {
    pub death: Vec<f64>,
    pub departure: Vec<f64>,
    pub cessation: Vec<f64>,
    pub naturalisation: Vec<f64>,
    pub irregular_removal: Vec<f64>,
    pub irregular_departure: Vec<f64>,
    /// `death + departure + cessation` (protected people, before naturalisation).
    pub protected: Vec<f64>,
    /// `death + irregular removal + irregular departure`.
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

/// All lookup tables of a model. Hazards are indexed `[place][sex]`.
#[derive(Clone)]
pub(crate) struct Tables {
    pub transit: Vec<[TransitHazards; 2]>,
    pub resettlement: Vec<[ResettlementHazards; 2]>,
    pub host: Vec<[HostHazards; 2]>,
    /// Per place, the routes movers choose among (in route order): every route leaving the
    /// place except hand-overs after arrest, referrals and removals.
    pub free_routes: Vec<Vec<RouteId>>,
    /// Whether any hazard follows drivers (then a run needs its own copy).
    pub driven: bool,
    /// The hazard behind each waiting queue (see [`Hazard::set_queue`]).
    pub queues: Vec<QueueOf>,
}

/// Which hazard a waiting queue belongs to: `(place, sex)` of a transit wait, of an irregular
/// stay in a host, or of the death-only wait in a host.
#[derive(Clone, Copy, Debug)]
pub(crate) enum QueueOf {
    Transit(usize, usize),
    Irregular(usize, usize),
    Death(usize, usize),
}

/// Monthly hazards of a series of monthly probabilities, scaled by `m` (a hazard ratio).
fn hazards(series: &YearSeries, m: f64) -> Vec<f64> {
    series.iter().map(|&p| hazard(p) * m).collect()
}

fn sum(parts: &[&[f64]]) -> Vec<f64> {
    (0..parts[0].len())
        .map(|y| parts.iter().map(|p| p[y]).sum())
        .collect()
}

/// The hazard ratio for women (`factors[k]`) or 1 for men.
fn ratio(sex: usize, factors: &[f64], k: usize) -> f64 {
    if sex == FEMALE { factors[k] } else { 1.0 }
}

impl TransitHazards {
    fn new(model: &Model, p: usize, sex: usize) -> TransitHazards {
        let Some(t) = model.transit[p].as_ref() else {
            return TransitHazards::default();
        };
        let f = |k| ratio(sex, &t.female, k);
        let claim = if model.hosts[p].is_some() {
            hazards(&t.claim_asylum, f(4))
        } else {
            vec![0.0; model.n_years]
        };
        let mut h = TransitHazards {
            arrest: hazards(&t.arrest, f(0)),
            death: hazards(&t.death, f(1)),
            move_on: hazards(&t.move_on, f(2)),
            return_home: hazards(&t.return_home, f(3)),
            claim,
            ..TransitHazards::default()
        };
        h.total = sum(&[&h.arrest, &h.death, &h.move_on, &h.return_home, &h.claim]);
        let p = p as u16;
        let driven = [
            TransitParam::Arrest,
            TransitParam::Death,
            TransitParam::MoveOn,
            TransitParam::ReturnHome,
            TransitParam::ClaimAsylum,
        ]
        .iter()
        .any(|&k| model.is_driven(ParamRef::Transit(p, k)));
        h.wait = Hazard::calendar(h.total.clone(), driven);
        h
    }

    fn refresh_year(&mut self, model: &Model, p: usize, sex: usize, y: usize) {
        let Some(t) = model.transit[p].as_ref() else {
            return;
        };
        let f = |k| ratio(sex, &t.female, k);
        self.arrest[y] = hazard(t.arrest[y]) * f(0);
        self.death[y] = hazard(t.death[y]) * f(1);
        self.move_on[y] = hazard(t.move_on[y]) * f(2);
        self.return_home[y] = hazard(t.return_home[y]) * f(3);
        if model.hosts[p].is_some() {
            self.claim[y] = hazard(t.claim_asylum[y]) * f(4);
        }
        self.total[y] =
            self.arrest[y] + self.death[y] + self.move_on[y] + self.return_home[y] + self.claim[y];
        if self.wait.is_driven() {
            self.wait.set_year(y, self.total[y], 0.0);
        }
    }
}

impl ResettlementHazards {
    fn new(model: &Model, p: usize, sex: usize) -> ResettlementHazards {
        let Some(r) = model.resettlement[p].as_ref() else {
            return ResettlementHazards::default();
        };
        let f = |k| ratio(sex, &r.female, k);
        let death = hazards(&r.death, f(0));
        let return_home = hazards(&r.return_to_origin, f(1));
        let calendar = sum(&[&death, &return_home]);
        let onward = hazards(&r.onward, f(2));
        let onward_f = onward_modulation(r.programme_months, &r.onward_by_duration);
        let p = p as u16;
        let driven = [
            ResettlementParam::Death,
            ResettlementParam::ReturnToOrigin,
            ResettlementParam::Onward,
        ]
        .iter()
        .any(|&k| model.is_driven(ParamRef::Resettlement(p, k)));
        let wait = Hazard::stepped(&calendar, &onward, &onward_f, driven);
        ResettlementHazards {
            death,
            return_home,
            calendar,
            onward,
            onward_f,
            wait,
        }
    }

    fn refresh_year(&mut self, model: &Model, p: usize, sex: usize, y: usize) {
        let Some(r) = model.resettlement[p].as_ref() else {
            return;
        };
        let f = |k| ratio(sex, &r.female, k);
        self.death[y] = hazard(r.death[y]) * f(0);
        self.return_home[y] = hazard(r.return_to_origin[y]) * f(1);
        self.calendar[y] = self.death[y] + self.return_home[y];
        self.onward[y] = hazard(r.onward[y]) * f(2);
        if self.wait.is_driven() {
            self.wait.set_year(y, self.calendar[y], self.onward[y]);
        }
    }
}

impl HostHazards {
    fn new(model: &Model, p: usize, sex: usize) -> HostHazards {
        let Some(hs) = model.hosts[p].as_ref() else {
            return HostHazards::default();
        };
        let f = |k| ratio(sex, &hs.female, k);
        let irregular_removal = if hs.removal_route.is_some() {
            hazards(&hs.irregular_removal, f(4))
        } else {
            vec![0.0; model.n_years]
        };
        let mut h = HostHazards {
            death: hazards(&hs.death, f(0)),
            departure: hazards(&hs.departure, f(1)),
            naturalisation: hazards(&hs.naturalisation, f(2)),
            cessation: hazards(&hs.cessation, f(3)),
            irregular_removal,
            irregular_departure: hazards(&hs.irregular_departure, f(5)),
            ..HostHazards::default()
        };
        h.protected = sum(&[&h.death, &h.departure, &h.cessation]);
        h.irregular = sum(&[&h.death, &h.irregular_removal, &h.irregular_departure]);
        let nf = if hs.naturalisation_min_months == 0 {
            StepFn::constant(1.0)
        } else {
            StepFn::new(vec![(0, 0.0), (hs.naturalisation_min_months, 1.0)])
        };
        let p = p as u16;
        let driven =
            |keys: &[HostParam]| keys.iter().any(|&k| model.is_driven(ParamRef::Host(p, k)));
        use HostParam::*;
        h.protected_wait = Hazard::stepped(
            &h.protected,
            &h.naturalisation,
            &nf,
            driven(&[Death, Departure, Cessation, Naturalisation]),
        );
        h.irregular_wait = Hazard::calendar(
            h.irregular.clone(),
            driven(&[Death, IrregularRemoval, IrregularDeparture]),
        );
        h.death_wait = Hazard::calendar(h.death.clone(), driven(&[Death]));
        h.naturalisation_f = nf;
        h
    }

    fn refresh_year(&mut self, model: &Model, p: usize, sex: usize, y: usize) {
        let Some(hs) = model.hosts[p].as_ref() else {
            return;
        };
        let f = |k| ratio(sex, &hs.female, k);
        self.death[y] = hazard(hs.death[y]) * f(0);
        self.departure[y] = hazard(hs.departure[y]) * f(1);
        self.naturalisation[y] = hazard(hs.naturalisation[y]) * f(2);
        self.cessation[y] = hazard(hs.cessation[y]) * f(3);
        if hs.removal_route.is_some() {
            self.irregular_removal[y] = hazard(hs.irregular_removal[y]) * f(4);
        }
        self.irregular_departure[y] = hazard(hs.irregular_departure[y]) * f(5);
        self.protected[y] = self.death[y] + self.departure[y] + self.cessation[y];
        self.irregular[y] = self.death[y] + self.irregular_removal[y] + self.irregular_departure[y];
        if self.protected_wait.is_driven() {
            self.protected_wait
                .set_year(y, self.protected[y], self.naturalisation[y]);
        }
        if self.irregular_wait.is_driven() {
            self.irregular_wait.set_year(y, self.irregular[y], 0.0);
        }
        if self.death_wait.is_driven() {
            self.death_wait.set_year(y, self.death[y], 0.0);
        }
    }
}

impl Tables {
    pub fn new(model: &Model) -> Tables {
        let n = model.places.len();
        let transit: Vec<[TransitHazards; 2]> = (0..n)
            .map(|p| {
                [
                    TransitHazards::new(model, p, 0),
                    TransitHazards::new(model, p, 1),
                ]
            })
            .collect();
        let resettlement: Vec<[ResettlementHazards; 2]> = (0..n)
            .map(|p| {
                [
                    ResettlementHazards::new(model, p, 0),
                    ResettlementHazards::new(model, p, 1),
                ]
            })
            .collect();
        let host: Vec<[HostHazards; 2]> = (0..n)
            .map(|p| [HostHazards::new(model, p, 0), HostHazards::new(model, p, 1)])
            .collect();
        let driven = model.driven.iter().any(|d| {
            matches!(
                d.target,
                ParamRef::Transit(..) | ParamRef::Resettlement(..) | ParamRef::Host(..)
            ) && d.target.is_monthly()
        });
        let mut tables = Tables {
            transit,
            resettlement,
            host,
            free_routes: free_routes(model),
            driven,
            queues: Vec::new(),
        };
        tables.assign_queues();
        tables
    }

    /// Gives every driven hazard without steps in time in state its own waiting queue.
    fn assign_queues(&mut self) {
        let mut queues = Vec::new();
        for p in 0..self.transit.len() {
            for sex in 0..2 {
                queues.push(QueueOf::Transit(p, sex));
                queues.push(QueueOf::Irregular(p, sex));
                queues.push(QueueOf::Death(p, sex));
            }
        }
        queues.retain(|&q| {
            let h = self.queue_hazard(q);
            h.is_driven() && h.is_calendar_only()
        });
        for (k, &q) in queues.iter().enumerate() {
            let k = u16::try_from(k).expect("fewer than 65536 waiting queues");
            self.queue_hazard_mut(q).set_queue(k);
        }
        self.queues = queues;
    }

    /// The hazard of waiting queue `q`.
    pub fn queue_hazard(&self, q: QueueOf) -> &Hazard {
        match q {
            QueueOf::Transit(p, s) => &self.transit[p][s].wait,
            QueueOf::Irregular(p, s) => &self.host[p][s].irregular_wait,
            QueueOf::Death(p, s) => &self.host[p][s].death_wait,
        }
    }

    fn queue_hazard_mut(&mut self, q: QueueOf) -> &mut Hazard {
        match q {
            QueueOf::Transit(p, s) => &mut self.transit[p][s].wait,
            QueueOf::Irregular(p, s) => &mut self.host[p][s].irregular_wait,
            QueueOf::Death(p, s) => &mut self.host[p][s].death_wait,
        }
    }

    /// Rewrites year `y` of every hazard from `model` (a run's copy whose year `y` follows its
    /// drivers); earlier years must have been refreshed already.
    pub fn refresh_year(&mut self, model: &Model, y: usize) {
        for p in 0..model.places.len() {
            for sex in 0..2 {
                self.transit[p][sex].refresh_year(model, p, sex, y);
                self.resettlement[p][sex].refresh_year(model, p, sex, y);
                self.host[p][sex].refresh_year(model, p, sex, y);
            }
        }
    }
}

/// Routes that are never chosen freely: hand-overs after arrest, referrals and removals.
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
    }
    special
}

/// Per place, the routes movers choose among.
fn free_routes(model: &Model) -> Vec<Vec<RouteId>> {
    let special = special_routes(model);
    let mut out = vec![Vec::new(); model.places.len()];
    for (r, route) in model.routes.iter().enumerate() {
        if !special[r] {
            out[usize::from(route.from)].push(r as RouteId);
        }
    }
    out
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
