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

use std::ops::Range;
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
    /// Proposals evaluated per parallel batch (part of the result: keep it fixed).
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

/// What evaluating one proposal gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// Working-space point (empty when outside the prior, and where only the distance is
    /// kept: see [`Evaluated::acceptable`]).
    pub z: Vec<f64>,
    /// Parameter values (empty when `z` is).
    pub theta: Vec<f64>,
    /// `None`: outside the prior, not simulated.
    pub simulated: Option<Simulated>,
    /// Thread-seconds spent building the scenario and simulating.
    pub seconds: f64,
}

impl Evaluated {
    /// Whether it is accepted at tolerance `epsilon` if the generation still needs particles
    /// when its turn comes: simulated, with a finite distance at most `epsilon`.
    pub fn acceptable(&self, epsilon: f64) -> bool {
        self.simulated
            .is_some_and(|s| s.distance.is_finite() && s.distance <= epsilon)
    }
}

/// A simulation seed from a proposal's stream (63 bits, so `diaspora run --seed` can replay it).
fn sim_seed(rng: &mut crate::engine::rng::Rng) -> u64 {
    rng.next_u64() >> 1
}

/// How one generation draws its proposals: from the prior (generation 0), or by picking an
/// ancestor of the previous population by weight and perturbing it with the kernel. Proposal
/// `k` is a function of `(seed, generation, k)` and the previous population only, so any
/// process holding the same population proposes the same particle (a Slurm shard does).
pub struct Proposals<'a> {
    generation: u32,
    settings: Settings,
    priors: &'a dyn PriorModel,
    around: Option<Around<'a>>,
    /// Time spent building the kernel.
    setup: Duration,
}

/// The previous population, its kernel and the cumulative weights ancestors are drawn by.
struct Around<'a> {
    prev: &'a Population,
    kernel: Kernel,
    cumulative: Vec<f64>,
    total: f64,
}

impl<'a> Proposals<'a> {
    /// The proposals of the generation after `prev`, or of generation 0 without one.
    pub fn new(
        prev: Option<&'a Population>,
        priors: &'a dyn PriorModel,
        settings: &Settings,
    ) -> Proposals<'a> {
        let t = Instant::now();
        let around = prev.map(|prev| {
            let cumulative: Vec<f64> = prev
                .particles
                .iter()
                .scan(0.0, |acc, p| {
                    *acc += p.weight;
                    Some(*acc)
                })
                .collect();
            Around {
                prev,
                kernel: Kernel::of(prev),
                total: *cumulative.last().expect("a population has particles"),
                cumulative,
            }
        });
        Proposals {
            generation: prev.map_or(0, |p| p.generation + 1),
            settings: settings.clone(),
            priors,
            around,
            setup: t.elapsed(),
        }
    }

    /// The generation these proposals are for.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn propose(&self, k: u64) -> Proposed {
        let mut rng = proposal_rng(self.settings.seed, self.generation, k);
        let Some(a) = &self.around else {
            let z = self.priors.sample_z(&mut rng).map_err(Interrupted::Prior)?;
            let theta = self.priors.values_of(&z);
            return Ok(Some((z, theta, sim_seed(&mut rng))));
        };
        let n = a.prev.particles.len();
        let u = rng.random::<f64>() * a.total;
        let j = a.cumulative.partition_point(|&c| c <= u).min(n - 1);
        let xi = DVector::from_fn(self.priors.dim(), |_, _| StandardNormal.sample(&mut rng));
        let step = &a.kernel.chol * xi;
        let z: Vec<f64> = a.prev.particles[j]
            .z
            .iter()
            .zip(step.iter())
            .map(|(a, b)| a + b)
            .collect();
        if self.priors.log_density(&z) == f64::NEG_INFINITY {
            return Ok(None);
        }
        let theta = self.priors.values_of(&z);
        Ok(Some((z, theta, sim_seed(&mut rng))))
    }

    /// Proposal `k`, simulated at `tolerance` unless it falls outside the prior.
    pub fn evaluate(
        &self,
        k: u64,
        tolerance: f64,
        simulator: &dyn Simulator,
    ) -> Result<Evaluated, Interrupted> {
        let Some((z, theta, sim_seed)) = self.propose(k)? else {
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
    }

    /// The end of the batch that starts at proposal `start` and holds `count` proposals inside
    /// the prior (one past the `count`-th): those outside cost no simulation, so a batch is a
    /// number of simulations. Proposing is cheap and pure in `k`: it runs ahead in parallel
    /// chunks and the surplus is proposed again by whoever evaluates the batch.
    pub fn batch_end(&self, start: u64, count: u64) -> Result<u64, Interrupted> {
        if self.around.is_none() {
            return Ok(start + count); // the prior's draws are all inside it
        }
        let chunk = (4 * count).max(1024);
        let (mut inside, mut k) = (0, start);
        while inside < count {
            let proposed: Vec<Proposed> = (k..k + chunk)
                .into_par_iter()
                .map(|k| self.propose(k))
                .collect();
            for p in proposed {
                inside += u64::from(p?.is_some());
                k += 1;
                if inside == count {
                    break;
                }
            }
        }
        Ok(k)
    }

    /// Proposals `range` evaluated in parallel, in index order.
    pub fn evaluate_all(
        &self,
        range: Range<u64>,
        tolerance: f64,
        simulator: &dyn Simulator,
    ) -> Result<Vec<Evaluated>, Interrupted> {
        range
            .into_par_iter()
            .map(|k| self.evaluate(k, tolerance, simulator))
            .collect()
    }

    /// The generation made of what `draws` accepted at `epsilon`: equal weights for
    /// generation 0, importance weights after it; `started` is when the generation began.
    pub fn complete(
        &self,
        mut draws: Draws,
        epsilon: f64,
        started: Instant,
    ) -> (Population, GenerationStats) {
        let t_alg = Instant::now();
        let accepted = std::mem::take(&mut draws.accepted);
        let (particles, ess, ridge) = match &self.around {
            None => {
                let n = self.settings.particles;
                let w = 1.0 / n as f64;
                let particles = accepted
                    .into_iter()
                    .map(|(z, theta, distance)| Particle {
                        z,
                        theta,
                        weight: w,
                        distance,
                    })
                    .collect();
                (particles, n as f64, false)
            }
            Some(a) => {
                let particles = importance_weights(a, self.priors, accepted);
                let ess = 1.0 / particles.iter().map(|p| p.weight * p.weight).sum::<f64>();
                (particles, ess, a.kernel.ridge)
            }
        };
        let stats = GenerationStats {
            ess,
            algorithm_seconds: (self.setup + t_alg.elapsed()).as_secs_f64(),
            ridge,
            ..draws.stats(self.generation, epsilon, particles.len(), started)
        };
        (
            Population {
                generation: self.generation,
                tolerance: epsilon,
                particles,
            },
            stats,
        )
    }
}

/// Importance weights: the prior over the mixture of kernels around the previous particles,
/// normalised in log space.
fn importance_weights(
    a: &Around<'_>,
    priors: &dyn PriorModel,
    accepted: Vec<(Vec<f64>, Vec<f64>, f64)>,
) -> Vec<Particle> {
    let log_prev: Vec<f64> = a.prev.particles.iter().map(|p| p.weight.ln()).collect();
    let log_w: Vec<f64> = accepted
        .par_iter()
        .map(|(z, _, _)| {
            let log_prior = priors.log_density(z);
            let mixture = log_sum_exp(
                a.prev
                    .particles
                    .iter()
                    .zip(&log_prev)
                    .map(|(q, lw)| lw + a.kernel.log_kernel(z, &q.z)),
            );
            log_prior - mixture
        })
        .collect();
    let norm = log_sum_exp(log_w.iter().copied());
    accepted
        .into_iter()
        .zip(&log_w)
        .map(|((z, theta, distance), lw)| Particle {
            z,
            theta,
            weight: (lw - norm).exp(),
            distance,
        })
        .collect()
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

/// What a generation's proposals gave, up to its `N`-th acceptance.
#[derive(Default)]
pub struct Draws {
    accepted: Vec<(Vec<f64>, Vec<f64>, f64)>,
    proposals: u64,
    simulations: u64,
    simulations_to_accept: u64,
    months_simulated: u64,
    months_full: u64,
    seconds: f64,
}

impl Draws {
    /// The generation's statistics but for its weights' ESS and algorithm time.
    fn stats(
        &self,
        generation: u32,
        tolerance: f64,
        accepted: usize,
        start: Instant,
    ) -> GenerationStats {
        GenerationStats {
            generation,
            tolerance,
            acceptance_rate: accepted as f64 / self.proposals as f64,
            proposals: self.proposals,
            accepted: accepted as u64,
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

/// The acceptance rule of a generation, apart from where proposals are evaluated: proposals
/// `0, 1, 2, …` in batches of `batch` (generation 0 asks for no more than it still needs, and
/// no batch exceeds the simulations left), accepted by proposal index while fewer than `N`
/// are, every simulation of a batch counted. The local loop evaluates each batch as it is
/// asked for; a Slurm driver feeds it batches its shards evaluated earlier. Both thus accept
/// the same particles and count the same simulations.
pub struct Drawing {
    n: usize,
    epsilon: f64,
    batch: u64,
    /// Simulations allowed in this generation.
    allowed: u64,
    /// First proposal of the next batch.
    next: u64,
    draws: Draws,
}

impl Drawing {
    /// A generation that needs `settings.particles` at tolerance `epsilon` (infinite for
    /// generation 0) and may run `simulations` simulations.
    pub fn new(settings: &Settings, epsilon: f64, simulations: u64) -> Drawing {
        Drawing {
            n: settings.particles,
            epsilon,
            batch: settings.batch as u64,
            allowed: simulations,
            next: 0,
            draws: Draws {
                accepted: Vec::with_capacity(settings.particles),
                ..Draws::default()
            },
        }
    }

    /// The proposals of the next batch; `None` once `N` are accepted; `Err(Budget)` when the
    /// simulations allowed have run.
    pub fn next_batch(&self, proposals: &Proposals<'_>) -> Result<Option<Range<u64>>, Interrupted> {
        let d = &self.draws;
        if d.accepted.len() >= self.n {
            return Ok(None);
        }
        if d.simulations >= self.allowed {
            return Err(Interrupted::Budget);
        }
        // Generation 0 accepts every valid draw: ask for no more than are still needed.
        let wanted = if self.epsilon.is_infinite() {
            (self.n - d.accepted.len()) as u64
        } else {
            u64::MAX
        };
        let count = self
            .batch
            .min(wanted)
            .min(self.allowed - d.simulations)
            .max(1);
        Ok(Some(self.next..proposals.batch_end(self.next, count)?))
    }

    /// Takes the batch [`Drawing::next_batch`] asked for, evaluated, in proposal order.
    pub fn take(&mut self, batch: Vec<Evaluated>) -> Tally {
        self.next += batch.len() as u64;
        let d = &mut self.draws;
        for e in batch {
            if let Some(s) = e.simulated {
                d.simulations += 1;
                d.seconds += e.seconds;
                d.months_simulated += s.months;
                d.months_full += s.full_months;
            }
            if d.accepted.len() < self.n {
                d.proposals += 1;
                if e.simulated.is_some() {
                    d.simulations_to_accept += 1;
                }
                if e.acceptable(self.epsilon) {
                    let distance = e.simulated.map_or(f64::INFINITY, |s| s.distance);
                    d.accepted.push((e.z, e.theta, distance));
                }
            }
        }
        self.tally()
    }

    /// How far the generation has got.
    pub fn tally(&self) -> Tally {
        Tally {
            proposals: self.draws.proposals,
            accepted: self.draws.accepted.len(),
            needed: self.n,
        }
    }

    /// What was drawn (complete once [`Drawing::next_batch`] says `None`).
    pub fn into_draws(self) -> Draws {
        self.draws
    }
}

/// Evaluates batches here, in parallel, until `N` proposals are accepted.
fn draw_until(
    proposals: &Proposals<'_>,
    epsilon: f64,
    simulator: &dyn Simulator,
    budget: Budget,
    on_batch: &mut dyn FnMut(Tally),
) -> Result<Draws, Interrupted> {
    let mut drawing = Drawing::new(&proposals.settings, epsilon, budget.simulations);
    while let Some(batch) = drawing.next_batch(proposals)? {
        if budget.deadline.is_some_and(|t| Instant::now() >= t) {
            return Err(Interrupted::Budget);
        }
        let evaluated = proposals.evaluate_all(batch, epsilon, simulator)?;
        on_batch(drawing.take(evaluated));
    }
    Ok(drawing.into_draws())
}

/// One generation, evaluated here: generation 0 (`prev` = `None`, `epsilon` infinite: `N`
/// draws from the prior, each simulated once; a draw the model refuses has zero prior density
/// and is replaced by the next) or the one after `prev`. `Err(Budget)` if the budget runs out
/// before `N` particles are accepted (the previous population then stands).
pub fn generation(
    prev: Option<&Population>,
    epsilon: f64,
    priors: &dyn PriorModel,
    simulator: &dyn Simulator,
    settings: &Settings,
    budget: Budget,
    on_batch: &mut dyn FnMut(Tally),
) -> Result<(Population, GenerationStats), Interrupted> {
    let started = Instant::now();
    let proposals = Proposals::new(prev, priors, settings);
    let draws = draw_until(&proposals, epsilon, simulator, budget, on_batch)?;
    Ok(proposals.complete(draws, epsilon, started))
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

    /// One generation here, with no limit on simulations or time.
    fn local(
        prev: Option<&Population>,
        epsilon: f64,
        priors: &[Prior],
        settings: &Settings,
    ) -> (Population, GenerationStats) {
        let budget = Budget {
            simulations: u64::MAX,
            deadline: None,
        };
        let priors = priors.to_vec();
        generation(prev, epsilon, &priors, &Toy, settings, budget, &mut |_| {}).unwrap()
    }

    fn run(batch: usize, threads: usize) -> Population {
        let priors = [Prior::Uniform { min: 0.0, max: 1.0 }];
        let settings = Settings {
            particles: 200,
            batch,
            seed: 9,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut pop = local(None, f64::INFINITY, &priors, &settings).0;
            for _ in 0..5 {
                let eps = next_tolerance(&pop, 0.5);
                pop = local(Some(&pop), eps, &priors, &settings).0;
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

    /// Proposals evaluated ahead in blocks that ignore the batches (as Slurm shards do), then
    /// fed to a `Drawing` batch by batch, give the generation the local loop gives, statistics
    /// and all but the timings.
    #[test]
    fn batches_evaluated_ahead_give_the_same_generation() {
        let priors = vec![Prior::Uniform { min: 0.0, max: 1.0 }];
        let settings = Settings {
            particles: 50,
            batch: 16,
            seed: 3,
        };
        let untimed = |mut s: GenerationStats| {
            s.wall_seconds = 0.0;
            s.simulation_seconds = 0.0;
            s.algorithm_seconds = 0.0;
            s
        };
        let (zero, _) = local(None, f64::INFINITY, &priors, &settings);
        let eps = next_tolerance(&zero, 0.3);
        let (expected, expected_stats) = local(Some(&zero), eps, &priors, &settings);

        let proposals = Proposals::new(Some(&zero), &priors, &settings);
        let mut ahead: Vec<Evaluated> = Vec::new();
        let mut drawing = Drawing::new(&settings, eps, u64::MAX);
        while let Some(batch) = drawing.next_batch(&proposals).unwrap() {
            while (ahead.len() as u64) < batch.end {
                // Blocks of 37: never aligned with the batches of 16.
                let k = ahead.len() as u64;
                ahead.extend(proposals.evaluate_all(k..k + 37, eps, &Toy).unwrap());
            }
            let taken = ahead[batch.start as usize..batch.end as usize].to_vec();
            drawing.take(taken);
        }
        assert!(
            ahead.len() as u64 > expected_stats.proposals,
            "evaluated past the need"
        );
        let (replayed, stats) = proposals.complete(drawing.into_draws(), eps, Instant::now());
        assert_eq!(replayed, expected);
        assert_eq!(untimed(stats), untimed(expected_stats));
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
