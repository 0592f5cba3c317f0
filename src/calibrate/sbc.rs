//! Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari and Gelman 2018): is the
//! uncertainty a calibration states honest?
//!
//! Replication `r` draws parameters `θ*` from the prior, simulates the targets once with them
//! (the data), calibrates the same problem against those data, and records, for every free
//! coordinate, the rank of `θ*` among `L` draws from the posterior (by weight) and whether the
//! central 50% and 90% posterior intervals contain it. If the posterior is right, the ranks are
//! uniform on `0..=L` and the intervals contain the truth in 50% and 90% of replications. ABC
//! posteriors at a finite tolerance are usually too wide: coverage above the nominal rate and
//! ranks piled in the middle. Too narrow posteriors give coverage below it and ranks piled at
//! the ends.
//!
//! Every number of replication `r` comes from streams keyed by `(seed, r)`: the result does not
//! depend on the thread count.

use std::fmt::Write as _;

use rand::{Rng as _, RngExt};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::smc::weighted_quantile;
use super::space::PriorModel;
use super::{CalibrationError, Problem, Progress};
use crate::engine::rng::{from_key, mix_key};
use crate::output::fmt_value;

/// Tag of the streams of simulation-based calibration.
const STREAM: u64 = 0x5BC_5BC;

/// Settings of a simulation-based calibration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Replications (calibrations).
    pub replications: u32,
    /// Posterior draws a truth is ranked among (`L`; ranks run from 0 to `L`).
    pub draws: u32,
    /// Master seed.
    pub seed: u64,
}

/// One coordinate of one replication.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Replication.
    pub replication: u32,
    /// Coordinate (as in `posterior.csv`).
    pub parameter: String,
    /// The value the data were made with.
    pub truth: f64,
    /// How many of the `L` posterior draws lie below the truth.
    pub rank: u32,
    /// Whether the central 50% posterior interval contains the truth.
    pub in50: bool,
    /// Whether the central 90% posterior interval contains the truth.
    pub in90: bool,
    /// The final tolerance of the replication's calibration.
    pub tolerance: f64,
}

/// The records of every replication, in replication and coordinate order.
pub fn run(
    problem: &Problem,
    settings: Settings,
    progress: &mut dyn Progress,
    on_replication: &mut dyn FnMut(u32),
) -> Result<Vec<Record>, CalibrationError> {
    let names = problem.space.names();
    let mut records = Vec::new();
    for r in 0..settings.replications {
        let mut rng = from_key(mix_key(&[settings.seed, STREAM, u64::from(r)]));
        let (truth, data) = loop {
            let z = problem
                .space
                .sample_z(&mut rng)
                .map_err(|i| CalibrationError::Prior(names[i].clone()))?;
            let theta = problem.space.values_of(&z);
            let seed = rng.next_u64() >> 1;
            // A draw the scenario refuses has no data: the next draw of the stream replaces it.
            if let Some(data) = problem
                .simulate_targets(&theta, seed)
                .map_err(CalibrationError::Simulation)?
            {
                break (theta, data);
            }
        };
        let replica = problem.with_data(&data, rng.next_u64() >> 1);
        let state = super::run(&replica, None, progress, &mut |_| Ok(()))?;
        let particles = &state.population.particles;
        let weights: Vec<f64> = particles.iter().map(|p| p.weight).collect();
        let picks: Vec<usize> = (0..settings.draws)
            .map(|_| pick(&weights, rng.random::<f64>()))
            .collect();
        for (i, name) in names.iter().enumerate() {
            let pairs: Vec<(f64, f64)> = particles.iter().map(|p| (p.theta[i], p.weight)).collect();
            let q = |p: f64| weighted_quantile(pairs.clone(), p);
            let t = truth[i];
            records.push(Record {
                replication: r,
                parameter: name.clone(),
                truth: t,
                rank: picks.iter().filter(|&&j| particles[j].theta[i] < t).count() as u32,
                in50: q(0.25) <= t && t <= q(0.75),
                in90: q(0.05) <= t && t <= q(0.95),
                tolerance: state.population.tolerance,
            });
        }
        on_replication(r);
    }
    Ok(records)
}

/// Index drawn with probability proportional to `weights`, from a uniform `u` in [0, 1).
fn pick(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    for (j, &w) in weights.iter().enumerate() {
        acc += w;
        if u * total < acc {
            return j;
        }
    }
    weights.len() - 1
}

/// The summary of one coordinate over the replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Coordinate.
    pub parameter: String,
    /// Replications.
    pub replications: usize,
    /// Share of replications whose 50% interval contains the truth.
    pub coverage50: f64,
    /// Share whose 90% interval contains the truth.
    pub coverage90: f64,
    /// Counts of ranks in `BINS` equal bins of `0..=L`.
    pub histogram: Vec<u32>,
    /// Pearson's χ² of the histogram against uniform counts.
    pub chi_square: f64,
    /// Its p-value (χ² with `BINS − 1` degrees of freedom).
    pub p_value: f64,
}

/// Bins of the rank histogram.
pub const BINS: usize = 10;

/// Rank bin of `rank` among `L = draws`: ranks `0..=L` split into `BINS` bins of (nearly)
/// equal width.
pub fn bin(rank: u32, draws: u32) -> usize {
    (rank as usize * BINS / (draws as usize + 1)).min(BINS - 1)
}

/// Per coordinate, in the order of first appearance.
pub fn summarise(records: &[Record], draws: u32) -> Vec<Summary> {
    let mut names: Vec<&str> = Vec::new();
    for r in records {
        if !names.contains(&r.parameter.as_str()) {
            names.push(&r.parameter);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let mine: Vec<&Record> = records.iter().filter(|r| r.parameter == name).collect();
            let n = mine.len();
            let share = |f: &dyn Fn(&Record) -> bool| {
                mine.iter().filter(|r| f(r)).count() as f64 / n as f64
            };
            let mut histogram = vec![0u32; BINS];
            for r in &mine {
                histogram[bin(r.rank, draws)] += 1;
            }
            let (chi_square, p_value) = uniformity(&histogram, draws);
            Summary {
                parameter: name.to_string(),
                replications: n,
                coverage50: share(&|r| r.in50),
                coverage90: share(&|r| r.in90),
                histogram,
                chi_square,
                p_value,
            }
        })
        .collect()
}

/// Pearson's χ² of rank-bin counts against the counts uniform ranks give (a bin's expected
/// share is the number of ranks it holds over `L + 1`), and its p-value.
pub fn uniformity(histogram: &[u32], draws: u32) -> (f64, f64) {
    let n: u32 = histogram.iter().sum();
    let ranks = f64::from(draws + 1);
    let mut held = vec![0u32; histogram.len()];
    for rank in 0..=draws {
        held[bin(rank, draws)] += 1;
    }
    let chi: f64 = histogram
        .iter()
        .zip(&held)
        .map(|(&o, &h)| {
            let e = f64::from(n) * f64::from(h) / ranks;
            (f64::from(o) - e).powi(2) / e
        })
        .sum();
    let df = (histogram.len() - 1) as f64;
    let p = ChiSquared::new(df).map_or(f64::NAN, |d| 1.0 - d.cdf(chi));
    (chi, p)
}

/// `sbc.csv`: one row per replication and coordinate.
pub fn records_csv(records: &[Record]) -> Vec<u8> {
    let mut out = String::from("replication,parameter,truth,rank,in50,in90,tolerance\n");
    for r in records {
        let _ = write!(out, "{},{},", r.replication, r.parameter);
        fmt_value(&mut out, r.truth);
        let _ = write!(out, ",{},{},{},", r.rank, r.in50, r.in90);
        fmt_value(&mut out, r.tolerance);
        out.push('\n');
    }
    out.into_bytes()
}

/// `sbc_summary.csv`: one row per coordinate.
pub fn summary_csv(summaries: &[Summary]) -> Vec<u8> {
    let mut out = String::from("parameter,replications,coverage50,coverage90,chi_square,p_value");
    for b in 0..BINS {
        let _ = write!(out, ",bin{b}");
    }
    out.push('\n');
    for s in summaries {
        let _ = write!(out, "{},{},", s.parameter, s.replications);
        for v in [s.coverage50, s.coverage90, s.chi_square, s.p_value] {
            fmt_value(&mut out, v);
            out.push(',');
        }
        out.pop();
        for c in &s.histogram {
            let _ = write!(out, ",{c}");
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_hold_equal_shares_of_ranks() {
        // L = 99: ranks 0..=99, ten bins of ten.
        assert_eq!(bin(0, 99), 0);
        assert_eq!(bin(9, 99), 0);
        assert_eq!(bin(10, 99), 1);
        assert_eq!(bin(99, 99), 9);
        // Uniform counts: χ² = 0, p = 1.
        let (chi, p) = uniformity(&[5; 10], 99);
        assert!(chi.abs() < 1e-12 && (p - 1.0).abs() < 1e-12);
        // Everything in one bin of 50: χ² = (50−5)²/5 + 9·5 = 450; p ≈ 0.
        let mut h = [0u32; 10];
        h[3] = 50;
        let (chi, p) = uniformity(&h, 99);
        assert!((chi - 450.0).abs() < 1e-9 && p < 1e-12, "{chi} {p}");
        // χ²(9) at its 95% point 16.919: p = 0.05.
        let d = ChiSquared::new(9.0).unwrap();
        assert!((1.0 - d.cdf(16.918_977_604_620_45) - 0.05).abs() < 1e-9);
    }

    #[test]
    fn picks_follow_the_weights() {
        let w = [0.2, 0.0, 0.8];
        assert_eq!(pick(&w, 0.1), 0);
        assert_eq!(pick(&w, 0.2), 2);
        assert_eq!(pick(&w, 0.999), 2);
    }
}
