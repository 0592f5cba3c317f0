//! Morris elementary effects and their summaries (Morris 1991; Campolongo et al. 2007).
//!
//! Along a trajectory, consecutive points differ in one parameter `j`; the elementary effect of
//! the step is `EE_j = (y(after) − y(before)) / (u_j(after) − u_j(before))`, with `u` the
//! point's coordinates in the unit cube (so an effect is the change of the output per whole
//! range of the parameter). Over the `r` trajectories: `μ_j` is the mean of `EE_j`, `μ*_j` the
//! mean of `|EE_j|` and `σ_j` the sample standard deviation of `EE_j`; the interval of `μ*` is
//! a bootstrap over trajectories.

use super::bootstrap::{Bootstrap, intervals};

/// A design whose consecutive points are not one-at-a-time steps.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("point {point} differs from point {} in {changed} parameters, expected exactly one (not a Morris trajectory)", point - 1)]
pub struct NotATrajectory {
    /// The later point of the step.
    pub point: usize,
    /// How many coordinates changed.
    pub changed: usize,
}

/// Elementary effects `ee[j][t]` of parameter `j` in trajectory `t`, from the unit-cube
/// `points` (trajectory-major, `d + 1` per trajectory) and the output `y` at every point.
pub fn effects(points: &[Vec<f64>], y: &[f64]) -> Result<Vec<Vec<f64>>, NotATrajectory> {
    let d = points.first().map_or(0, Vec::len);
    let mut ee = vec![Vec::with_capacity(points.len() / (d + 1)); d];
    for (t, traj) in points.chunks(d + 1).enumerate() {
        for k in 1..traj.len() {
            let point = t * (d + 1) + k;
            let changed: Vec<usize> = (0..d).filter(|&j| traj[k][j] != traj[k - 1][j]).collect();
            let &[j] = changed.as_slice() else {
                return Err(NotATrajectory {
                    point,
                    changed: changed.len(),
                });
            };
            ee[j].push((y[point] - y[point - 1]) / (traj[k][j] - traj[k - 1][j]));
        }
    }
    Ok(ee)
}

/// The Morris summaries of one parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorrisIndices {
    /// Mean elementary effect.
    pub mu: f64,
    /// Mean absolute elementary effect.
    pub mu_star: f64,
    /// Bootstrap interval of `mu_star`.
    pub mu_star_ci: Option<(f64, f64)>,
    /// Sample standard deviation of the elementary effects.
    pub sigma: f64,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n as f64
}

/// `μ`, `μ*` (with its interval) and `σ` of every parameter from its effects `ee[j][t]`.
pub fn summarise(ee: &[Vec<f64>], bootstrap: &Bootstrap) -> Vec<MorrisIndices> {
    let r = ee.first().map_or(0, Vec::len);
    let ci = intervals(r, bootstrap, |idx| {
        ee.iter()
            .map(|e| mean(idx.iter().map(|&t| e[t].abs())))
            .collect()
    });
    ee.iter()
        .zip(ci)
        .map(|(e, mu_star_ci)| {
            let mu = mean(e.iter().copied());
            let sigma = if e.len() > 1 {
                (e.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (e.len() - 1) as f64).sqrt()
            } else {
                f64::NAN
            };
            MorrisIndices {
                mu,
                mu_star: mean(e.iter().map(|x| x.abs())),
                mu_star_ci,
                sigma,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::morris::{MorrisSettings, points};

    fn no_bootstrap() -> Bootstrap {
        Bootstrap {
            resamples: 0,
            level: 0.95,
            seed: 0,
        }
    }

    /// On the production design, a linear function's effects are its coefficients exactly
    /// (μ = μ* = |a| for positive a, σ = 0), a parameter it ignores has μ* = 0, and an
    /// interaction shows as σ > 0 with |μ| < μ*.
    #[test]
    fn effects_of_known_functions() {
        let s = MorrisSettings {
            trajectories: 30,
            levels: 4,
            candidates: None,
        };
        let pts = points(&s, 4, 17);
        let f =
            |x: &[f64]| 3.0 * x[0] - 2.0 * x[1] + 0.0 * x[2] + 4.0 * (x[3] - 0.5) * (x[0] - 0.5);
        let y: Vec<f64> = pts.iter().map(|x| f(x)).collect();
        let ee = effects(&pts, &y).unwrap();
        assert!(ee.iter().all(|e| e.len() == 30));
        let m = summarise(&ee, &no_bootstrap());
        // x1 enters linearly only: every effect is exactly -2.
        assert!(ee[1].iter().all(|&e| (e + 2.0).abs() < 1e-12));
        assert!((m[1].mu + 2.0).abs() < 1e-12 && (m[1].mu_star - 2.0).abs() < 1e-12);
        assert!(m[1].sigma.abs() < 1e-12);
        // x2 is ignored.
        assert_eq!((m[2].mu, m[2].mu_star, m[2].sigma), (0.0, 0.0, 0.0));
        // x3 only interacts with x0: effects 4(x0 − 1/2) = ±2/3 or ±2, mean about zero.
        assert!(m[3].sigma > 0.5 && m[3].mu.abs() < m[3].mu_star);
        assert!(
            ee[3]
                .iter()
                .all(|e| [2.0 / 3.0, 2.0].iter().any(|v| (e.abs() - v).abs() < 1e-9))
        );
        // x0: 3 + 4(x3 − 1/2), so μ near 3 and σ > 0.
        assert!((m[0].mu - 3.0).abs() < 1.0 && m[0].sigma > 0.5);
    }

    #[test]
    fn a_step_that_moves_two_parameters_is_refused() {
        let pts = vec![vec![0.0, 0.0], vec![1.0, 1.0], vec![1.0, 0.0]];
        let e = effects(&pts, &[0.0, 1.0, 2.0]).unwrap_err();
        assert_eq!(
            e,
            NotATrajectory {
                point: 1,
                changed: 2
            }
        );
    }

    #[test]
    fn the_interval_of_mu_star_brackets_it() {
        let ee = vec![(0..40).map(|t| f64::from(t % 7) - 2.0).collect::<Vec<_>>()];
        let b = Bootstrap {
            resamples: 500,
            level: 0.95,
            seed: 9,
        };
        let m = summarise(&ee, &b);
        let (lo, hi) = m[0].mu_star_ci.unwrap();
        assert!(
            lo < m[0].mu_star && m[0].mu_star < hi && hi - lo < 1.5,
            "{lo} {hi}"
        );
    }
}
