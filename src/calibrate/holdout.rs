//! Out-of-sample scores: the posterior-predictive forecast of the held-out years against two
//! naive forecasts made from the fitted years only.
//!
//! For every target, over the held-out years it has observations for:
//!
//! * **model**: the median across posterior-predictive draws, with its 50% (p25–p75) and 90%
//!   (p05–p95) bands;
//! * **persistence**: the last fitted observed value, repeated;
//! * **drift**: the line through the first and last fitted observed values, extended (and
//!   held at zero if it falls below);
//!
//! scored by the RMSE of `ln(1 + x)` (zero inside a masked observation's interval, as in
//! `compare`) and by the MASE (Hyndman and Koehler 2006): the mean absolute error divided by the
//! mean absolute change between consecutive fitted observations (the in-sample one-step naive
//! error). `skill = 1 − RMSE_model / RMSE_persistence` (above 0: better than persistence). The
//! coverage is the share of held-out observations whose interval meets the band.

use std::fmt::Write as _;

use super::problem::Target;
use crate::compare::metrics::{Pair, Transform};
use crate::observed::Point;
use crate::output::{fmt_value, quantile};

/// One held-out year of one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// Year.
    pub year: i32,
    /// Observed (as published; masked cells as an interval).
    pub observed: Point,
    /// The predictive draws' 5th, 25th, 50th, 75th and 95th percentiles.
    pub model: [f64; 5],
    /// The persistence forecast.
    pub persistence: f64,
    /// The drift forecast.
    pub drift: f64,
}

/// The scores of one target over its held-out years.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Series.
    pub series: String,
    /// Place.
    pub place: String,
    /// Sex.
    pub sex: String,
    /// The year-by-year forecasts.
    pub forecasts: Vec<Forecast>,
    /// log1p RMSE of the model, persistence and drift.
    pub rmse: [f64; 3],
    /// MASE of the model, persistence and drift (`None` without a usable in-sample scale).
    pub mase: [Option<f64>; 3],
    /// Coverage of the 50% and 90% predictive bands.
    pub coverage: [f64; 2],
}

impl Score {
    /// `1 − RMSE_model / RMSE_persistence` (`None` when persistence is exact).
    pub fn skill_vs_persistence(&self) -> Option<f64> {
        skill(self.rmse[0], self.rmse[1])
    }

    /// `1 − RMSE_model / RMSE_drift`.
    pub fn skill_vs_drift(&self) -> Option<f64> {
        skill(self.rmse[0], self.rmse[2])
    }
}

fn skill(model: f64, naive: f64) -> Option<f64> {
    (naive > 0.0).then(|| 1.0 - model / naive)
}

/// The naive forecasts of year `year` from the fitted observations `fitted` (in year order):
/// persistence and drift.
pub fn naive(fitted: &[(i32, Point)], year: i32) -> (f64, f64) {
    let (last_year, last) = fitted[fitted.len() - 1];
    let (first_year, first) = fitted[0];
    let persistence = last.value;
    let drift = if last_year > first_year {
        let slope = (last.value - first.value) / f64::from(last_year - first_year);
        (last.value + slope * f64::from(year - last_year)).max(0.0)
    } else {
        persistence
    };
    (persistence, drift)
}

/// Mean absolute change between consecutive fitted observations; `None` with fewer than two
/// or a constant series.
pub fn in_sample_scale(fitted: &[(i32, Point)]) -> Option<f64> {
    if fitted.len() < 2 {
        return None;
    }
    let s = fitted
        .windows(2)
        .map(|w| (w[1].1.value - w[0].1.value).abs())
        .sum::<f64>()
        / (fitted.len() - 1) as f64;
    (s > 0.0).then_some(s)
}

fn pair(year: i32, forecast: f64, o: Point, band: (f64, f64)) -> Pair {
    Pair {
        year,
        sim: forecast,
        band,
        obs: o.value,
        obs_lower: o.lower().max(0.0),
    }
}

fn rmse(pairs: &[Pair]) -> f64 {
    crate::compare::metrics::rmse(pairs, Transform::Log1p).unwrap_or(f64::NAN)
}

fn mase(pairs: &[Pair], scale: Option<f64>) -> Option<f64> {
    let scale = scale?;
    let mae = pairs
        .iter()
        .map(|p| (p.sim - p.sim.clamp(p.obs_lower, p.obs)).abs())
        .sum::<f64>()
        / pairs.len() as f64;
    Some(mae / scale)
}

/// Scores `target` given `draws[d]` = the simulated values of draw `d` by year (the years of
/// `target.held_out`, in order). `None` when the target has no held-out observation.
pub fn score(target: &Target, draws: &[Vec<f64>]) -> Option<Score> {
    if target.held_out.is_empty() || draws.is_empty() {
        return None;
    }
    let scale = in_sample_scale(&target.points);
    let forecasts: Vec<Forecast> = target
        .held_out
        .iter()
        .enumerate()
        .map(|(i, &(year, observed))| {
            let mut v: Vec<f64> = draws.iter().map(|d| d[i]).collect();
            v.sort_by(f64::total_cmp);
            let model = [0.05, 0.25, 0.5, 0.75, 0.95].map(|q| quantile(&v, q));
            let (persistence, drift) = naive(&target.points, year);
            Forecast {
                year,
                observed,
                model,
                persistence,
                drift,
            }
        })
        .collect();
    let pairs_of = |value: &dyn Fn(&Forecast) -> f64, band: &dyn Fn(&Forecast) -> (f64, f64)| {
        forecasts
            .iter()
            .map(|f| pair(f.year, value(f), f.observed, band(f)))
            .collect::<Vec<Pair>>()
    };
    let model = pairs_of(&|f| f.model[2], &|f| (f.model[0], f.model[4]));
    let persistence = pairs_of(&|f| f.persistence, &|f| (f.persistence, f.persistence));
    let drift = pairs_of(&|f| f.drift, &|f| (f.drift, f.drift));
    let band50 = pairs_of(&|f| f.model[2], &|f| (f.model[1], f.model[3]));
    let covered = |pairs: &[Pair]| crate::compare::metrics::coverage(pairs).unwrap_or(f64::NAN);
    Some(Score {
        series: target.spec.series.clone(),
        place: target.spec.place.clone(),
        sex: target.spec.sex.clone(),
        rmse: [rmse(&model), rmse(&persistence), rmse(&drift)],
        mase: [
            mase(&model, scale),
            mase(&persistence, scale),
            mase(&drift, scale),
        ],
        coverage: [covered(&band50), covered(&model)],
        forecasts,
    })
}

fn push_opt(out: &mut String, v: Option<f64>) {
    out.push(',');
    if let Some(v) = v.filter(|v| v.is_finite()) {
        fmt_value(out, v);
    }
}

/// `holdout.csv`: one row per target with held-out observations.
pub fn holdout_csv(scores: &[Score]) -> Vec<u8> {
    let mut out = String::from(
        "series,place,sex,first,last,n,log1p_rmse_model,log1p_rmse_persistence,log1p_rmse_drift,mase_model,mase_persistence,mase_drift,skill_vs_persistence,skill_vs_drift,cover50,cover90\n",
    );
    for s in scores {
        let first = s.forecasts.first().map_or(0, |f| f.year);
        let last = s.forecasts.last().map_or(0, |f| f.year);
        let _ = write!(
            out,
            "{},{},{},{first},{last},{}",
            s.series,
            s.place,
            s.sex,
            s.forecasts.len()
        );
        for v in s.rmse {
            push_opt(&mut out, Some(v));
        }
        for v in s.mase {
            push_opt(&mut out, v);
        }
        push_opt(&mut out, s.skill_vs_persistence());
        push_opt(&mut out, s.skill_vs_drift());
        for v in s.coverage {
            push_opt(&mut out, Some(v));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `holdout_forecasts.csv`: every held-out year of every target.
pub fn forecasts_csv(scores: &[Score]) -> Vec<u8> {
    let mut out = String::from(
        "series,place,sex,year,observed,observed_lower,p05,p25,p50,p75,p95,persistence,drift\n",
    );
    for s in scores {
        for f in &s.forecasts {
            let _ = write!(out, "{},{},{},{}", s.series, s.place, s.sex, f.year);
            for v in [f.observed.value, f.observed.lower().max(0.0)]
                .into_iter()
                .chain(f.model)
                .chain([f.persistence, f.drift])
            {
                out.push(',');
                fmt_value(&mut out, v);
            }
            out.push('\n');
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: f64) -> Point {
        Point {
            value: v,
            masked_cells: 0,
        }
    }

    #[test]
    fn naive_forecasts_by_hand() {
        let fitted = [(2000, p(10.0)), (2002, p(30.0)), (2005, p(40.0))];
        // persistence: 40; drift: slope (40 − 10)/5 = 6 a year.
        assert_eq!(naive(&fitted, 2007), (40.0, 52.0));
        // A falling line is held at zero.
        let falling = [(2000, p(100.0)), (2004, p(20.0))];
        assert_eq!(naive(&falling, 2006), (20.0, 0.0));
        // scale: (|30 − 10| + |40 − 30|)/2 = 15.
        assert_eq!(in_sample_scale(&fitted), Some(15.0));
        assert_eq!(in_sample_scale(&fitted[..1]), None);
    }
}
