//! `fit.csv`: one row per compared unit — each simulated series × place × sex that has an
//! observed twin, in key order, then the untargeted checks — rendered to bytes (the caller
//! writes it atomically).
//!
//! | column | meaning |
//! |---|---|
//! | `series`, `place`, `sex` | the unit compared |
//! | `kind` | `series` (a series against its observed twin), `interval` (published estimates as intervals), `count` (hosts counted), `share` (female share) |
//! | `targeted` | `true` if the calibration behind the run used these data, `false` if not, empty when no calibration is known |
//! | `measure` | `stock` (31 December) or `flow` (per year); empty if the run does not say |
//! | `years` | number of points compared (years; for `interval`, estimates) |
//! | `first_year`, `last_year` | first and last year compared |
//! | `masked_years` | compared points whose observed value is an interval (a masked 5, an estimate's range) |
//! | `log1p_rmse` | `√(mean (ln(1+sim) − ln(1+ô))²)` |
//! | `mean_abs_log_ratio` | `mean \|ln(sim/ô)\|` over points where both are positive |
//! | `mase` | `mean \|sim − ô\| / mean \|obs_t − obs_(t−1)\|` (empty if undefined, and for intervals) |
//! | `mae` | `mean \|sim − ô\|`, in persons (a share for `share` rows) |
//! | `bias` | `Σ (sim − obs)` (for intervals, `Σ (sim − ô)`) |
//! | `coverage_90` | share of compared points whose observed value meets the simulated 90% band (for intervals: the share matched) |
//! | `log_gap` | mean `ln(1+x)` distance from the band to the observed points it misses (empty if none) |
//!
//! `sim` is the median across replicates; an observed interval (a masked 5 is [lower, 5k]) has
//! `ô` its value nearest to `sim`, so errors are measured to its nearest end (zero inside it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::UnitFit;
use crate::observed::Measure;

/// The header of `fit.csv`.
pub const FIT_HEADER: &str = "series,place,sex,kind,targeted,measure,years,first_year,last_year,masked_years,log1p_rmse,mean_abs_log_ratio,mase,mae,bias,coverage_90,log_gap";

/// Number of compared points whose observation is an interval (a masked cell, an estimate's
/// range).
pub fn masked_years(f: &UnitFit) -> usize {
    f.pairs.iter().filter(|p| p.obs_lower < p.obs).count()
}

fn stat(out: &mut String, v: Option<f64>) {
    if let Some(v) = v {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        out.push_str(if s == "-0" { "0" } else { s });
    }
}

/// `true`, `false` or empty.
pub fn targeted(f: &UnitFit) -> &'static str {
    match f.targeted {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// Renders `fit.csv`; `measures` gives stock or flow by series name.
pub fn fit_csv(fits: &[UnitFit], measures: &BTreeMap<String, Measure>) -> Vec<u8> {
    let mut out = String::with_capacity(112 * (fits.len() + 1));
    out.push_str(FIT_HEADER);
    out.push('\n');
    for f in fits {
        let k = &f.key;
        let measure = measures.get(&k.series).map_or("", |m| m.name());
        let first = f.pairs.iter().map(|p| p.year).min().unwrap_or(0);
        let last = f.pairs.iter().map(|p| p.year).max().unwrap_or(0);
        let _ = write!(
            out,
            "{},{},{},{},{},{measure},{},{first},{last},{},",
            k.series,
            k.place,
            k.sex,
            f.kind.name(),
            targeted(f),
            f.pairs.len(),
            masked_years(f)
        );
        for (i, v) in [
            f.log1p_rmse,
            f.mean_abs_log_ratio,
            f.mase,
            f.mae,
            Some(f.bias),
            f.coverage,
            f.log_gap,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            stat(&mut out, v);
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::metrics::Pair;
    use crate::observed::SeriesKey;

    #[test]
    fn one_row_per_unit_with_empty_cells_for_undefined_metrics() {
        let pair = |year, sim: f64, obs: f64, lower: f64| Pair {
            year,
            sim,
            band: (sim, sim),
            obs,
            obs_lower: lower,
        };
        let key = SeriesKey {
            series: "s".into(),
            place: "P".into(),
            sex: "total".into(),
        };
        let fit = UnitFit::new(key, vec![pair(2001, 0.0, 5.0, 1.0)]);
        let measures = [("s".to_string(), Measure::Stock)].into();
        let text = String::from_utf8(fit_csv(&[fit], &measures)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(FIT_HEADER));
        // sim 0 against [1, 5]: log1p error ln 2, absolute error 1, and the band [0, 0] misses
        // the interval by ln 2; no positive pair; one point: no MASE; no calibration known.
        let rmse = format!("{:.6}", 2f64.ln());
        assert_eq!(
            lines.next().unwrap(),
            format!("s,P,total,series,,stock,1,2001,2001,1,{rmse},,,1,-5,0,{rmse}")
        );
    }
}
