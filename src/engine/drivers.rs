//! Drivers at work in a run: the quantities they read, month by month, and the yearly values of
//! the parameters that follow them.
//!
//! Every month ends with one reading of each quantity the model's drivers (and the destination
//! network) read: a stock (people in some states at some places) or the running total of a flow.
//! Each January, a driven parameter of the run's own copy of the model gets its value for the
//! year: the value before drivers times the product of its drivers' multipliers, each of the
//! quantity read `lag_months` before that January (before the run: the starting stocks, no
//! flow). The value then holds for the whole year, like a schedule's.

use super::agents::Block;
use super::model::{Model, Quantity};
use super::tally::YearTally;

/// Monthly readings of the model's quantities.
pub(crate) struct History {
    /// Per quantity: reading `k` is at the end of month `k − 1` (reading 0: the start). Flows
    /// are running totals since the start.
    readings: Vec<Vec<f64>>,
    /// Per quantity: flow counted in the years already closed.
    closed: Vec<f64>,
}

impl History {
    pub fn new(model: &Model) -> History {
        let n = model.quantities.len();
        let months = model.months() as usize + 1;
        History {
            readings: (0..n).map(|_| Vec::with_capacity(months)).collect(),
            closed: vec![0.0; n],
        }
    }

    /// Takes this month's reading of every quantity from the blocks' counts.
    pub fn record(&mut self, model: &Model, blocks: &[Block]) {
        let ppa = f64::from(model.persons_per_agent);
        let n = model.places.len();
        for (q, quantity) in model.quantities.iter().enumerate() {
            let agents: u64 = match quantity {
                Quantity::Stock { states, places } => blocks
                    .iter()
                    .map(|b| {
                        let mut sum = 0i64;
                        for &s in states {
                            for &p in places {
                                for sex in 0..2 {
                                    let i = YearTally::stock_index(n, s, usize::from(p), sex);
                                    sum += i64::from(b.stocks[i]);
                                }
                            }
                        }
                        sum.max(0) as u64
                    })
                    .sum(),
                Quantity::Flow { kind, places, .. } => blocks
                    .iter()
                    .map(|b| {
                        let mut sum = 0u64;
                        for &p in places {
                            for sex in 0..2 {
                                let i = YearTally::flow_index(n, *kind, usize::from(p), sex);
                                sum += u64::from(b.flows[i]);
                            }
                        }
                        sum
                    })
                    .sum(),
            };
            let persons = agents as f64 * ppa;
            let reading = match quantity {
                Quantity::Stock { .. } => persons,
                Quantity::Flow { .. } => self.closed[q] + persons,
            };
            self.readings[q].push(reading);
        }
    }

    /// Called after December's reading, before the blocks' yearly flows are reset.
    pub fn close_year(&mut self, model: &Model) {
        for (q, quantity) in model.quantities.iter().enumerate() {
            if matches!(quantity, Quantity::Flow { .. }) {
                self.closed[q] = *self.readings[q].last().expect("a reading");
            }
        }
    }

    /// The value of quantity `q` as read for year index `y` with a lag of `lag` months.
    pub fn value(&self, model: &Model, q: usize, y: usize, lag: u32) -> f64 {
        let k = (12 * y).saturating_sub(lag as usize);
        let r = &self.readings[q];
        let at = |k: usize| r[k.min(r.len() - 1)];
        match model.quantities[q] {
            Quantity::Stock { .. } => at(k),
            Quantity::Flow { window, .. } => at(k) - at(k.saturating_sub(window as usize)),
        }
    }
}

/// Writes year `y` of every driven parameter into `run` (the run's copy of `model`).
pub(crate) fn apply(run: &mut Model, model: &Model, history: &History, y: usize) {
    for driven in &model.driven {
        let m: f64 = driven
            .drivers
            .iter()
            .map(|d| d.multiplier(y, history.value(model, d.quantity, y, d.lag_months)))
            .product();
        let value = driven.target.scaled(driven.base[y], m);
        run.series_mut(driven.target)[y] = value;
    }
}

/// The destination network multiplier of every place in year `y` (1 where there is none).
pub(crate) fn network(model: &Model, history: &History, y: usize, out: &mut [f64]) {
    out.iter_mut().for_each(|m| *m = 1.0);
    let Some(net) = &model.choice.network else {
        return;
    };
    for (p, q) in net.quantity.iter().enumerate() {
        if let Some(q) = *q {
            let s = history.value(model, q, y, net.lag_months).max(0.0);
            out[p] = (1.0 + s / net.scale).powf(net.elasticity[y]);
        }
    }
}
