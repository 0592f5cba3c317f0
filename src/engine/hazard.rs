//! Waiting times under piecewise-constant monthly hazards, drawn once instead of tested monthly.
//!
//! An agent in a slowly changing state faces a monthly hazard
//! `λ(k) = a[year(k)] + b[year(k)] · f(k − since)`: a calendar part `a`, and a part `b` modulated
//! by time in state `f` (a step function, e.g. "no naturalisation before five years"). All of it
//! is known in advance (schedules and events are resolved per year), so the month of the next
//! event is found by inverse transform: draw `E ~ Exp(1)` and return the first month `k` whose
//! cumulative hazard from the start reaches `E`. That has exactly the distribution of testing a
//! Bernoulli(1 − e^{−λ(k)}) every month, at the cost of a few pieces instead of every month.

/// Converts a monthly probability into a monthly hazard, `−ln(1 − p)`; `p = 1` gives a hazard
/// so large that the event happens in the first month.
#[inline]
pub fn hazard(p: f64) -> f64 {
    if p >= 1.0 { CERTAIN } else { -(-p).ln_1p() }
}

/// Hazard used for a probability of one: `e^{−CERTAIN}` is zero in `f64`.
pub const CERTAIN: f64 = 1.0e6;

/// A step function of months in state: `(start_month, value)` pairs, the first starting at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct StepFn {
    steps: Vec<(u32, f64)>,
}

impl StepFn {
    /// Builds a step function; `steps` must start at month 0 and increase.
    pub fn new(steps: Vec<(u32, f64)>) -> Self {
        debug_assert!(steps.first().is_some_and(|s| s.0 == 0));
        debug_assert!(steps.windows(2).all(|w| w[0].0 < w[1].0));
        StepFn { steps }
    }

    /// The constant function.
    pub fn constant(value: f64) -> Self {
        StepFn {
            steps: vec![(0, value)],
        }
    }

    /// Value at `offset` months in state, and the offset where the next step starts.
    #[inline]
    pub fn at(&self, offset: u32) -> (f64, u32) {
        let i = self.steps.partition_point(|s| s.0 <= offset) - 1;
        let next = self.steps.get(i + 1).map_or(u32::MAX, |s| s.0);
        (self.steps[i].1, next)
    }
}

/// A piecewise-constant hazard `a[year] + b[year] · f(month − since)`, per month.
pub struct Profile<'a> {
    /// Calendar part, one value per simulated year.
    pub a: &'a [f64],
    /// Duration-modulated part, one value per simulated year.
    pub b: &'a [f64],
    /// Duration modulation of `b`.
    pub f: &'a StepFn,
    /// Month the agent entered its state.
    pub since: u32,
}

impl Profile<'_> {
    /// Hazard of each part in month `k`: `(a, b · f)`.
    #[inline]
    pub fn parts(&self, k: u32) -> (f64, f64) {
        let y = (k / 12) as usize;
        let b = self.b[y];
        let bf = if b > 0.0 {
            b * self.f.at(k - self.since).0
        } else {
            0.0
        };
        (self.a[y], bf)
    }
}

/// First month `k` in `from..end` at which the cumulative hazard since `from` reaches `e`, or
/// `None` if it does not before `end`.
pub fn next_event(p: &Profile<'_>, from: u32, end: u32, e: f64) -> Option<u32> {
    let mut k = from;
    let mut rest = e;
    while k < end {
        let y = (k / 12) as usize;
        let year_end = (k / 12 + 1) * 12;
        let b = p.b[y];
        let (fv, f_next) = if b > 0.0 {
            let (v, next) = p.f.at(k - p.since);
            (v, p.since.saturating_add(next))
        } else {
            (0.0, u32::MAX)
        };
        let piece_end = year_end.min(f_next).min(end);
        let lambda = p.a[y] + b * fv;
        let len = piece_end - k;
        if lambda > 0.0 {
            let need = rest / lambda;
            if need <= f64::from(len) {
                let steps = (need.ceil() as u32).max(1);
                return Some(k + steps - 1);
            }
            rest -= lambda * f64::from(len);
        }
        k = piece_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant(lambda: f64, years: usize) -> (Vec<f64>, Vec<f64>, StepFn) {
        (vec![lambda; years], vec![0.0; years], StepFn::constant(1.0))
    }

    #[test]
    fn hazard_inverts_probability() {
        assert!((1.0 - (-hazard(0.3)).exp() - 0.3).abs() < 1e-15);
        assert_eq!(hazard(0.0), 0.0);
        assert_eq!(hazard(1.0), CERTAIN);
    }

    #[test]
    fn event_is_first_month_reaching_target() {
        let (a, b, f) = constant(0.5, 10);
        let p = Profile {
            a: &a,
            b: &b,
            f: &f,
            since: 0,
        };
        // Cumulative after n months is 0.5 n: target 1.2 is reached in the 3rd month (index 2).
        assert_eq!(next_event(&p, 0, 120, 1.2), Some(2));
        assert_eq!(next_event(&p, 5, 120, 1.0), Some(6));
        assert_eq!(next_event(&p, 0, 120, 0.0), Some(0));
        assert_eq!(next_event(&p, 0, 2, 1.2), None);
    }

    #[test]
    fn zero_hazard_never_fires() {
        let (a, b, f) = constant(0.0, 3);
        let p = Profile {
            a: &a,
            b: &b,
            f: &f,
            since: 0,
        };
        assert_eq!(next_event(&p, 0, 36, 1e-12), None);
    }

    #[test]
    fn duration_step_delays_the_modulated_part() {
        let a = vec![0.0; 5];
        let b = vec![1.0; 5];
        let f = StepFn::new(vec![(0, 0.0), (30, 1.0)]);
        let p = Profile {
            a: &a,
            b: &b,
            f: &f,
            since: 4,
        };
        // Nothing before month 34, then hazard 1 per month.
        assert_eq!(next_event(&p, 5, 60, 0.5), Some(34));
        assert_eq!(next_event(&p, 5, 60, 2.5), Some(36));
        assert_eq!(p.parts(33), (0.0, 0.0));
        assert_eq!(p.parts(34), (0.0, 1.0));
    }

    /// A constant monthly probability p gives a geometric wait: P(T = k) = (1−p)^(k−1) p, mean 1/p.
    #[test]
    fn constant_hazard_gives_geometric_waits() {
        use rand_distr::{Distribution, Exp1};
        let p = 0.08;
        let (a, b, f) = constant(hazard(p), 50);
        let profile = Profile {
            a: &a,
            b: &b,
            f: &f,
            since: 0,
        };
        let mut rng = crate::engine::rng::stream(3, 0, crate::engine::rng::Purpose::External, 0, 0);
        let n = 200_000;
        let mut counts = [0u32; 4];
        let mut sum = 0.0;
        for _ in 0..n {
            let e: f64 = Exp1.sample(&mut rng);
            let wait = next_event(&profile, 0, 600, e).expect("fires") + 1;
            sum += f64::from(wait);
            if wait <= 4 {
                counts[wait as usize - 1] += 1;
            }
        }
        let mean = sum / f64::from(n);
        // sd of a geometric wait is sqrt(1-p)/p; allow 5 standard errors.
        let se = (1.0 - p).sqrt() / p / f64::from(n).sqrt();
        assert!(
            (mean - 1.0 / p).abs() < 5.0 * se,
            "mean wait {mean}, expected {}",
            1.0 / p
        );
        for (k, &c) in counts.iter().enumerate() {
            let expected = (1.0 - p).powi(k as i32) * p;
            let observed = f64::from(c) / f64::from(n);
            let se = (expected * (1.0 - expected) / f64::from(n)).sqrt();
            assert!(
                (observed - expected).abs() < 5.0 * se,
                "P(T={}) = {observed}, expected {expected}",
                k + 1
            );
        }
    }

    #[test]
    fn calendar_pieces_accumulate_across_years() {
        let a = vec![0.0, 0.1, 1.0];
        let b = vec![0.0; 3];
        let f = StepFn::constant(1.0);
        let p = Profile {
            a: &a,
            b: &b,
            f: &f,
            since: 0,
        };
        // Year 1 contributes 1.2 in total; 1.5 needs 0.3 more at 1 per month: first month of year 2.
        assert_eq!(next_event(&p, 0, 36, 1.5), Some(24));
        assert_eq!(next_event(&p, 0, 36, 1.0), Some(21));
    }
}
