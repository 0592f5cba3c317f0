//! Priors of calibrated parameters, and the working space the sampler moves in.
//!
//! Every prior has bounds. The sampler perturbs parameters in a working space `z` where the
//! prior is simple: the value itself for uniform, normal and beta priors, its logarithm for
//! log-uniform priors (uniform in `z`). Densities are evaluated in that same space (a
//! log-uniform prior is uniform in `z`, so no Jacobian is needed).

use rand::RngExt;
use rand_distr::{Beta, Distribution, StandardNormal};

use crate::engine::rng::Rng;

/// A prior distribution with bounds.
#[derive(Clone, Debug, PartialEq)]
pub enum Prior {
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Uniform in `ln θ` on `[ln min, ln max]` (`min > 0`).
    LogUniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Normal, truncated to `[min, max]`.
    Normal {
        /// Mean (before truncation).
        mean: f64,
        /// Standard deviation (before truncation).
        sd: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Beta(α, β), truncated to `[min, max]` within [0, 1].
    Beta {
        /// α.
        alpha: f64,
        /// β.
        beta: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
}

/// Most draws tried to sample a truncated prior before giving up.
const MAX_TRIES: usize = 100_000;

impl Prior {
    /// Bounds in the parameter's own units.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Prior::Uniform { min, max }
            | Prior::LogUniform { min, max }
            | Prior::Normal { min, max, .. }
            | Prior::Beta { min, max, .. } => (min, max),
        }
    }

    /// Short description, e.g. `loguniform(1e-6, 1e-5)`.
    pub fn describe(&self) -> String {
        match *self {
            Prior::Uniform { min, max } => format!("uniform({min}, {max})"),
            Prior::LogUniform { min, max } => format!("loguniform({min}, {max})"),
            Prior::Normal { mean, sd, min, max } => {
                format!("normal({mean}, {sd}) on [{min}, {max}]")
            }
            Prior::Beta {
                alpha,
                beta,
                min,
                max,
            } => format!("beta({alpha}, {beta}) on [{min}, {max}]"),
        }
    }

    /// Working-space coordinate of a parameter value.
    pub fn to_z(&self, theta: f64) -> f64 {
        match self {
            Prior::LogUniform { .. } => theta.ln(),
            _ => theta,
        }
    }

    /// Parameter value of a working-space coordinate.
    pub fn from_z(&self, z: f64) -> f64 {
        match self {
            Prior::LogUniform { .. } => z.exp(),
            _ => z,
        }
    }

    /// Log prior density in working space, up to a constant; `-∞` outside the bounds.
    pub fn log_density(&self, z: f64) -> f64 {
        let (lo, hi) = self.bounds();
        let theta = self.from_z(z);
        if !(theta >= lo && theta <= hi) {
            return f64::NEG_INFINITY;
        }
        match *self {
            Prior::Uniform { .. } | Prior::LogUniform { .. } => 0.0,
            Prior::Normal { mean, sd, .. } => -0.5 * ((z - mean) / sd).powi(2),
            Prior::Beta { alpha, beta, .. } => {
                if theta <= 0.0 || theta >= 1.0 {
                    // The density's limit at the ends (finite when α, β ≥ 1).
                    let a = if theta <= 0.0 { alpha } else { beta };
                    return if a > 1.0 {
                        f64::NEG_INFINITY
                    } else if a == 1.0 {
                        0.0
                    } else {
                        f64::INFINITY
                    };
                }
                (alpha - 1.0) * theta.ln() + (beta - 1.0) * (1.0 - theta).ln()
            }
        }
    }

    /// Draws a working-space coordinate from the prior; `None` if a truncated prior has too
    /// little mass inside its bounds to be sampled.
    pub fn sample_z(&self, rng: &mut Rng) -> Option<f64> {
        let (lo, hi) = self.bounds();
        match *self {
            Prior::Uniform { .. } => Some(lo + (hi - lo) * rng.random::<f64>()),
            Prior::LogUniform { .. } => Some(lo.ln() + (hi.ln() - lo.ln()) * rng.random::<f64>()),
            Prior::Normal { mean, sd, .. } => (0..MAX_TRIES).find_map(|_| {
                let n: f64 = StandardNormal.sample(rng);
                let x = mean + sd * n;
                (lo..=hi).contains(&x).then_some(x)
            }),
            Prior::Beta { alpha, beta, .. } => {
                let dist = Beta::new(alpha, beta).ok()?;
                (0..MAX_TRIES).find_map(|_| {
                    let x: f64 = dist.sample(rng);
                    (lo..=hi).contains(&x).then_some(x)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> Rng {
        crate::engine::rng::from_key(42)
    }

    #[test]
    fn log_uniform_is_uniform_in_log_space() {
        let p = Prior::LogUniform {
            min: 1e-6,
            max: 1e-4,
        };
        let mut r = rng();
        let n = 20_000;
        let below_geometric_mid = (0..n)
            .filter(|_| p.from_z(p.sample_z(&mut r).unwrap()) < 1e-5)
            .count();
        let share = below_geometric_mid as f64 / f64::from(n);
        assert!((share - 0.5).abs() < 0.02, "{share}");
        assert_eq!(p.log_density(p.to_z(1e-5)), 0.0);
        assert_eq!(p.log_density(p.to_z(2e-4)), f64::NEG_INFINITY);
    }

    #[test]
    fn truncated_normal_stays_in_bounds_and_prefers_the_mean() {
        let p = Prior::Normal {
            mean: 0.3,
            sd: 0.1,
            min: 0.0,
            max: 1.0,
        };
        let mut r = rng();
        for _ in 0..1000 {
            let z = p.sample_z(&mut r).unwrap();
            assert!((0.0..=1.0).contains(&z));
        }
        assert!(p.log_density(0.3) > p.log_density(0.5));
        assert_eq!(p.log_density(-0.1), f64::NEG_INFINITY);
        let hopeless = Prior::Normal {
            mean: 0.0,
            sd: 1e-3,
            min: 5.0,
            max: 6.0,
        };
        assert_eq!(hopeless.sample_z(&mut r), None);
    }

    #[test]
    fn beta_density_by_hand() {
        let p = Prior::Beta {
            alpha: 2.0,
            beta: 3.0,
            min: 0.0,
            max: 1.0,
        };
        let expected = 0.25f64.ln() + 2.0 * 0.75f64.ln();
        assert!((p.log_density(0.25) - expected).abs() < 1e-12);
        assert_eq!(p.log_density(0.0), f64::NEG_INFINITY);
    }
}
