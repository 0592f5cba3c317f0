//! Free schedules: a time-varying parameter whose knot values are estimated, kept smooth by a
//! random-walk prior on the log or logit scale.
//!
//! With `u = g(v)` the knot values on the chosen scale (`g = ln` or `logit`), bounded to
//! `[g(min), g(max)]`:
//!
//! * the first knot is uniform on the bounds: `u₁ ~ U(a, b)`;
//! * each next knot is a Gaussian step from the previous one, truncated to the bounds:
//!   `u_k | u_{k−1}, σ ~ N(u_{k−1}, σ²)` on `[a, b]`, whose density is
//!   `φ((u_k − u_{k−1})/σ) / (σ · [Φ((b − u_{k−1})/σ) − Φ((a − u_{k−1})/σ)])`;
//! * the step standard deviation `σ` is given, or itself has a prior (then it is estimated with
//!   the knots, and the truncation's normaliser, which depends on `σ`, is part of the density).
//!
//! The working coordinates of a schedule are `[σ (if estimated, in its prior's working space),
//! u₁, …, u_K]`. A free schedule is for residual variation around what the mechanisms explain;
//! its prior keeps it smooth.
//!
//! After the last fitted year a schedule either follows its prior (`after_fit = "prior"`: the
//! knots there are not informed by the data, so their posterior is the random walk continued
//! from the fitted knots, and predictive bands widen honestly), or is held at its value in
//! the last fitted year (`after_fit = "hold"`: the simulated schedule is flat from that year).

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use toml::{Table, Value};

use super::prior::Prior;
use crate::engine::rng::Rng;
use crate::scenario::Override;

/// The scale a random walk moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// `ln v` (for positive values: rates, multipliers).
    Log,
    /// `ln(v / (1 − v))` (for probabilities).
    Logit,
}

impl Scale {
    /// Value → scale.
    pub fn forward(self, v: f64) -> f64 {
        match self {
            Scale::Log => v.ln(),
            Scale::Logit => (v / (1.0 - v)).ln(),
        }
    }

    /// Scale → value.
    pub fn back(self, u: f64) -> f64 {
        match self {
            Scale::Log => u.exp(),
            Scale::Logit => 1.0 / (1.0 + (-u).exp()),
        }
    }

    /// `log` or `logit`.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Log => "log",
            Scale::Logit => "logit",
        }
    }
}

/// The step standard deviation of a random walk.
#[derive(Clone, Debug, PartialEq)]
pub enum StepSd {
    /// Given in the file.
    Fixed(f64),
    /// Estimated, with this prior.
    Estimated(Prior),
}

/// What a schedule does after the last fitted year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFit {
    /// Its knots there follow the random-walk prior.
    Prior,
    /// It stays at its value in the last fitted year.
    Hold,
}

/// A schedule whose knot values are calibrated.
#[derive(Clone, Debug, PartialEq)]
pub struct FreeSchedule {
    /// Scenario key path of the parameter.
    pub path: String,
    /// Knot years, strictly increasing.
    pub years: Vec<i32>,
    /// Scale of the random walk.
    pub scale: Scale,
    /// Bounds of every knot value, in the parameter's units.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Step standard deviation (on the scale).
    pub step_sd: StepSd,
    /// Beyond the last fitted year.
    pub after_fit: AfterFit,
}

/// Most draws tried for one truncated step before giving up.
const MAX_TRIES: usize = 100_000;

/// Standard normal distribution function.
fn big_phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

impl FreeSchedule {
    /// Working coordinates: the knots, and `σ` first when it is estimated.
    pub fn dim(&self) -> usize {
        self.years.len() + usize::from(self.sd_prior().is_some())
    }

    fn sd_prior(&self) -> Option<&Prior> {
        match &self.step_sd {
            StepSd::Estimated(p) => Some(p),
            StepSd::Fixed(_) => None,
        }
    }

    /// Bounds of the knots on the scale.
    fn working_bounds(&self) -> (f64, f64) {
        (self.scale.forward(self.min), self.scale.forward(self.max))
    }

    /// Column names: `path@step_sd` (if estimated), then `path@YEAR` per knot.
    pub fn names(&self) -> Vec<String> {
        let sd = self
            .sd_prior()
            .map(|_| format!("{}@step_sd", self.path))
            .into_iter();
        sd.chain(self.years.iter().map(|y| format!("{}@{y}", self.path)))
            .collect()
    }

    /// Bounds of each coordinate in its own units (as `names`).
    pub fn bounds(&self) -> Vec<(f64, f64)> {
        let sd = self.sd_prior().map(Prior::bounds).into_iter();
        sd.chain(self.years.iter().map(|_| (self.min, self.max)))
            .collect()
    }

    /// Splits working coordinates into `σ` and the knots on the scale.
    fn split<'a>(&self, z: &'a [f64]) -> (f64, &'a [f64]) {
        match &self.step_sd {
            StepSd::Fixed(s) => (*s, z),
            StepSd::Estimated(p) => (p.from_z(z[0]), &z[1..]),
        }
    }

    /// Log prior density of working coordinates `z` (length `dim()`); `-∞` outside the support.
    pub fn log_density(&self, z: &[f64]) -> f64 {
        let mut log = 0.0;
        if let StepSd::Estimated(p) = &self.step_sd {
            log += p.log_density(z[0]);
            if log == f64::NEG_INFINITY {
                return log;
            }
        }
        let (sigma, u) = self.split(z);
        let (a, b) = self.working_bounds();
        if u.iter().any(|&x| !(x >= a && x <= b)) {
            return f64::NEG_INFINITY;
        }
        log -= (b - a).ln();
        for w in u.windows(2) {
            log += log_truncated_step(w[0], w[1], sigma, a, b);
        }
        log
    }

    /// A draw from the prior, as working coordinates; `None` if a step cannot be drawn.
    pub fn sample_z(&self, rng: &mut Rng) -> Option<Vec<f64>> {
        let mut z = Vec::with_capacity(self.dim());
        let sigma = match &self.step_sd {
            StepSd::Fixed(s) => *s,
            StepSd::Estimated(p) => {
                let zs = p.sample_z(rng)?;
                z.push(zs);
                p.from_z(zs)
            }
        };
        let (a, b) = self.working_bounds();
        let mut u = a + (b - a) * rng.random::<f64>();
        z.push(u);
        for _ in 1..self.years.len() {
            u = (0..MAX_TRIES).find_map(|_| {
                let n: f64 = StandardNormal.sample(rng);
                let x = u + sigma * n;
                (a..=b).contains(&x).then_some(x)
            })?;
            z.push(u);
        }
        Some(z)
    }

    /// Values in the parameter's units of working coordinates `z`: `σ`, then the knot values.
    pub fn from_z(&self, z: &[f64]) -> Vec<f64> {
        let (sigma, u) = self.split(z);
        let sd = self.sd_prior().map(|_| sigma).into_iter();
        sd.chain(u.iter().map(|&x| self.scale.back(x))).collect()
    }

    /// The override that writes knot values `values` (the knots only, in the parameter's units)
    /// into the scenario: `{ years, values }`, keeping the parameter's drivers and
    /// interpolation. With `after_fit = "hold"` and knots after `last_fitted`, the schedule is
    /// cut at `last_fitted` (a knot there with the schedule's value) and stays flat after it.
    pub fn override_for(&self, values: &[f64], last_fitted: i32, linear: bool) -> Override {
        let mut years: Vec<f64> = self.years.iter().map(|&y| f64::from(y)).collect();
        let mut values = values.to_vec();
        if self.after_fit == AfterFit::Hold
            && years.last().is_some_and(|&y| y > f64::from(last_fitted))
        {
            let cut = f64::from(last_fitted);
            let held = value_at(&years, &values, cut, linear);
            let keep = years.partition_point(|&y| y < cut);
            years.truncate(keep);
            values.truncate(keep);
            years.push(cut);
            values.push(held);
        }
        knots_override(&self.path, &years, &values)
    }
}

/// The override that writes knots `years`, `values` at `path` (drivers and interpolation of a
/// parameter written as a table are kept: see `scenario::Template::resolve`).
pub fn knots_override(path: &str, years: &[f64], values: &[f64]) -> Override {
    let mut t = Table::new();
    t.insert(
        "years".into(),
        Value::Array(years.iter().map(|&y| Value::Integer(y as i64)).collect()),
    );
    t.insert(
        "values".into(),
        Value::Array(values.iter().map(|&v| Value::Float(v)).collect()),
    );
    Override {
        arg: format!("{path}={}", Value::Table(t.clone())),
        path: path.to_string(),
        value: Value::Table(t),
    }
}

/// What a column of `posterior.csv` holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Column<'a> {
    /// A free constant at this key path.
    Constant(&'a str),
    /// The knot of the schedule at this path in this year (`path@YEAR`).
    Knot(&'a str, i32),
    /// The step standard deviation of the schedule at this path (`path@step_sd`).
    StepSd(&'a str),
}

impl<'a> Column<'a> {
    /// Reads a column name.
    pub fn parse(name: &'a str) -> Column<'a> {
        match name.rsplit_once('@') {
            Some((path, "step_sd")) => Column::StepSd(path),
            Some((path, year)) => year
                .parse()
                .map_or(Column::Constant(name), |y| Column::Knot(path, y)),
            None => Column::Constant(name),
        }
    }
}

/// A schedule's value at `year` from its knots (flat outside them).
pub fn value_at(years: &[f64], values: &[f64], year: f64, linear: bool) -> f64 {
    let i = years.partition_point(|&k| k <= year);
    if i == 0 {
        return values[0];
    }
    if i == years.len() {
        return values[i - 1];
    }
    if !linear {
        return values[i - 1];
    }
    let (x0, x1) = (years[i - 1], years[i]);
    values[i - 1] + (values[i] - values[i - 1]) * (year - x0) / (x1 - x0)
}

/// `ln` of the density of a step from `from` to `to` with standard deviation `sigma`,
/// truncated to `[a, b]`.
fn log_truncated_step(from: f64, to: f64, sigma: f64, a: f64, b: f64) -> f64 {
    let mass = big_phi((b - from) / sigma) - big_phi((a - from) / sigma);
    let x = (to - from) / sigma;
    -0.5 * x * x - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - mass.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(step_sd: StepSd) -> FreeSchedule {
        FreeSchedule {
            path: "exit.push".into(),
            years: vec![2000, 2005, 2010],
            scale: Scale::Log,
            min: 0.1,
            max: 10.0,
            step_sd,
            after_fit: AfterFit::Prior,
        }
    }

    #[test]
    fn density_by_hand() {
        let s = schedule(StepSd::Fixed(0.5));
        let (a, b) = (0.1f64.ln(), 10f64.ln());
        let u = [0.0, 0.3, -0.2];
        // Steps 0 → 0.3 and 0.3 → -0.2, each truncated to [a, b].
        let step = |from: f64, to: f64| {
            let mass = big_phi((b - from) / 0.5) - big_phi((a - from) / 0.5);
            let pdf = (-0.5 * ((to - from) / 0.5f64).powi(2)).exp()
                / (0.5 * (2.0 * std::f64::consts::PI).sqrt());
            (pdf / mass).ln()
        };
        let expected = -(b - a).ln() + step(0.0, 0.3) + step(0.3, -0.2);
        assert!((s.log_density(&u) - expected).abs() < 1e-12);
        assert_eq!(s.log_density(&[0.0, 3.0, 0.0]), f64::NEG_INFINITY);
        // Φ by hand: Φ(0) = 1/2, Φ(1.959964) = 0.975.
        assert!((big_phi(0.0) - 0.5).abs() < 1e-15);
        let p = big_phi(1.959_963_984_540_054);
        assert!((p - 0.975).abs() < 1e-9, "{p}");
    }

    #[test]
    fn draws_follow_the_random_walk() {
        // Far from the bounds the steps are N(0, σ²): their sd and the first knot's spread.
        let s = FreeSchedule {
            min: 1e-6,
            max: 1e6,
            ..schedule(StepSd::Fixed(0.2))
        };
        let mut rng = crate::engine::rng::from_key(7);
        let n = 20_000;
        let steps: Vec<f64> = (0..n)
            .map(|_| {
                let z = s.sample_z(&mut rng).unwrap();
                z[1] - z[0]
            })
            .collect();
        let sd = (steps.iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt();
        assert!((sd - 0.2).abs() < 0.005, "{sd}");
    }

    #[test]
    fn an_estimated_step_sd_comes_first_and_its_normaliser_counts() {
        let s = schedule(StepSd::Estimated(Prior::LogUniform {
            min: 0.05,
            max: 2.0,
        }));
        assert_eq!(s.dim(), 4);
        assert_eq!(
            s.names(),
            [
                "exit.push@step_sd",
                "exit.push@2000",
                "exit.push@2005",
                "exit.push@2010"
            ]
        );
        let z = [0.5f64.ln(), 0.0, 0.1, 0.2];
        let fixed = schedule(StepSd::Fixed(0.5));
        assert!((s.log_density(&z) - fixed.log_density(&z[1..])).abs() < 1e-12);
        let theta = s.from_z(&z);
        assert!((theta[0] - 0.5).abs() < 1e-15 && (theta[2] - 0.1f64.exp()).abs() < 1e-15);
    }

    #[test]
    fn hold_cuts_the_schedule_at_the_last_fitted_year() {
        let s = FreeSchedule {
            after_fit: AfterFit::Hold,
            ..schedule(StepSd::Fixed(0.5))
        };
        let o = s.override_for(&[1.0, 2.0, 4.0], 2007, true);
        let t = o.value.as_table().unwrap();
        assert_eq!(t["years"].as_array().unwrap().len(), 3);
        assert_eq!(t["years"][2].as_integer(), Some(2007));
        assert!((t["values"][2].as_float().unwrap() - 2.8).abs() < 1e-12);
        let free = schedule(StepSd::Fixed(0.5)).override_for(&[1.0, 2.0, 4.0], 2007, true);
        assert_eq!(free.value["years"][2].as_integer(), Some(2010));
        assert_eq!(free.value["values"][2].as_float(), Some(4.0));
    }

    #[test]
    fn logit_round_trip() {
        for v in [0.01, 0.3, 0.9] {
            assert!((Scale::Logit.back(Scale::Logit.forward(v)) - v).abs() < 1e-12);
        }
    }
}
