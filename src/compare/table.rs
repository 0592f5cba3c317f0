//! `fit.csv`: one row per simulated series × place × sex that has an observed twin, in key
//! order, rendered to bytes (the caller writes it atomically).
//!
//! | column | meaning |
//! |---|---|
//! | `series`, `place`, `sex` | the unit compared |
//! | `measure` | `stock` (31 December) or `flow` (per year); empty if the run does not say |
//! | `years` | number of years compared (both sides have a value) |
//! | `first_year`, `last_year` | first and last year compared |
//! | `masked_years` | compared years whose observed value includes a masked 5 ("1 to 5") |
//! | `log1p_rmse` | `√(mean (ln(1+sim) − ln(1+obs))²)` |
//! | `mean_abs_log_ratio` | `mean \|ln(sim/obs)\|` over years where both are positive |
//! | `mase` | `mean \|sim − obs\| / mean \|obs_t − obs_(t−1)\|` (empty if undefined) |
//! | `bias` | `Σ (sim − obs)` |
//! | `coverage_90` | share of compared years whose observed value meets the simulated 90% band |
//!
//! `sim` is the median across replicates; a masked observation is the interval [lower, 5k] and
//! errors are measured to its nearest end (zero inside it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::UnitFit;
use crate::observed::Measure;

/// The header of `fit.csv`.
pub const FIT_HEADER: &str = "series,place,sex,measure,years,first_year,last_year,masked_years,log1p_rmse,mean_abs_log_ratio,mase,bias,coverage_90";

/// Number of compared years whose observation is an interval (a masked cell).
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

/// Renders `fit.csv`; `measures` gives stock or flow by series name.
pub fn fit_csv(fits: &[UnitFit], measures: &BTreeMap<String, Measure>) -> Vec<u8> {
    let mut out = String::with_capacity(96 * (fits.len() + 1));
    out.push_str(FIT_HEADER);
    out.push('\n');
    for f in fits {
        let k = &f.key;
        let measure = measures.get(&k.series).map_or("", |m| m.name());
        let first = f.pairs.first().map_or(0, |p| p.year);
        let last = f.pairs.last().map_or(0, |p| p.year);
        let _ = write!(
            out,
            "{},{},{},{measure},{},{first},{last},{},",
            k.series,
            k.place,
            k.sex,
            f.pairs.len(),
            masked_years(f)
        );
        for (i, v) in [
            f.log1p_rmse,
            f.mean_abs_log_ratio,
            f.mase,
            Some(f.bias),
            f.coverage,
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
        // sim 0 against [1, 5]: log1p error ln 2; no positive pair; one point: no MASE.
        let rmse = format!("{:.6}", 2f64.ln());
        assert_eq!(
            lines.next().unwrap(),
            format!("s,P,total,stock,1,2001,2001,1,{rmse},,,-5,0")
        );
    }
}
