//! Fit metrics for one simulated series against its observed twin, year by year.
//!
//! An observed value may be an interval: a published 5 that stands for "1 to 5" (or a sum of
//! such cells) is `[lower, upper]`, and a simulated value inside the interval has no error. For
//! unmasked observations the interval is a point.

/// A transform applied before differences are taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transform {
    /// `ln(1 + x)`: relative error for large counts, defined at zero.
    #[default]
    Log1p,
    /// `2 √(x + 3/8)`: variance-stabilising for Poisson counts.
    Anscombe,
    /// The counts themselves.
    Identity,
}

impl Transform {
    /// Applies the transform (counts below zero are treated as zero).
    pub fn apply(self, x: f64) -> f64 {
        let x = x.max(0.0);
        match self {
            Transform::Log1p => x.ln_1p(),
            Transform::Anscombe => 2.0 * (x + 0.375).sqrt(),
            Transform::Identity => x,
        }
    }

    /// Parses `log1p`, `anscombe` or `identity`.
    pub fn parse(s: &str) -> Option<Transform> {
        match s {
            "log1p" => Some(Transform::Log1p),
            "anscombe" => Some(Transform::Anscombe),
            "identity" => Some(Transform::Identity),
            _ => None,
        }
    }
}

/// One year's comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// Year.
    pub year: i32,
    /// Simulated value (the median across replicates, or one replicate's value).
    pub sim: f64,
    /// Simulated 5th and 95th percentiles across replicates (equal to `sim` for one run).
    pub band: (f64, f64),
    /// Observed value as published.
    pub obs: f64,
    /// Smallest value consistent with masking (equal to `obs` if unmasked).
    pub obs_lower: f64,
}

impl Pair {
    /// The observed value nearest to `x` within the observed interval.
    fn nearest_obs(&self, x: f64) -> f64 {
        x.clamp(self.obs_lower, self.obs)
    }

    /// Transformed error: zero inside the observed interval, distance to its nearest end outside.
    pub fn error(&self, t: Transform) -> f64 {
        t.apply(self.sim) - t.apply(self.nearest_obs(self.sim))
    }
}

/// Root mean squared transformed error; `None` without pairs.
pub fn rmse(pairs: &[Pair], t: Transform) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let ss: f64 = pairs.iter().map(|p| p.error(t).powi(2)).sum();
    Some((ss / pairs.len() as f64).sqrt())
}

/// Mean of `|ln(sim / obs)|` over years where both are positive (Flee's error measure).
pub fn mean_abs_log_ratio(pairs: &[Pair]) -> Option<f64> {
    let terms: Vec<f64> = pairs
        .iter()
        .filter(|p| p.sim > 0.0 && p.obs > 0.0)
        .map(|p| (p.sim / p.nearest_obs(p.sim)).ln().abs())
        .collect();
    (!terms.is_empty()).then(|| terms.iter().sum::<f64>() / terms.len() as f64)
}

/// Mean absolute scaled error: mean `|sim − obs|` divided by the mean absolute change between
/// consecutive observed points (the in-sample naive forecast). `None` with fewer than two
/// observations or a constant observed series.
pub fn mase(pairs: &[Pair]) -> Option<f64> {
    if pairs.len() < 2 {
        return None;
    }
    let mae = pairs
        .iter()
        .map(|p| (p.sim - p.nearest_obs(p.sim)).abs())
        .sum::<f64>()
        / pairs.len() as f64;
    let naive = pairs
        .windows(2)
        .map(|w| (w[1].obs - w[0].obs).abs())
        .sum::<f64>()
        / (pairs.len() - 1) as f64;
    (naive > 0.0).then(|| mae / naive)
}

/// Sum of `sim − obs` (published values).
pub fn bias(pairs: &[Pair]) -> f64 {
    pairs.iter().map(|p| p.sim - p.obs).sum()
}

/// Sum of `sim − ô`, `ô` the observed value nearest to `sim`: the bias against an observed
/// interval with no single published value (zero inside it).
pub fn bias_to_interval(pairs: &[Pair]) -> f64 {
    pairs.iter().map(|p| p.sim - p.nearest_obs(p.sim)).sum()
}

/// Mean absolute error `mean |sim − ô|`, on the values' own scale (persons, or a share).
pub fn mae(pairs: &[Pair]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let total: f64 = pairs
        .iter()
        .map(|p| (p.sim - p.nearest_obs(p.sim)).abs())
        .sum();
    Some(total / pairs.len() as f64)
}

/// Whether the observed interval meets the simulated 90% band.
pub(crate) fn covered(p: &Pair) -> bool {
    p.obs >= p.band.0 && p.obs_lower <= p.band.1
}

/// Distance in `ln(1 + x)` from the simulated 90% band to the observed interval when they do
/// not meet (positive either way); `None` when they meet.
pub fn band_gap(p: &Pair) -> Option<f64> {
    let t = Transform::Log1p;
    if p.band.0 > p.obs {
        Some(t.apply(p.band.0) - t.apply(p.obs))
    } else if p.obs_lower > p.band.1 {
        Some(t.apply(p.obs_lower) - t.apply(p.band.1))
    } else {
        None
    }
}

/// Mean [`band_gap`] over the points whose interval misses the band; `None` if none misses.
pub fn log_gap(pairs: &[Pair]) -> Option<f64> {
    let gaps: Vec<f64> = pairs.iter().filter_map(band_gap).collect();
    (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64)
}

/// Share of observed points whose interval meets the simulated 90% band.
pub fn coverage(pairs: &[Pair]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let inside = pairs.iter().filter(|p| covered(p)).count();
    Some(inside as f64 / pairs.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(year: i32, sim: f64, obs: f64) -> Pair {
        Pair {
            year,
            sim,
            band: (sim * 0.8, sim * 1.2),
            obs,
            obs_lower: obs,
        }
    }

    #[test]
    fn log1p_rmse_by_hand() {
        // errors: ln(11) - ln(11) = 0; ln(1) - ln(4) = -ln 4; ln(8) - ln(1) = ln 8
        let pairs = [
            pair(2000, 10.0, 10.0),
            pair(2001, 0.0, 3.0),
            pair(2002, 7.0, 0.0),
        ];
        let expected = ((4f64.ln().powi(2) + 8f64.ln().powi(2)) / 3.0).sqrt();
        assert!((rmse(&pairs, Transform::Log1p).unwrap() - expected).abs() < 1e-12);
        assert_eq!(rmse(&[], Transform::Log1p), None);
    }

    #[test]
    fn masked_observation_is_an_interval() {
        let masked = Pair {
            year: 2000,
            sim: 3.0,
            band: (1.0, 4.0),
            obs: 5.0,
            obs_lower: 1.0,
        };
        assert_eq!(masked.error(Transform::Log1p), 0.0);
        let above = Pair { sim: 9.0, ..masked };
        assert!((above.error(Transform::Log1p) - (10f64.ln() - 6f64.ln())).abs() < 1e-12);
        let zero = Pair { sim: 0.0, ..masked };
        assert!((zero.error(Transform::Log1p) - (0.0 - 2f64.ln())).abs() < 1e-12);
        assert_eq!(coverage(&[masked]), Some(1.0));
    }

    #[test]
    fn ratio_mase_bias_coverage_by_hand() {
        let pairs = [
            pair(2000, 20.0, 10.0),
            pair(2001, 10.0, 20.0),
            pair(2002, 0.0, 5.0),
        ];
        // |ln 2| twice; the zero year is skipped
        assert!((mean_abs_log_ratio(&pairs).unwrap() - 2f64.ln()).abs() < 1e-12);
        // MAE = (10 + 10 + 5)/3; naive = (10 + 15)/2
        assert!((mase(&pairs).unwrap() - (25.0 / 3.0) / 12.5).abs() < 1e-12);
        assert_eq!(bias(&pairs), 30.0 - 35.0);
        // bands: [16,24] vs 10 no; [8,12] vs 20 no; [0,0] vs 5 no
        assert_eq!(coverage(&pairs), Some(0.0));
        assert_eq!(mase(&[pair(2000, 1.0, 3.0), pair(2001, 1.0, 3.0)]), None);
    }

    #[test]
    fn band_gap_mae_and_bias_to_an_interval_by_hand() {
        // [100, 300] against bands [10, 40] (below), [250, 500] (meets), [400, 900] (above);
        // [50, ∞) against [10, 20] (below).
        let p = |sim: f64, band: (f64, f64), lo: f64, hi: f64| Pair {
            year: 2000,
            sim,
            band,
            obs: hi,
            obs_lower: lo,
        };
        let pairs = [
            p(20.0, (10.0, 40.0), 100.0, 300.0),
            p(300.0, (250.0, 500.0), 100.0, 300.0),
            p(600.0, (400.0, 900.0), 100.0, 300.0),
            p(15.0, (10.0, 20.0), 50.0, f64::INFINITY),
        ];
        let gaps = [
            101f64.ln() - 41f64.ln(),
            0.0,
            401f64.ln() - 301f64.ln(),
            51f64.ln() - 21f64.ln(),
        ];
        for (pair, gap) in pairs.iter().zip(gaps) {
            assert_eq!(band_gap(pair).unwrap_or(0.0), gap);
        }
        assert!((log_gap(&pairs).unwrap() - (gaps[0] + gaps[2] + gaps[3]) / 3.0).abs() < 1e-12);
        assert_eq!(coverage(&pairs), Some(0.25));
        // nearest observed values 100, 300, 300, 50
        assert_eq!(mae(&pairs), Some((80.0 + 0.0 + 300.0 + 35.0) / 4.0));
        assert_eq!(bias_to_interval(&pairs), -80.0 + 0.0 + 300.0 - 35.0);
        assert_eq!(log_gap(&pairs[1..2]), None);
    }

    #[test]
    fn transforms() {
        assert_eq!(Transform::Log1p.apply(0.0), 0.0);
        assert!((Transform::Anscombe.apply(0.0) - 2.0 * 0.375f64.sqrt()).abs() < 1e-15);
        assert_eq!(Transform::Identity.apply(7.0), 7.0);
        assert_eq!(Transform::parse("anscombe"), Some(Transform::Anscombe));
        assert_eq!(Transform::parse("log"), None);
    }
}
