//! Percentile bootstrap intervals: a statistic recomputed on resamples (with replacement) of
//! its units — Morris trajectories, Saltelli base points — and the interval between the
//! `(1 − level)/2` and `(1 + level)/2` quantiles (type 7) of the resampled values.
//!
//! Resample `b` draws its indices from its own Xoshiro256++ stream keyed by `(seed, "BOOT", b)`,
//! so intervals are the same at any thread count.

use rand::Rng as _;
use rayon::prelude::*;

use crate::engine::rng::{Purpose, from_key, mix_key};
use crate::output::quantile;

/// Tag of the bootstrap streams within [`Purpose::External`].
const BOOT: u64 = 0x0000_424f_4f54; // "BOOT"

/// How intervals are computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bootstrap {
    /// Resamples (0: no intervals).
    pub resamples: usize,
    /// Coverage of the intervals, e.g. 0.95.
    pub level: f64,
    /// Seed of the resampling streams.
    pub seed: u64,
}

/// `n` indices drawn with replacement from `0..n` by resample `b`.
fn resample(n: usize, seed: u64, b: usize) -> Vec<usize> {
    let mut rng = from_key(mix_key(&[seed, Purpose::External as u64, BOOT, b as u64]));
    (0..n)
        .map(|_| ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize)
        .collect()
}

/// For each component of `stat` (computed on the indices of `n` units), its percentile
/// interval; `None` where no resample gave a finite value, or without resamples.
pub fn intervals<F>(n: usize, b: &Bootstrap, stat: F) -> Vec<Option<(f64, f64)>>
where
    F: Fn(&[usize]) -> Vec<f64> + Sync,
{
    let width = stat(&(0..n).collect::<Vec<_>>()).len();
    if b.resamples == 0 || n == 0 {
        return vec![None; width];
    }
    let draws: Vec<Vec<f64>> = (0..b.resamples)
        .into_par_iter()
        .map(|i| stat(&resample(n, b.seed, i)))
        .collect();
    let tail = (1.0 - b.level) / 2.0;
    (0..width)
        .map(|c| {
            let mut v: Vec<f64> = draws
                .iter()
                .map(|d| d[c])
                .filter(|x| x.is_finite())
                .collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some((quantile(&v, tail), quantile(&v, 1.0 - tail)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_of_a_mean_matches_its_standard_error() {
        // 400 units with values 0..399: the mean's standard error is sd/√n ≈ 5.77, so a 95%
        // interval is about ±11.3 around 199.5.
        let x: Vec<f64> = (0..400).map(f64::from).collect();
        let b = Bootstrap {
            resamples: 2000,
            level: 0.95,
            seed: 3,
        };
        let ci = intervals(x.len(), &b, |idx| {
            vec![idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64]
        });
        let (lo, hi) = ci[0].unwrap();
        assert!((lo - (199.5 - 11.3)).abs() < 1.0, "{lo}");
        assert!((hi - (199.5 + 11.3)).abs() < 1.0, "{hi}");
        // Deterministic in the seed.
        let again = intervals(x.len(), &b, |idx| {
            vec![idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64]
        });
        assert_eq!(ci, again);
    }
}
