//! Replicated runs: each point is analysed by the mean of its replicates, and the replicate
//! noise left in those means is reported as a share of their variance.
//!
//! With `R` replicates per point, `s²_p` the sample variance of point `p`'s replicates and
//! `s²_w` its mean over points, the noise variance of a point mean is `s²_w / R`; the
//! **noise share** is `(s²_w / R) / Var_p(ȳ_p)`, with `Var_p` the sample variance of the point
//! means. Near 0, differences between points are parameter effects; near 1, they are mostly
//! noise (more replicates, or common random numbers, are needed). With common random numbers
//! the noise is shared by all points, so the share overstates what remains in their
//! differences.

/// Each point's mean over its `replicates` consecutive runs; `Err(point)` for the first point
/// with an undefined run.
pub fn point_means(runs: &[Option<f64>], replicates: usize) -> Result<Vec<f64>, usize> {
    runs.chunks(replicates)
        .enumerate()
        .map(|(p, reps)| {
            let mut s = 0.0;
            for r in reps {
                s += r.ok_or(p)?;
            }
            Ok(s / reps.len() as f64)
        })
        .collect()
}

/// Sample variance (`n − 1`); NaN for fewer than two values.
pub fn variance(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// The replicate-noise share of the variance of the point means; `None` with one replicate,
/// an undefined run, or point means that do not vary.
pub fn noise_share(runs: &[Option<f64>], replicates: usize) -> Option<f64> {
    if replicates < 2 {
        return None;
    }
    let means = point_means(runs, replicates).ok()?;
    let within: Vec<f64> = runs
        .chunks(replicates)
        .map(|reps| {
            let v: Vec<f64> = reps.iter().map(|r| r.expect("defined")).collect();
            variance(&v)
        })
        .collect();
    let w = within.iter().sum::<f64>() / within.len() as f64;
    let between = variance(&means);
    (between > 0.0).then(|| w / replicates as f64 / between)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_share_by_hand() {
        // Two points, two replicates: (1, 3) and (5, 9). Means 2 and 7, variance of the means
        // 12.5; within variances 2 and 8, mean 5; noise of a mean 5/2 = 2.5; share 0.2.
        let runs = [Some(1.0), Some(3.0), Some(5.0), Some(9.0)];
        assert_eq!(point_means(&runs, 2), Ok(vec![2.0, 7.0]));
        assert!((noise_share(&runs, 2).unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(noise_share(&runs, 1), None);
        assert_eq!(point_means(&[Some(1.0), None], 1), Err(1));
    }
}
