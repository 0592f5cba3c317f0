//! The calibration's parameter space: the free constants, each with its own prior, and the
//! free schedules, each a block of knots with a joint random-walk prior. The sampler sees one
//! vector of working coordinates and the joint prior over it ([`PriorModel`]).
//!
//! Coordinate order: the constants in the order of the file, then each schedule's block
//! (`σ` first when estimated, then its knots in year order).

use super::config::FreeParameter;
use super::prior::Prior;
use super::schedule::FreeSchedule;
use crate::engine::rng::Rng;
use crate::scenario::Override;

/// A joint prior over the sampler's working coordinates.
pub trait PriorModel: Sync {
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// A draw, or the index of the coordinate whose prior could not be sampled.
    fn sample_z(&self, rng: &mut Rng) -> Result<Vec<f64>, usize>;
    /// Log density up to a constant; `-∞` outside the support.
    fn log_density(&self, z: &[f64]) -> f64;
    /// Parameter values of working coordinates.
    fn values_of(&self, z: &[f64]) -> Vec<f64>;
}

/// Independent priors, one per coordinate.
impl PriorModel for Vec<Prior> {
    fn dim(&self) -> usize {
        self.len()
    }

    fn sample_z(&self, rng: &mut Rng) -> Result<Vec<f64>, usize> {
        self.iter()
            .enumerate()
            .map(|(i, p)| p.sample_z(rng).ok_or(i))
            .collect()
    }

    fn log_density(&self, z: &[f64]) -> f64 {
        let mut log = 0.0;
        for (p, &z) in self.iter().zip(z) {
            log += p.log_density(z);
            if log == f64::NEG_INFINITY {
                break;
            }
        }
        log
    }

    fn values_of(&self, z: &[f64]) -> Vec<f64> {
        self.iter().zip(z).map(|(p, &z)| p.from_z(z)).collect()
    }
}

/// The free constants and the free schedules of a calibration.
#[derive(Clone, Debug, Default)]
pub struct ParameterSpace {
    /// Free constants.
    pub constants: Vec<FreeParameter>,
    /// Free schedules.
    pub schedules: Vec<FreeSchedule>,
    /// Per schedule: whether the scenario interpolates it linearly (else in steps).
    pub linear: Vec<bool>,
    /// The last year any target compares (where `after_fit` starts).
    pub last_fitted: i32,
}

impl ParameterSpace {
    fn constant_priors(&self) -> Vec<Prior> {
        self.constants.iter().map(|p| p.prior.clone()).collect()
    }

    /// Each schedule with the first coordinate of its block.
    fn blocks(&self) -> impl Iterator<Item = (usize, &FreeSchedule)> {
        self.schedules.iter().scan(self.constants.len(), |at, s| {
            let start = *at;
            *at += s.dim();
            Some((start, s))
        })
    }

    /// Column name of every coordinate: the constant's key path, `path@YEAR` for a knot,
    /// `path@step_sd` for an estimated step standard deviation.
    pub fn names(&self) -> Vec<String> {
        let constants = self.constants.iter().map(|p| p.path.clone());
        constants
            .chain(self.schedules.iter().flat_map(FreeSchedule::names))
            .collect()
    }

    /// Bounds of every coordinate in its own units.
    pub fn bounds(&self) -> Vec<(f64, f64)> {
        let constants = self.constants.iter().map(|p| p.prior.bounds());
        constants
            .chain(self.schedules.iter().flat_map(FreeSchedule::bounds))
            .collect()
    }

    /// A one-line description of every coordinate's prior (as `names`).
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self.constants.iter().map(|p| p.prior.describe()).collect();
        for s in &self.schedules {
            let walk = match &s.step_sd {
                super::schedule::StepSd::Fixed(sd) => format!("step sd {sd}"),
                super::schedule::StepSd::Estimated(p) => format!("step sd ~ {}", p.describe()),
            };
            if let super::schedule::StepSd::Estimated(p) = &s.step_sd {
                out.push(p.describe());
            }
            for _ in &s.years {
                out.push(format!(
                    "random walk on the {} scale ({walk}) on [{}, {}]",
                    s.scale.name(),
                    s.min,
                    s.max
                ));
            }
        }
        out
    }

    /// The overrides that set parameter values `theta` (as `values_of` returns them).
    pub fn overrides(&self, theta: &[f64]) -> Vec<Override> {
        let mut out: Vec<Override> = self
            .constants
            .iter()
            .zip(theta)
            .map(|(p, &v)| Override::number(&p.path, v))
            .collect();
        for ((start, s), &linear) in self.blocks().zip(&self.linear) {
            let knots = &theta[start + s.dim() - s.years.len()..start + s.dim()];
            out.push(s.override_for(knots, self.last_fitted, linear));
        }
        out
    }
}

impl PriorModel for ParameterSpace {
    fn dim(&self) -> usize {
        self.constants.len() + self.schedules.iter().map(FreeSchedule::dim).sum::<usize>()
    }

    fn sample_z(&self, rng: &mut Rng) -> Result<Vec<f64>, usize> {
        let mut z = self.constant_priors().sample_z(rng)?;
        for (start, s) in self.blocks() {
            z.extend(s.sample_z(rng).ok_or(start)?);
        }
        Ok(z)
    }

    fn log_density(&self, z: &[f64]) -> f64 {
        let n = self.constants.len();
        let mut log = self.constant_priors().log_density(&z[..n]);
        for (start, s) in self.blocks() {
            if log == f64::NEG_INFINITY {
                break;
            }
            log += s.log_density(&z[start..start + s.dim()]);
        }
        log
    }

    fn values_of(&self, z: &[f64]) -> Vec<f64> {
        let n = self.constants.len();
        let mut theta = self.constant_priors().values_of(&z[..n]);
        for (start, s) in self.blocks() {
            theta.extend(s.from_z(&z[start..start + s.dim()]));
        }
        theta
    }
}
