//! ABC-SMC (population Monte Carlo, Beaumont et al. 2009): one generation at a time, no I/O.
//!
//! * Generation 0 draws `N` particles from the prior and simulates each once; all are kept with
//!   equal weights.
//! * Generation `t ≥ 1` proposes particles by picking an ancestor by weight and perturbing it
//!   with a Gaussian kernel of covariance `Σ = 2·Cov_w(z)` (working space, see `prior`); a
//!   proposal outside the prior is rejected without simulating, the others are simulated once
//!   and accepted if their distance is at most the tolerance `ε_t`.
//! * Weights are `π(z_i) / Σ_j w_j K(z_i | z_j)`, computed in log space with log-sum-exp.
//!
//! Determinism: proposal `k` of generation `t` draws every number it uses (ancestor,
//! perturbation, simulation seed) from its own stream keyed by `(seed, t, k)`. Proposals are
//! evaluated in parallel in fixed batches and accepted by proposal index, never by completion
//! time, so the population does not depend on the thread count or on scheduling.

use std::time::{Duration, Instant};

use nalgebra::{DMatrix, DVector};
use rand::{Rng as _, RngExt};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::space::PriorModel;
use crate::engine::rng::{from_key, mix_key};

/// `f64` in JSON, where infinities (the tolerance of generation 0) are written as strings.
mod maybe_infinite {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(&v.to_string())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(x) => Ok(x),
            Repr::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// One simulation's distance to the data, and what it cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Simulated {
    /// The distance (infinite when the simulation was stopped as unacceptable).
    pub distance: f64,
    /// Months simulated.
    pub months: u64,
    /// Months of a full run.
    pub full_months: u64,
}

/// Simulates the model at parameters `theta` with `seed` and returns the distance to the data.
pub trait Simulator: Sync {
    /// The distance, or an error message (a failed simulation stops the calibration). A
    /// simulation may stop early and report an infinite distance once it is certain that its
    /// distance exceeds `tolerance`.
    fn distance(&self, theta: &[f64], seed: u64, tolerance: f64) -> Result<Simulated, String>;
}

/// One weighted particle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Particle {
    /// Working-space coordinates.
    pub z: Vec<f64>,
    /// Parameter values.
    pub theta: Vec<f64>,
    /// Normalised weight.
    pub weight: f64,
    /// Distance of its simulation to the data.
    pub distance: f64,
}

/// A generation's particles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// Generation index (0 = prior sample).
    pub generation: u32,
    /// Tolerance the particles were accepted at (infinite for generation 0).
    #[serde(with = "maybe_infinite")]
    pub tolerance: f64,
    /// The particles, in acceptance order.
    pub particles: Vec<Particle>,
}

/// What a generation cost and how it went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    /// Generation index.
    pub generation: u32,
    /// Tolerance used.
    #[serde(with = "maybe_infinite")]
    pub tolerance: f64,
    /// `N / proposals`.
    pub acceptance_rate: f64,
    /// Effective sample size `1 / Σ w²`.
    pub ess: f64,
    /// Proposals up to the `N`-th acceptance.
    pub proposals: u64,
    /// Proposals accepted (`N`).
    #[serde(default)]
    pub accepted: u64,
    /// Simulations run (including proposals evaluated in the last batch after the `N`-th).
    pub simulations: u64,
    /// Simulations among the proposals up to the `N`-th acceptance.
    #[serde(default)]
    pub simulations_to_accept: u64,
    /// Months simulated, over every simulation of the generation.
    #[serde(default)]
    pub months_simulated: u64,
    /// Months those simulations would have taken run to the end.
    #[serde(default)]
    pub months_full: u64,
    /// Wall-clock seconds of the generation.
    pub wall_seconds: f64,
    /// Thread-seconds spent building scenarios and simulating.
    pub simulation_seconds: f64,
    /// Wall-clock seconds of the algorithm's own work (kernel, weights).
    pub algorithm_seconds: f64,
    /// Whether the kernel covariance needed a ridge (a parameter with no effect, or too few
    /// distinct particles).
    pub ridge: bool,
}

impl GenerationStats {
    /// Share of proposals that were simulated (the others fell outside the prior).
    pub fn simulated_share(&self) -> f64 {
        ratio(self.simulations_to_accept, self.proposals)
    }

    /// Share of simulations accepted (up to the `N`-th acceptance).
    pub fn simulation_acceptance(&self) -> f64 {
        ratio(self.accepted, self.simulations_to_accept)
    }

    /// Share of the simulated months that stopping simulations early saved.
    pub fn months_saved(&self) -> f64 {
        1.0 - ratio(self.months_simulated, self.months_full)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Settings of the sampler.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Particles per generation.
    pub particles: usize,
    /// Simulations per parallel batch (the proposals outside the prior between them cost none).
    pub batch: usize,
    /// Master seed.
    pub seed: u64,
}

/// Why a generation did not complete.
#[derive(Debug, PartialEq)]
pub enum Interrupted {
    /// The simulation budget or the deadline ran out.
    Budget,
    /// A simulation failed.
    Failed(String),
    /// The prior of this working coordinate could not be sampled.
    Prior(usize),
}

/// Limits that may stop a generation part-way.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Simulations still allowed.
    pub simulations: u64,
    /// Instant after which no new batch starts.
    pub deadline: Option<Instant>,
}

const STREAM: u64 = 0xCA11_B4A7E;

fn proposal_rng(seed: u64, generation: u32, k: u64) -> crate::engine::rng::Rng {
    from_key(mix_key(&[seed, STREAM, u64::from(generation), k]))
}

/// A proposal before simulation: working-space point, parameters and simulation seed; `None`
/// when it falls outside the prior.
type Proposed = Result<Option<Candidate>, Interrupted>;

/// A proposal inside the prior: working-space point, parameters and simulation seed.
type Candidate = (Vec<f64>, Vec<f64>, u64);

/// Result of evaluating one proposal.
struct Evaluated {
    z: Vec<f64>,
    theta: Vec<f64>,
    /// `None`: outside the prior, not simulated.
    simulated: Option<Simulated>,
    seconds: f64,
}

/// Proposals from index `start` on, in index order, up to and including the `count`-th inside
/// the prior (proposing is cheap and pure in `k`, so it runs ahead in parallel chunks and the
/// surplus is dropped: the next call proposes it again).
fn gather<F>(
    start: u64,
    count: u64,
    deadline: Option<Instant>,
    propose: &F,
) -> Result<Vec<Option<Candidate>>, Interrupted>
where
    F: Fn(u64) -> Proposed + Sync,
{
    let chunk = (4 * count).max(1024);
    let mut out = Vec::new();
    let (mut inside, mut k) = (0, start);
    while inside < count {
        if deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(Interrupted::Budget);
        }
        let proposed: Vec<Proposed> = (k..k + chunk).into_par_iter().map(propose).collect();
        for p in proposed {
            let p = p?;
            k += 1;
            inside += u64::from(p.is_some());
            out.push(p);
            if inside == count {
                break;
            }
        }
    }
    Ok(out)
}

/// Simulates the proposals inside the prior in parallel; results in index order.
fn evaluate(
    proposed: Vec<Option<Candidate>>,
    tolerance: f64,
    simulator: &dyn Simulator,
) -> Result<Vec<Evaluated>, Interrupted> {
    proposed
        .into_par_iter()
        .map(|p| {
            let Some((z, theta, sim_seed)) = p else {
                return Ok(Evaluated {
                    z: Vec::new(),
                    theta: Vec::new(),
                    simulated: None,
                    seconds: 0.0,
                });
            };
            let t0 = Instant::now();
            let d = simulator
                .distance(&theta, sim_seed, tolerance)
                .map_err(Interrupted::Failed)?;
            Ok(Evaluated {
                z,
                theta,
                simulated: Some(d),
                seconds: t0.elapsed().as_secs_f64(),
            })
        })
        .collect()
}

/// A simulation seed from a proposal's stream (63 bits, so `diaspora run --seed` can replay it).
fn sim_seed(rng: &mut crate::engine::rng::Rng) -> u64 {
    rng.next_u64() >> 1
}

/// Generation 0: `N` draws from the prior, each simulated once. A draw the model refuses
/// (infinite distance: a parameter combination outside the scenario's constraints) has zero
/// prior density and is replaced by the next draw.
pub fn generation_zero(
    priors: &dyn PriorModel,
    simulator: &dyn Simulator,
    settings: &Settings,
    budget: Budget,
    on_batch: &mut dyn FnMut(Tally),
) -> Result<(Population, GenerationStats), Interrupted> {
    let start = Instant::now();
    let n = settings.particles;
    let propose = |k: u64| {
        let mut rng = proposal_rng(settings.seed, 0, k);
        let z = priors.sample_z(&mut rng).map_err(Interrupted::Prior)?;
        let theta = priors.values_of(&z);
        Ok(Some((z, theta, sim_seed(&mut rng))))
    };
    let draws = draw_until(
        n,
        f64::INFINITY,
        simulator,
        settings,
        budget,
        &propose,
        on_batch,
    )?;
    let w = 1.0 / n as f64;
    let stats = GenerationStats {
        ess: n as f64,
        ..draws.stats(0, f64::INFINITY, start)
    };
    let particles: Vec<Particle> = draws
        .accepted
        .into_iter()
        .map(|(z, theta, distance)| Particle {
            z,
            theta,
            weight: w,
            distance,
        })
        .collect();
    Ok((
        Population {
            generation: 0,
            tolerance: f64::INFINITY,
            particles,
        },
        stats,
    ))
}

/// How far a generation has got, reported after each batch of proposals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Proposals evaluated so far in this generation.
    pub proposals: u64,
    /// Proposals accepted so far.
    pub accepted: usize,
    /// Particles the generation needs.
    pub needed: usize,
}

/// Proposals evaluated until `n` are accepted.
#[derive(Default)]
struct Draws {
    accepted: Vec<(Vec<f64>, Vec<f64>, f64)>,
    proposals: u64,
    simulations: u64,
    simulations_to_accept: u64,
    months_simulated: u64,
    months_full: u64,
    seconds: f64,
}

impl Draws {
    /// The generation's statistics, given its algorithm time and weights' ESS.
    fn stats(&self, generation: u32, tolerance: f64, start: Instant) -> GenerationStats {
        GenerationStats {
            generation,
            tolerance,
            acceptance_rate: self.accepted.len() as f64 / self.proposals as f64,
            proposals: self.proposals,
            accepted: self.accepted.len() as u64,
            simulations: self.simulations,
            simulations_to_accept: self.simulations_to_accept,
            months_simulated: self.months_simulated,
            months_full: self.months_full,
            wall_seconds: start.elapsed().as_secs_f64(),
            simulation_seconds: self.seconds,
            ..GenerationStats::default()
        }
    }
}

/// Evaluates proposals `0, 1, 2, …` until `n` have a finite distance at most `epsilon`,
/// accepting by proposal index. A batch is `settings.batch` simulations: the proposals up to the
/// `batch`-th inside the prior (those outside cost no simulation).
fn draw_until<F>(
    n: usize,
    epsilon: f64,
    simulator: &dyn Simulator,
    settings: &Settings,
    budget: Budget,
    propose: &F,
    on_batch: &mut dyn FnMut(Tally),
) -> Result<Draws, Interrupted>
where
    F: Fn(u64) -> Proposed + Sync,
{
    let mut d = Draws {
        accepted: Vec::with_capacity(n),
        ..Draws::default()
    };
    let mut next = 0u64;
    while d.accepted.len() < n {
        if d.simulations >= budget.simulations
            || budget.deadline.is_some_and(|t| Instant::now() >= t)
        {
            return Err(Interrupted::Budget);
        }
        // Generation 0 accepts every valid draw: ask for no more than are still needed.
        let wanted = if epsilon.is_infinite() {
            (n - d.accepted.len()) as u64
        } else {
            u64::MAX
        };
        let count = (settings.batch as u64)
            .min(wanted)
            .min(budget.simulations - d.simulations)
            .max(1);
        let proposed = gather(next, count, budget.deadline, propose)?;
        next += proposed.len() as u64;
        let batch = evaluate(proposed, epsilon, simulator)?;
        for e in batch {
            if let Some(s) = e.simulated {
                d.simulations += 1;
                d.seconds += e.seconds;
                d.months_simulated += s.months;
                d.months_full += s.full_months;
            }
            if d.accepted.len() < n {
                d.proposals += 1;
                if let Some(s) = e.simulated {
                    d.simulations_to_accept += 1;
                    if s.distance.is_finite() && s.distance <= epsilon {
                        d.accepted.push((e.z, e.theta, s.distance));
                    }
                }
            }
        }
        on_batch(Tally {
            proposals: d.proposals,
            accepted: d.accepted.len(),
            needed: n,
        });
    }
    Ok(d)
}

/// The perturbation kernel of a population: `Σ = 2·Cov_w(z)`, as a Cholesky factor.
pub struct Kernel {
    /// Lower-triangular `L` with `L Lᵀ = Σ`.
    pub chol: DMatrix<f64>,
    /// Whether a ridge was added to make `Σ` positive definite.
    pub ridge: bool,
}

impl Kernel {
    /// The kernel of `pop`.
    pub fn of(pop: &Population) -> Kernel {
        let d = pop.particles[0].z.len();
        let mut mean = DVector::<f64>::zeros(d);
        for p in &pop.particles {
            mean += DVector::from_column_slice(&p.z) * p.weight;
        }
        let mut cov = DMatrix::<f64>::zeros(d, d);
        for p in &pop.particles {
            let x = DVector::from_column_slice(&p.z) - &mean;
            cov += (&x * x.transpose()) * p.weight;
        }
        let sigma = cov * 2.0;
        if let Some(c) = sigma.clone().cholesky() {
            return Kernel {
                chol: c.l(),
                ridge: false,
            };
        }
        // Singular: a parameter has (almost) no spread. Add a small ridge on the diagonal,
        // relative to each variance, and fall back to the diagonal if that is not enough.
        let mut ridged = sigma.clone();
        for i in 0..d {
            ridged[(i, i)] += 1e-9 * sigma[(i, i)].abs().max(1e-12);
        }
        if let Some(c) = ridged.cholesky() {
            return Kernel {
                chol: c.l(),
                ridge: true,
            };
        }
        let diag = DMatrix::from_diagonal(&DVector::from_fn(d, |i, _| {
            sigma[(i, i)].abs().max(1e-12).sqrt()
        }));
        Kernel {
            chol: diag,
            ridge: true,
        }
    }

    /// `−½ (a − b)ᵀ Σ⁻¹ (a − b)`.
    fn log_kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let diff = DVector::from_iterator(a.len(), a.iter().zip(b).map(|(x, y)| x - y));
        let y = self.chol.solve_lower_triangular(&diff).unwrap_or(diff);
        -0.5 * y.norm_squared()
    }
}

/// `log Σ exp(x)` without overflow.
pub fn log_sum_exp(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = xs.clone().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + xs.map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Generation `prev.generation + 1` at tolerance `epsilon`; `Err(Budget)` if the budget runs
/// out before `N` particles are accepted (the previous population then stands).
pub fn next_generation(
    prev: &Population,
    epsilon: f64,
    priors: &dyn PriorModel,
    simulator: &dyn Simulator,
    settings: &Settings,
    budget: Budget,
    on_batch: &mut dyn FnMut(Tally),
) -> Result<(Population, GenerationStats), Interrupted> {
    let start = Instant::now();
    let t = prev.generation + 1;
    let n = settings.particles;
    let t_alg = Instant::now();
    let kernel = Kernel::of(prev);
    let cumulative: Vec<f64> = prev
        .particles
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p.weight;
            Some(*acc)
        })
        .collect();
    let total = *cumulative.last().expect("a population has particles");
    let mut algorithm = t_alg.elapsed();
    let d = priors.dim();

    let propose = |k: u64| -> Proposed {
        let mut rng = proposal_rng(settings.seed, t, k);
        let u = rng.random::<f64>() * total;
        let j = cumulative.partition_point(|&c| c <= u).min(n - 1);
        let xi = DVector::from_fn(d, |_, _| StandardNormal.sample(&mut rng));
        let step = &kernel.chol * xi;
        let z: Vec<f64> = prev.particles[j]
            .z
            .iter()
            .zip(step.iter())
            .map(|(a, b)| a + b)
            .collect();
        if priors.log_density(&z) == f64::NEG_INFINITY {
            return Ok(None);
        }
        let theta = priors.values_of(&z);
        Ok(Some((z, theta, sim_seed(&mut rng))))
    };

    let mut draws = draw_until(n, epsilon, simulator, settings, budget, &propose, on_batch)?;
    let accepted = std::mem::take(&mut draws.accepted);

    let t_alg = Instant::now();
    // Importance weights: prior over the mixture of kernels around the previous particles.
    let log_prev: Vec<f64> = prev.particles.iter().map(|p| p.weight.ln()).collect();
    let log_w: Vec<f64> = accepted
        .par_iter()
        .map(|(z, _, _)| {
            let log_prior = priors.log_density(z);
            let mixture = log_sum_exp(
                prev.particles
                    .iter()
                    .zip(&log_prev)
                    .map(|(q, lw)| lw + kernel.log_kernel(z, &q.z)),
            );
            log_prior - mixture
        })
        .collect();
    let norm = log_sum_exp(log_w.iter().copied());
    let particles: Vec<Particle> = accepted
        .into_iter()
        .zip(&log_w)
        .map(|((z, theta, distance), lw)| Particle {
            z,
            theta,
            weight: (lw - norm).exp(),
            distance,
        })
        .collect();
    algorithm += t_alg.elapsed();
    let ess = 1.0 / particles.iter().map(|p| p.weight * p.weight).sum::<f64>();
    let stats = GenerationStats {
        acceptance_rate: n as f64 / draws.proposals as f64,
        accepted: n as u64,
        ess,
        algorithm_seconds: algorithm.as_secs_f64(),
        ridge: kernel.ridge,
        ..draws.stats(t, epsilon, start)
    };
    Ok((
        Population {
            generation: t,
            tolerance: epsilon,
            particles,
        },
        stats,
    ))
}

/// Weighted `q`-quantile (lower, by cumulative weight) of `(value, weight)` pairs.
pub fn weighted_quantile(mut pairs: Vec<(f64, f64)>, q: f64) -> f64 {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for &(v, w) in &pairs {
        acc += w;
        if acc >= q * total {
            return v;
        }
    }
    pairs.last().map_or(f64::NAN, |p| p.0)
}

/// The tolerance for the next generation: the weighted `q`-quantile of the distances.
pub fn next_tolerance(pop: &Population, q: f64) -> f64 {
    weighted_quantile(
        pop.particles
            .iter()
            .map(|p| (p.distance, p.weight))
            .collect(),
        q,
    )
}

/// Seconds as a `Duration` (for deadlines).
pub fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::prior::Prior;

    /// Distance = |θ − 0.3| + noise from the seed: the posterior concentrates around 0.3.
    struct Toy;
    impl Simulator for Toy {
        fn distance(&self, theta: &[f64], seed: u64, _: f64) -> Result<Simulated, String> {
            let noise = (seed % 1000) as f64 / 1000.0 * 0.01;
            Ok(Simulated {
                distance: (theta[0] - 0.3).abs() + noise,
                months: 1,
                full_months: 1,
            })
        }
    }

    fn run(batch: usize, threads: usize) -> Population {
        let priors = [Prior::Uniform { min: 0.0, max: 1.0 }];
        let settings = Settings {
            particles: 200,
            batch,
            seed: 9,
        };
        let budget = Budget {
            simulations: u64::MAX,
            deadline: None,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut pop, _) =
                generation_zero(&priors.to_vec(), &Toy, &settings, budget, &mut |_| {}).unwrap();
            for _ in 0..5 {
                let eps = next_tolerance(&pop, 0.5);
                pop = next_generation(
                    &pop,
                    eps,
                    &priors.to_vec(),
                    &Toy,
                    &settings,
                    budget,
                    &mut |_| {},
                )
                .unwrap()
                .0;
            }
            pop
        })
    }

    #[test]
    fn converges_and_does_not_depend_on_threads() {
        let one = run(64, 1);
        let two = run(64, 2);
        assert_eq!(one, two);
        // Acceptance is by proposal index: the batch size changes nothing either.
        assert_eq!(one, run(7, 2));
        let mean: f64 = one.particles.iter().map(|p| p.weight * p.theta[0]).sum();
        assert!((mean - 0.3).abs() < 0.02, "{mean}");
        let w: f64 = one.particles.iter().map(|p| p.weight).sum();
        assert!((w - 1.0).abs() < 1e-9);
        assert!(one.tolerance < 0.1);
    }

    #[test]
    fn weighted_quantile_by_hand() {
        let v = vec![(3.0, 1.0), (1.0, 1.0), (2.0, 2.0)];
        assert_eq!(weighted_quantile(v.clone(), 0.25), 1.0);
        assert_eq!(weighted_quantile(v.clone(), 0.5), 2.0);
        assert_eq!(weighted_quantile(v, 0.9), 3.0);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        let xs = [1000.0, 1000.0];
        assert!((log_sum_exp(xs.iter().copied()) - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert_eq!(
            log_sum_exp([f64::NEG_INFINITY].iter().copied()),
            f64::NEG_INFINITY
        );
    }
}
