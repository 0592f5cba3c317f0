//! Waiting times under piecewise-constant monthly hazards, drawn once instead of tested monthly.
//!
//! An agent in a slowly changing state faces a monthly hazard that depends on the calendar year
//! (schedules and events are resolved per year) and on its time in state through a step
//! function (e.g. "no naturalisation before five years"). All of it is known in advance, so the
//! month of the next event is found by inverse transform: draw `E ~ Exp(1)` and return the first
//! month `k` whose cumulative hazard from the start reaches `E`. That has exactly the
//! distribution of testing a Bernoulli(1 − e^{−λ(k)}) every month, at the cost of a binary
//! search in a table of cumulative hazards per duration step instead of a test every month.
//!
//! A hazard that follows the model's own stocks (a parameter with drivers) is known only up to
//! the end of the current year: its table is filled year by year as the run goes
//! ([`Hazard::set_year`]), and a search never looks past the current year. An agent whose
//! event does not fall before then draws again in January; because the waiting time is
//! memoryless and the hazard constant within a year, that has exactly the distribution of
//! testing every month.

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

impl Default for StepFn {
    /// The constant 1.
    fn default() -> Self {
        StepFn::constant(1.0)
    }
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

    /// Value at `offset` months in state.
    #[inline]
    pub fn at(&self, offset: u32) -> f64 {
        let i = self.steps.partition_point(|s| s.0 <= offset) - 1;
        self.steps[i].1
    }

    /// The steps.
    pub fn steps(&self) -> &[(u32, f64)] {
        &self.steps
    }
}

/// Cumulative hazard, month by month, of a monthly hazard that is constant within each
/// calendar year, with the runs of months over which it is constant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CumTable {
    /// `cum[m]`: hazard accumulated from month 0 to the start of month `m` (one more than months).
    cum: Vec<f64>,
    /// Monthly hazard of month `m`.
    rate: Vec<f64>,
    /// First month after `m` with a different rate (or the end of the run).
    run_end: Vec<u32>,
}

impl CumTable {
    /// The table of monthly hazards `rate` (one per year). With `yearly_runs`, no run of
    /// constant rate crosses a year boundary, so that years can be changed later.
    pub fn new(rate: Vec<f64>, yearly_runs: bool) -> CumTable {
        let months = 12 * rate.len();
        let mut cum = Vec::with_capacity(months + 1);
        let mut year_start = 0.0;
        for &r in &rate {
            cum.extend((0..12).map(|j| year_start + r * f64::from(j)));
            year_start += 12.0 * r;
        }
        cum.push(year_start);
        let monthly: Vec<f64> = rate.iter().flat_map(|&r| [r; 12]).collect();
        let mut run_end = vec![months as u32; months];
        for m in (0..months.saturating_sub(1)).rev() {
            run_end[m] = if monthly[m + 1] == monthly[m] && !(yearly_runs && (m + 1) % 12 == 0) {
                run_end[m + 1]
            } else {
                (m + 1) as u32
            };
        }
        CumTable {
            cum,
            rate: monthly,
            run_end,
        }
    }

    /// Sets the monthly hazard of year `y`; every earlier year must already hold its final
    /// value, and later years are stale until they are set (the table must have been built
    /// with yearly runs).
    pub fn set_year(&mut self, y: usize, rate: f64) {
        let first = 12 * y;
        let start = self.cum[first];
        for j in 0..12 {
            self.rate[first + j] = rate;
            self.cum[first + j + 1] = start + rate * (j + 1) as f64;
        }
    }

    /// First month `k` in `from..end` whose hazard, accumulated from the start of `from` to the
    /// end of `k`, reaches `e`; otherwise the hazard accumulated over the whole span.
    #[inline(always)]
    fn find(&self, from: u32, end: u32, e: f64) -> Result<u32, f64> {
        self.find_target(from, end, self.cum[from as usize] + e)
    }

    /// First month `k` in `from..end` by whose end the cumulative hazard since the start of the
    /// run reaches `target`; otherwise the hazard accumulated over `from..end`.
    #[inline(always)]
    fn find_target(&self, from: u32, end: u32, target: f64) -> Result<u32, f64> {
        let (from, end) = (from as usize, end as usize);
        let start = self.cum[from];
        let stop = self.cum[end];
        // (`target` is NaN only for a NaN draw; treat it as no event.)
        if target > stop || target.is_nan() || from >= end {
            return Err(stop - start);
        }
        // Walk the runs of constant rate; in the run where the target is reached, the month is
        // a division away: cum[m + n] = cum[m] + rate·n ≥ target.
        let mut m = from;
        loop {
            let run_end = (self.run_end[m] as usize).min(end);
            if self.cum[run_end] >= target {
                let need = (target - self.cum[m]) / self.rate[m];
                let n = ceil(need).max(1).min(run_end - m);
                return Ok((m + n - 1) as u32);
            }
            m = run_end;
        }
    }
}

/// `⌈x⌉` of a non-negative month count, in integer arithmetic (no libm call on the hot path);
/// NaN (a zero rate at a zero target) gives 0.
#[inline(always)]
fn ceil(x: f64) -> usize {
    let t = x as usize;
    t + usize::from((t as f64) < x)
}

/// A hazard that is constant within calendar years and steps with months in state: one
/// [`CumTable`] per step of time in state. The default hazard is zero (no event ever).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hazard {
    /// `(months in state at which the step starts, the step's value v, table of a + b·v)`, the
    /// first at 0.
    pieces: Vec<(u32, f64, CumTable)>,
    /// Whether later years are not known yet (the hazard follows drivers).
    driven: bool,
    /// For a driven hazard without steps in time in state: its index among the run's waiting
    /// queues (see [`Hazard::threshold`]).
    queue: Option<u16>,
}

impl Hazard {
    /// A hazard that does not depend on time in state.
    pub fn calendar(rate: Vec<f64>, driven: bool) -> Hazard {
        Hazard {
            pieces: vec![(0, 0.0, CumTable::new(rate, driven))],
            driven,
            queue: None,
        }
    }

    /// `a[year] + b[year] · f(months in state)`.
    pub fn stepped(a: &[f64], b: &[f64], f: &StepFn, driven: bool) -> Hazard {
        let pieces = f
            .steps()
            .iter()
            .map(|&(start, v)| {
                let rate = a.iter().zip(b).map(|(x, y)| x + y * v).collect();
                (start, v, CumTable::new(rate, driven))
            })
            .collect();
        Hazard {
            pieces,
            driven,
            queue: None,
        }
    }

    /// Gives a driven hazard without steps in time in state a waiting queue: an agent waiting
    /// under it is then kept by its threshold ([`Hazard::threshold`]) until the year in which
    /// the cumulative hazard reaches it is known, instead of drawing again every January.
    pub fn set_queue(&mut self, queue: u16) {
        debug_assert!(self.driven && self.pieces.len() == 1);
        self.queue = Some(queue);
    }

    /// Whether the hazard has no steps in time in state (one rate per calendar month).
    pub fn is_calendar_only(&self) -> bool {
        self.pieces.len() == 1
    }

    /// The waiting queue of this hazard, if it has one.
    #[inline(always)]
    pub fn queue(&self) -> Option<u16> {
        self.queue
    }

    /// The cumulative hazard (from the start of the run) at which an agent waiting from month
    /// `from` with an Exp(1) draw `e` has its event: its event month is the first whose
    /// cumulative hazard reaches it. Hazards without steps in time in state only.
    #[inline(always)]
    pub fn threshold(&self, from: u32, e: f64) -> f64 {
        self.pieces[0].2.cum[from as usize] + e
    }

    /// First month in `from..end` by whose end the cumulative hazard reaches `threshold`
    /// (hazards without steps in time in state). For `from < end` there is one exactly when
    /// `threshold` is at most [`Hazard::reach`]`(end)`.
    #[inline(always)]
    pub fn event_at_threshold(&self, from: u32, end: u32, threshold: f64) -> Option<u32> {
        self.pieces[0].2.find_target(from, end, threshold).ok()
    }

    /// The cumulative hazard from the start of the run to the start of month `end` (hazards
    /// without steps in time in state).
    #[inline(always)]
    pub fn reach(&self, end: u32) -> f64 {
        self.pieces[0].2.cum[end as usize]
    }

    /// Whether the hazard follows drivers: it is known only up to the end of the current year.
    #[inline(always)]
    pub fn is_driven(&self) -> bool {
        self.driven
    }

    /// Sets year `y` to `a + b · f(months in state)` (years must be set in order).
    pub fn set_year(&mut self, y: usize, a: f64, b: f64) {
        for (_, v, table) in &mut self.pieces {
            table.set_year(y, a + b * *v);
        }
    }

    /// First month in `from..end` at which the hazard accumulated since `from` reaches `e`, for
    /// an agent that entered its state in month `entered` (negative: before the run started);
    /// `None` if not before `end`.
    pub fn next_event(&self, entered: i64, from: u32, end: u32, e: f64) -> Option<u32> {
        if let [(_, _, table)] = self.pieces.as_slice() {
            return table.find(from, end, e).ok();
        }
        let mut rest = e;
        let mut k = from;
        let month = |offset: u32| (entered + i64::from(offset)).clamp(0, i64::from(end)) as u32;
        for (i, (start, _, table)) in self.pieces.iter().enumerate() {
            let piece_end = self
                .pieces
                .get(i + 1)
                .map_or(end, |next| month(next.0).min(end));
            let piece_start = month(*start).max(k);
            if piece_start >= piece_end {
                continue;
            }
            match table.find(piece_start, piece_end, rest) {
                Ok(month) => return Some(month),
                Err(used) => rest -= used,
            }
            k = piece_end;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazard_inverts_probability() {
        assert!((1.0 - (-hazard(0.3)).exp() - 0.3).abs() < 1e-15);
        assert_eq!(hazard(0.0), 0.0);
        assert_eq!(hazard(1.0), CERTAIN);
    }

    #[test]
    fn event_is_first_month_reaching_target() {
        let h = Hazard::calendar(vec![0.5; 10], false);
        // Cumulative after n months is 0.5 n: target 1.2 is reached in the 3rd month (index 2).
        assert_eq!(h.next_event(0, 0, 120, 1.2), Some(2));
        assert_eq!(h.next_event(0, 5, 120, 1.0), Some(6));
        assert_eq!(h.next_event(0, 0, 120, 0.0), Some(0));
        assert_eq!(h.next_event(0, 0, 2, 1.2), None);
        assert_eq!(h.next_event(0, 119, 120, 0.4), Some(119));
        assert_eq!(h.next_event(0, 119, 120, 0.6), None);
    }

    #[test]
    fn zero_hazard_never_fires() {
        let h = Hazard::calendar(vec![0.0; 3], false);
        assert_eq!(h.next_event(0, 0, 36, 1e-12), None);
    }

    #[test]
    fn duration_step_delays_the_modulated_part() {
        let a = vec![0.0; 5];
        let b = vec![1.0; 5];
        let f = StepFn::new(vec![(0, 0.0), (30, 1.0)]);
        let h = Hazard::stepped(&a, &b, &f, false);
        // Entered in month 4: nothing before month 34, then hazard 1 per month.
        assert_eq!(h.next_event(4, 5, 60, 0.5), Some(34));
        assert_eq!(h.next_event(4, 5, 60, 2.5), Some(36));
        assert_eq!(h.next_event(4, 40, 60, 2.5), Some(42));
        assert_eq!(f.at(29), 0.0);
        assert_eq!(f.at(30), 1.0);
    }

    #[test]
    fn calendar_pieces_accumulate_across_years() {
        let h = Hazard::calendar(vec![0.0, 0.1, 1.0], false);
        // Year 1 contributes 1.2 in total; 1.5 needs 0.3 more at 1 per month: first month of year 2.
        assert_eq!(h.next_event(0, 0, 36, 1.5), Some(24));
        assert_eq!(h.next_event(0, 0, 36, 0.95), Some(21));
        assert_eq!(h.next_event(0, 14, 36, 0.95), Some(23));
    }

    #[test]
    fn agrees_with_monthly_accumulation() {
        // Brute force: accumulate month by month and compare, over many targets and starts.
        let a: Vec<f64> = (0..8)
            .map(|y| [0.0, 0.02, 0.3, 0.0, 0.05, 1.0, 0.0, 0.01][y])
            .collect();
        let b: Vec<f64> = (0..8).map(|y| 0.1 * y as f64).collect();
        let f = StepFn::new(vec![(0, 0.0), (7, 0.5), (30, 2.0)]);
        let h = Hazard::stepped(&a, &b, &f, false);
        for since in [0u32, 3, 17] {
            for from in [since + 1, since + 9, since + 25] {
                // Targets off the exact month boundaries (which have probability zero).
                for e in [0.0013, 0.1037, 0.7093, 1.913, 4.0093, 11.0071] {
                    let mut acc = 0.0;
                    let mut expected = None;
                    for k in from..96 {
                        let y = (k / 12) as usize;
                        acc += a[y] + b[y] * f.at(k - since);
                        if acc >= e {
                            expected = Some(k);
                            break;
                        }
                    }
                    assert_eq!(
                        h.next_event(i64::from(since), from, 96, e),
                        expected,
                        "since {since} from {from} e {e}"
                    );
                }
            }
        }
    }

    /// A table filled year by year agrees with one built from the final rates, for every
    /// search that stays within the years already set.
    #[test]
    fn years_set_in_order_agree_with_a_table_built_at_once() {
        let rates = [0.01, 0.3, 0.3, 0.0, 0.05];
        let full = Hazard::calendar(rates.to_vec(), false);
        let mut partial = Hazard::calendar(vec![0.7; 5], true);
        for (y, &r) in rates.iter().enumerate() {
            partial.set_year(y, r, 0.0);
            let horizon = 12 * (y as u32 + 1);
            for from in [0, 5, 12 * y as u32] {
                for e in [0.004, 0.2, 1.3, 3.7] {
                    let want = full.next_event(0, from, horizon, e);
                    assert_eq!(
                        partial.next_event(0, from, horizon, e),
                        want,
                        "y {y} from {from} e {e}"
                    );
                }
            }
        }
    }

    /// A constant monthly probability p gives a geometric wait: P(T = k) = (1−p)^(k−1) p, mean 1/p.
    #[test]
    fn constant_hazard_gives_geometric_waits() {
        use rand_distr::{Distribution, Exp1};
        let p = 0.08;
        let h = Hazard::calendar(vec![hazard(p); 50], false);
        let mut rng = crate::engine::rng::stream(3, 0, crate::engine::rng::Purpose::External, 0, 0);
        let n = 200_000;
        let mut counts = [0u32; 4];
        let mut sum = 0.0;
        for _ in 0..n {
            let e: f64 = Exp1.sample(&mut rng);
            let wait = h.next_event(0, 0, 600, e).expect("fires") + 1;
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
}
