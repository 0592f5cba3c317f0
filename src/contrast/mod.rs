//! Paired differences between two runs: replicate `k` of run B minus replicate `k` of run A,
//! for every series × place × sex × year, summarised across replicates, with the variance of
//! the difference split into a parametric and a stochastic part.
//!
//! **Pairing.** Runs made with the same seed draw the same random numbers, replicate by
//! replicate, until their models first differ (a counterfactual whose events start in 2020
//! gives exactly the same years before 2020), so a paired difference carries far less noise
//! than the difference of two independent ensembles. With `diaspora run --posterior` and the
//! same seed and draws, replicate `k` of both runs also has the same parameter set.
//!
//! **Variance split** (law of total variance over the parameter draws, `D` the difference,
//! `θ` the draw): `Var(D) = E[Var(D | θ)] + Var(E[D | θ])`, the stochastic and the parametric
//! part. With `G` draws of `n_g` replicates each (`n` in all), both are estimated without bias
//! by the one-way random-effects (ANOVA) estimator:
//! `stochastic = MSW = Σ_g Σ_i (D_gi − D̄_g)² / (n − G)`,
//! `parametric = max(0, (MSB − MSW) / n₀)` with `MSB = Σ_g n_g (D̄_g − D̄)² / (G − 1)` and
//! `n₀ = (n − Σ_g n_g² / n) / (G − 1)` (`n₀` is the replicates per draw when all draws have as
//! many). One draw (a run without `--posterior`): everything is stochastic. One replicate per
//! draw: the split is undefined.
//!
//! Totals sum a series over its places, replicate by replicate, before any statistic; over a
//! period, flows are summed over its years and stocks taken at its last year.

pub mod table;

use std::collections::{BTreeMap, HashMap};

use crate::observe::{Layout, Row, Sex};
use crate::output::quantile;

/// The place name of rows summed over every place of a series.
pub const EVERY_PLACE: &str = "*";

/// Two runs' values, paired replicate by replicate.
#[derive(Clone, Debug, PartialEq)]
pub struct Paired {
    /// `(year, series, place, sex)` of every unit-year, in run A's row order.
    pub keys: Vec<Key>,
    /// `a[i][k]`: run A's value of key `i` in replicate `k`.
    pub a: Vec<Vec<f64>>,
    /// Run B's values, the same way.
    pub b: Vec<Vec<f64>>,
}

/// A unit-year.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Series.
    pub series: String,
    /// Place id, or [`EVERY_PLACE`].
    pub place: String,
    /// Sex.
    pub sex: Sex,
    /// Year.
    pub year: i32,
}

/// Runs that cannot be paired.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    /// Different numbers of replicates.
    #[error(
        "run A has {a} replicate(s) and run B {b}: paired differences need the same replicates"
    )]
    Replicates {
        /// Run A's replicates.
        a: usize,
        /// Run B's replicates.
        b: usize,
    },
    /// A unit-year one run has and the other lacks.
    #[error(
        "{series} at {place} ({sex}) in {year} is in run {has} only: the runs report different series"
    )]
    Unmatched {
        /// Series.
        series: String,
        /// Place.
        place: String,
        /// Sex.
        sex: &'static str,
        /// Year.
        year: i32,
        /// `A` or `B`.
        has: &'static str,
    },
}

type Rows<'a> = (&'a Layout, &'a [(u32, Row)]);

fn key(layout: &Layout, r: &Row) -> Key {
    Key {
        series: layout.series[usize::from(r.series)].clone(),
        place: layout.places[usize::from(r.place)].clone(),
        sex: r.sex,
        year: r.year,
    }
}

fn replicates(rows: &[(u32, Row)]) -> usize {
    rows.iter().map(|r| r.0 as usize + 1).max().unwrap_or(0)
}

/// Pairs two runs' `series.csv` rows (as `output::read_series` returns them).
pub fn pair(a: Rows<'_>, b: Rows<'_>) -> Result<Paired, PairError> {
    let (ra, rb) = (replicates(a.1), replicates(b.1));
    if ra != rb {
        return Err(PairError::Replicates { a: ra, b: rb });
    }
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut keys = Vec::new();
    for (_, r) in a.1.iter().filter(|r| r.0 == 0) {
        let k = key(a.0, r);
        index.insert(k.clone(), keys.len());
        keys.push(k);
    }
    let fill = |rows: Rows<'_>, name: &'static str| -> Result<Vec<Vec<f64>>, PairError> {
        let mut v = vec![vec![f64::NAN; ra]; keys.len()];
        for (rep, r) in rows.1 {
            let k = key(rows.0, r);
            let Some(&i) = index.get(&k) else {
                return Err(unmatched(&k, name));
            };
            v[i][*rep as usize] = r.value;
        }
        if let Some((i, _)) = v
            .iter()
            .enumerate()
            .find(|(_, x)| x.iter().any(|y| y.is_nan()))
        {
            return Err(unmatched(&keys[i], if name == "A" { "B" } else { "A" }));
        }
        Ok(v)
    };
    let va = fill(a, "A")?;
    let vb = fill(b, "B")?;
    Ok(Paired { keys, a: va, b: vb })
}

fn unmatched(k: &Key, has: &'static str) -> PairError {
    PairError::Unmatched {
        series: k.series.clone(),
        place: k.place.clone(),
        sex: k.sex.name(),
        year: k.year,
        has,
    }
}

impl Paired {
    /// Replicates.
    pub fn replicates(&self) -> usize {
        self.a.first().map_or(0, Vec::len)
    }

    /// Adds, for every series reported at more than one place, rows summed over its places
    /// (place [`EVERY_PLACE`]), replicate by replicate.
    pub fn with_place_totals(mut self) -> Paired {
        let mut places: HashMap<&str, usize> = HashMap::new();
        for k in self.keys.iter().filter(|k| k.year == self.keys[0].year) {
            *places.entry(&k.series).or_default() += 1;
        }
        let mut sums: BTreeMap<Key, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        let r = self.replicates();
        for (i, k) in self.keys.iter().enumerate() {
            if places.get(k.series.as_str()).copied().unwrap_or(0) < 2 || k.place == EVERY_PLACE {
                continue;
            }
            let total = Key {
                place: EVERY_PLACE.to_string(),
                ..k.clone()
            };
            let e = sums
                .entry(total)
                .or_insert_with(|| (vec![0.0; r], vec![0.0; r]));
            for j in 0..r {
                e.0[j] += self.a[i][j];
                e.1[j] += self.b[i][j];
            }
        }
        for (k, (a, b)) in sums {
            self.keys.push(k);
            self.a.push(a);
            self.b.push(b);
        }
        self
    }
}

/// The law-of-total-variance split of a difference's variance over parameter draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceSplit {
    /// Between draws: `Var(E[D | θ])`.
    pub parametric: f64,
    /// Within draws: `E[Var(D | θ)]`.
    pub stochastic: f64,
}

impl VarianceSplit {
    /// Parametric share of `parametric + stochastic`; `None` if both are zero.
    pub fn parametric_share(&self) -> Option<f64> {
        let t = self.parametric + self.stochastic;
        (t > 0.0).then(|| self.parametric / t)
    }
}

/// The split of the variance of `d` (one value per replicate) over the draws `group[k]` of
/// the replicates (see the module documentation); `None` when no draw has two replicates.
pub fn split(d: &[f64], group: &[usize]) -> Option<VarianceSplit> {
    // Ordered maps: sums are taken in the same order on every run.
    let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for (&x, &g) in d.iter().zip(group) {
        let e = sums.entry(g).or_default();
        e.0 += x;
        e.1 += 1;
    }
    let n = d.len() as f64;
    let g = sums.len() as f64;
    if d.len() <= sums.len() {
        return None;
    }
    let means: BTreeMap<usize, f64> = sums.iter().map(|(&k, &(s, c))| (k, s / c as f64)).collect();
    let within: f64 = d
        .iter()
        .zip(group)
        .map(|(x, g)| (x - means[g]).powi(2))
        .sum();
    let msw = within / (n - g);
    if sums.len() == 1 {
        return Some(VarianceSplit {
            parametric: 0.0,
            stochastic: msw,
        });
    }
    let grand = d.iter().sum::<f64>() / n;
    let msb = sums
        .iter()
        .map(|(k, &(_, c))| c as f64 * (means[k] - grand).powi(2))
        .sum::<f64>()
        / (g - 1.0);
    let n0 = (n - sums.values().map(|&(_, c)| (c * c) as f64).sum::<f64>() / n) / (g - 1.0);
    Some(VarianceSplit {
        parametric: ((msb - msw) / n0).max(0.0),
        stochastic: msw,
    })
}

/// Statistics of one difference across replicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// Mean of A.
    pub mean_a: f64,
    /// Mean of B.
    pub mean_b: f64,
    /// Mean difference.
    pub mean: f64,
    /// Sample standard deviation of the difference (NaN with one replicate).
    pub sd: f64,
    /// 5th percentile.
    pub p05: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The variance split, where defined.
    pub split: Option<VarianceSplit>,
}

/// Statistics of `b − a` replicate by replicate.
pub fn difference(a: &[f64], b: &[f64], group: &[usize]) -> Difference {
    let n = a.len() as f64;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let mean = d.iter().sum::<f64>() / n;
    let sd = if d.len() > 1 {
        (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    let mut sorted = d.clone();
    sorted.sort_by(f64::total_cmp);
    Difference {
        mean_a: a.iter().sum::<f64>() / n,
        mean_b: b.iter().sum::<f64>() / n,
        mean,
        sd,
        p05: quantile(&sorted, 0.05),
        p50: quantile(&sorted, 0.5),
        p95: quantile(&sorted, 0.95),
        split: split(&d, group),
    }
}

/// One series' total over a period.
#[derive(Clone, Debug, PartialEq)]
pub struct Total {
    /// Series.
    pub series: String,
    /// Sex.
    pub sex: Sex,
    /// Whether the series is a stock (taken at the period's last year) or a flow (summed).
    pub stock: bool,
    /// First and last year.
    pub years: (i32, i32),
    /// The difference's statistics.
    pub difference: Difference,
}

/// Per series and sex, the total over its places (replicate by replicate) over `years`:
/// summed for flows, at the last year for stocks (`is_stock` by series name).
pub fn totals(
    p: &Paired,
    years: (i32, i32),
    is_stock: impl Fn(&str) -> bool,
    group: &[usize],
) -> Vec<Total> {
    /// Whether the series is a stock, and its totals in A and in B, replicate by replicate.
    type Sums = (bool, Vec<f64>, Vec<f64>);
    let r = p.replicates();
    let mut sums: BTreeMap<(String, Sex), Sums> = BTreeMap::new();
    for (i, k) in p.keys.iter().enumerate() {
        if k.place == EVERY_PLACE || k.year < years.0 || k.year > years.1 {
            continue;
        }
        let stock = is_stock(&k.series);
        if stock && k.year != years.1 {
            continue;
        }
        let e = sums
            .entry((k.series.clone(), k.sex))
            .or_insert_with(|| (stock, vec![0.0; r], vec![0.0; r]));
        for j in 0..r {
            e.1[j] += p.a[i][j];
            e.2[j] += p.b[i][j];
        }
    }
    sums.into_iter()
        .map(|((series, sex), (stock, a, b))| Total {
            series,
            sex,
            stock,
            years,
            difference: difference(&a, &b, group),
        })
        .collect()
}

/// The first year in which any value differs between the runs, if one does.
pub fn first_difference(p: &Paired) -> Option<i32> {
    p.keys
        .iter()
        .zip(p.a.iter().zip(&p.b))
        .filter(|(_, (a, b))| a != b)
        .map(|(k, _)| k.year)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two draws of three replicates, by hand: draw 0 differences 1, 2, 3 (mean 2, squares
    /// about the mean 2); draw 1: 5, 7, 9 (mean 7, squares 8). MSW = (2 + 8) / (6 − 2) = 2.5;
    /// grand mean 4.5, MSB = 3·(2.5² + 2.5²) / 1 = 37.5; n₀ = (6 − 18/6) / 1 = 3; parametric
    /// = (37.5 − 2.5) / 3 = 11.667; parametric share 11.667 / 14.167 = 0.8235.
    #[test]
    fn the_split_matches_a_hand_computation() {
        let d = [1.0, 2.0, 3.0, 5.0, 7.0, 9.0];
        let g = [0, 0, 0, 1, 1, 1];
        let s = split(&d, &g).unwrap();
        assert!((s.stochastic - 2.5).abs() < 1e-12, "{s:?}");
        assert!((s.parametric - 35.0 / 3.0).abs() < 1e-12, "{s:?}");
        assert!((s.parametric_share().unwrap() - (35.0 / 3.0) / (35.0 / 3.0 + 2.5)).abs() < 1e-12);
        // Interleaved replicates (draw k mod 2) give the same split.
        let d2 = [1.0, 5.0, 2.0, 7.0, 3.0, 9.0];
        let g2 = [0, 1, 0, 1, 0, 1];
        let s2 = split(&d2, &g2).unwrap();
        assert!((s2.parametric - s.parametric).abs() < 1e-12);
        assert!((s2.stochastic - s.stochastic).abs() < 1e-12);
        // One draw: all stochastic, the sample variance; one replicate per draw: undefined.
        let one = split(&d, &[0; 6]).unwrap();
        assert_eq!(one.parametric, 0.0);
        assert!((one.stochastic - 9.5).abs() < 1e-12);
        assert_eq!(split(&d, &[0, 1, 2, 3, 4, 5]), None);
        // Draws that do not differ beyond noise: parametric clipped at 0.
        let flat = split(&[1.0, 3.0, 3.0, 1.0], &[0, 0, 1, 1]).unwrap();
        assert_eq!(flat.parametric, 0.0);
    }

    #[test]
    fn differences_are_b_minus_a_replicate_by_replicate() {
        let d = difference(&[1.0, 2.0, 3.0], &[2.0, 4.0, 9.0], &[0, 0, 0]);
        assert_eq!((d.mean_a, d.mean_b), (2.0, 5.0));
        assert_eq!(d.mean, 3.0);
        assert_eq!(d.p50, 2.0);
        assert!((d.p05 - 1.1).abs() < 1e-12 && (d.p95 - 5.6).abs() < 1e-12);
    }
}
