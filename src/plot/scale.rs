//! The value axis of a chart: linear, or logarithmic where a panel's values span more than two
//! orders of magnitude (or everywhere with `diaspora plot --log`).
//!
//! The logarithmic axis is `log10(1 + y)`, the transform of the `log1p_rmse` distance, so a
//! figure shows differences as the distance weighs them. Zeros stay honest: zero is the foot of
//! the axis, one person sits 0.3 of a decade above it, and from ten upwards the axis is a plain
//! log axis (10 and 11 are 0.04 decades apart). Ticks are at 0 and at the powers of ten, with
//! light lines at 2–9 × each power.

/// How a figure's value axes are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    /// Per panel: logarithmic where its values span more than two orders of magnitude.
    #[default]
    Auto,
    /// Linear everywhere.
    Linear,
    /// Logarithmic everywhere.
    Log,
}

/// Ratio of the largest to the smallest positive value above which [`Choice::Auto`] draws a
/// panel on the logarithmic axis: two orders of magnitude.
pub const SPAN: f64 = 100.0;

/// One panel's value axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// `y`.
    Linear,
    /// `log10(1 + y)`.
    Log1p,
}

impl Scale {
    /// The axis for a panel showing `values`. Values below one person (quantiles interpolated
    /// between zeros and ones) count as one: a fraction of a person is not a magnitude.
    pub fn choose(choice: Choice, values: impl IntoIterator<Item = f64>) -> Scale {
        match choice {
            Choice::Linear => Scale::Linear,
            Choice::Log => Scale::Log1p,
            Choice::Auto => {
                let (lo, hi) = values
                    .into_iter()
                    .filter(|v| *v > 0.0 && v.is_finite())
                    .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                if hi / lo.max(1.0) > SPAN {
                    Scale::Log1p
                } else {
                    Scale::Linear
                }
            }
        }
    }

    /// The axis coordinate of `v` (negative values, which counts do not have, sit at zero on
    /// the logarithmic axis).
    pub fn to_axis(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log1p => v.max(0.0).ln_1p() / std::f64::consts::LN_10,
        }
    }

    /// The value at axis coordinate `a`.
    pub fn from_axis(self, a: f64) -> f64 {
        match self {
            Scale::Linear => a,
            Scale::Log1p => 10f64.powf(a) - 1.0,
        }
    }

    /// The axis of a panel whose largest value is `max` (at least 0).
    pub fn axis(self, max: f64) -> Axis {
        match self {
            Scale::Linear => {
                let top = if max > 0.0 { max * 1.08 } else { 1.0 };
                let step = nice_step(top, 7);
                let ticks = (0..)
                    .map(|i| f64::from(i) * step)
                    .take_while(|t| *t <= top + step * 1e-9)
                    .collect();
                Axis {
                    scale: self,
                    top,
                    ticks,
                    minor: Vec::new(),
                }
            }
            Scale::Log1p => {
                let top = self.to_axis(max.max(10.0)) * 1.05;
                let powers = (0..16).map(|k| 10f64.powi(k));
                let ticks = std::iter::once(0.0)
                    .chain(powers.clone().map(|p| self.to_axis(p)))
                    .take_while(|a| *a <= top)
                    .collect();
                let minor = powers
                    .flat_map(|p| (2..10).map(move |m| f64::from(m) * p))
                    .map(|v| self.to_axis(v))
                    .take_while(|a| *a <= top)
                    .collect();
                Axis {
                    scale: self,
                    top,
                    ticks,
                    minor,
                }
            }
        }
    }

    /// Words added to the axis's description: "" or " (log)".
    pub fn note(self) -> &'static str {
        match self {
            Scale::Linear => "",
            Scale::Log1p => " (log)",
        }
    }
}

/// A value axis from 0 to `top`, in axis coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// How values map to it.
    pub scale: Scale,
    /// The top of the axis.
    pub top: f64,
    /// Labelled ticks (and grid lines).
    pub ticks: Vec<f64>,
    /// Light grid lines without labels.
    pub minor: Vec<f64>,
}

impl Axis {
    /// The value a tick at axis coordinate `a` stands for, as printed.
    pub fn value_at(&self, a: f64) -> f64 {
        match self.scale {
            Scale::Linear => a,
            // The powers of ten, not 9.999999.
            Scale::Log1p => self.scale.from_axis(a).round(),
        }
    }
}

/// The smallest step of 1, 2 or 5 × 10^k that cuts `0..top` into at most `most` parts.
fn nice_step(top: f64, most: u32) -> f64 {
    let rough = top / f64::from(most);
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| top / s <= f64::from(most))
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_turns_logarithmic_beyond_two_orders_of_magnitude() {
        let auto = |v: &[f64]| Scale::choose(Choice::Auto, v.iter().copied());
        assert_eq!(auto(&[0.0, 5.0, 499.0]), Scale::Linear, "499 / 5 < 100");
        assert_eq!(auto(&[0.0, 5.0, 501.0]), Scale::Log1p, "501 / 5 > 100");
        assert_eq!(
            auto(&[0.0, 0.1, 99.0]),
            Scale::Linear,
            "fractions count as one"
        );
        assert_eq!(auto(&[0.0, 0.1, 101.0]), Scale::Log1p);
        assert_eq!(auto(&[0.0, 0.0]), Scale::Linear, "nothing positive");
        assert_eq!(auto(&[]), Scale::Linear);
        assert_eq!(
            Scale::choose(Choice::Log, [1.0, 2.0]),
            Scale::Log1p,
            "--log"
        );
        assert_eq!(Scale::choose(Choice::Linear, [1.0, 1e6]), Scale::Linear);
    }

    #[test]
    fn the_log_axis_is_log10_of_one_plus_the_value_with_ticks_at_powers_of_ten() {
        let s = Scale::Log1p;
        assert_eq!(s.to_axis(0.0), 0.0, "zero at the foot of the axis");
        assert!((s.to_axis(9.0) - 1.0).abs() < 1e-15);
        assert!((s.to_axis(999.0) - 3.0).abs() < 1e-15);
        assert!((s.to_axis(1.0) - 2f64.log10()).abs() < 1e-15);
        assert_eq!(s.to_axis(-3.0), 0.0);
        assert!((s.from_axis(s.to_axis(4321.0)) - 4321.0).abs() < 1e-9);
        let axis = s.axis(3_000.0);
        let labels: Vec<f64> = axis.ticks.iter().map(|&a| axis.value_at(a)).collect();
        assert_eq!(labels, [0.0, 1.0, 10.0, 100.0, 1000.0]);
        assert!(axis.top > s.to_axis(3_000.0) && axis.top < s.to_axis(10_000.0));
        // Light lines at 2–9 × each power below the top (5% above 3,000 on the axis, about
        // 4,480): 2..9, 20..90, 200..900, 2000, 3000, 4000.
        assert_eq!(axis.minor.len(), 8 + 8 + 8 + 3);
        assert!((axis.minor[0] - s.to_axis(2.0)).abs() < 1e-15);
        // From 10 upwards one decade is one unit of the axis.
        let d = |a: f64, b: f64| s.to_axis(b) - s.to_axis(a);
        assert!((d(10.0, 100.0) - 1.0).abs() < 0.04 && (d(100.0, 1000.0) - 1.0).abs() < 0.004);
    }

    #[test]
    fn linear_ticks_are_round_numbers_from_zero() {
        let axis = Scale::Linear.axis(3_700.0);
        assert_eq!(axis.top, 3_700.0 * 1.08);
        assert_eq!(axis.ticks, [0.0, 1000.0, 2000.0, 3000.0]);
        assert_eq!(
            Scale::Linear.axis(55.0).ticks,
            [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
        );
        let empty = Scale::Linear.axis(0.0);
        assert_eq!(
            (empty.top, empty.ticks.len()),
            (1.0, 6),
            "0, 0.2, …, 1 for a panel of zeros"
        );
        assert_eq!(nice_step(14.0, 7), 2.0);
        assert_eq!(nice_step(7.0, 7), 1.0);
        assert_eq!(nice_step(36.0, 7), 10.0);
    }
}
