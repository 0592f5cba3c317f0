//! A sweep's results as typed tables, keyed by plan row: what a shard stores, what a Parquet
//! merge writes, and what `results.csv` is rendered from.
//!
//! Each run contributes one row to `runs` and its rows to `fit`, `kept` and `series`:
//!
//! | table | one row per | columns |
//! |---|---|---|
//! | `runs` | run | `row`, `distance` (null where undefined), `seconds` (simulation and fit, measured) |
//! | `fit` | run × observed unit | `row`, `series`, `place`, `sex`, then the columns of `fit.csv` from `measure` to `coverage_90` |
//! | `kept` | run × `keep` value | `row`, `output` (the entry), `year` (entries kept per year, else null), `value` (null where undefined) |
//! | `series` | run × unit × year | `row`, `series`, `place`, `sex`, `year`, `value` (only with `outputs = "series"`) |
//!
//! A merge to Parquet joins the plan into `runs` ([`merged_runs`]: `point`, `replicate`, the
//! seed as text, one typed column per parameter); a merge to CSV renders the long
//! `results.csv` of earlier versions from the same tables ([`CsvRenderer`]), byte for byte,
//! without `seconds` and the fit metrics other than `log1p_rmse` (a CSV stays reproducible
//! bit for bit and as large as before).

use std::collections::BTreeMap;
use std::io::Write;

use super::plan::{Plan, PlanRow};
use crate::compare::UnitFit;
use crate::compare::table::masked_years;
use crate::observed::{Measure, SeriesKey};
use crate::output::fmt_value;
use crate::output::parquet::{Column, Table, TableError, Values};

/// The tables, in the order a shard stores them.
pub const NAMES: [&str; 4] = ["runs", "fit", "kept", "series"];

/// The results of a block of runs: one table per name of [`NAMES`], rows in plan-row order.
#[derive(Clone, Debug, PartialEq)]
pub struct Tables {
    /// `runs`, `fit`, `kept`, `series`.
    pub tables: [Table; 4],
}

/// What one run gave, before it becomes rows.
pub struct RunResult<'a> {
    /// Plan row.
    pub row: usize,
    /// Fit distance (`compare::distance`).
    pub distance: Option<f64>,
    /// Seconds spent simulating and fitting.
    pub seconds: f64,
    /// Fits per observed unit, in key order.
    pub fits: &'a [UnitFit],
    /// Stock or flow by series name (the `measure` column of `fit.csv`).
    pub measures: &'a BTreeMap<String, Measure>,
    /// Kept values: the entry's text, the year (entries kept per year) and the value.
    pub kept: Vec<(&'a str, Option<i32>, Option<f64>)>,
    /// Simulated values per unit and year (`outputs = "series"`), in key and year order.
    pub series: Vec<(&'a SeriesKey, i32, f64)>,
}

/// A finite value, or `None` (an empty CSV cell, a Parquet null).
fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

fn text(v: Vec<&str>) -> Values {
    Values::Text(v.into_iter().map(str::to_string).collect())
}

fn table(columns: Vec<(&str, Values)>) -> Table {
    Table {
        columns: columns
            .into_iter()
            .map(|(n, v)| Column::new(n, v))
            .collect(),
        metadata: Vec::new(),
    }
}

impl Tables {
    /// No runs.
    pub fn empty() -> Tables {
        Tables::of(&RunResult {
            row: 0,
            distance: None,
            seconds: 0.0,
            fits: &[],
            measures: &BTreeMap::new(),
            kept: Vec::new(),
            series: Vec::new(),
        })
        .without_rows()
    }

    /// The same tables without rows.
    fn without_rows(&self) -> Tables {
        Tables {
            tables: self.tables.clone().map(|t| t.empty_like()),
        }
    }

    /// The rows of one run.
    pub fn of(r: &RunResult<'_>) -> Tables {
        let row = r.row as i64;
        let runs = table(vec![
            ("row", Values::Int64(vec![row])),
            ("distance", Values::OptFloat64(vec![finite(r.distance)])),
            ("seconds", Values::Float64(vec![r.seconds])),
        ]);
        let f = r.fits;
        let key = |g: fn(&SeriesKey) -> &str| text(f.iter().map(|u| g(&u.key)).collect());
        let ints =
            |g: fn(&UnitFit) -> usize| Values::Int32(f.iter().map(|u| g(u) as i32).collect());
        let years = |g: fn(&UnitFit) -> i32| Values::Int32(f.iter().map(g).collect());
        let stat = |g: fn(&UnitFit) -> Option<f64>| {
            Values::OptFloat64(f.iter().map(|u| finite(g(u))).collect())
        };
        let fit = table(vec![
            ("row", Values::Int64(vec![row; f.len()])),
            ("series", key(|k| &k.series)),
            ("place", key(|k| &k.place)),
            ("sex", key(|k| &k.sex)),
            (
                "measure",
                text(
                    f.iter()
                        .map(|u| r.measures.get(&u.key.series).map_or("", |m| m.name()))
                        .collect(),
                ),
            ),
            ("years", ints(|u| u.pairs.len())),
            (
                "first_year",
                years(|u| u.pairs.first().map_or(0, |p| p.year)),
            ),
            ("last_year", years(|u| u.pairs.last().map_or(0, |p| p.year))),
            ("masked_years", ints(masked_years)),
            ("log1p_rmse", stat(|u| u.log1p_rmse)),
            ("mean_abs_log_ratio", stat(|u| u.mean_abs_log_ratio)),
            ("mase", stat(|u| u.mase)),
            ("bias", Values::Float64(f.iter().map(|u| u.bias).collect())),
            ("coverage_90", stat(|u| u.coverage)),
        ]);
        let k = &r.kept;
        let kept = table(vec![
            ("row", Values::Int64(vec![row; k.len()])),
            ("output", text(k.iter().map(|x| x.0).collect())),
            ("year", Values::OptInt32(k.iter().map(|x| x.1).collect())),
            (
                "value",
                Values::OptFloat64(k.iter().map(|x| finite(x.2)).collect()),
            ),
        ]);
        let s = &r.series;
        let series = table(vec![
            ("row", Values::Int64(vec![row; s.len()])),
            (
                "series",
                text(s.iter().map(|x| x.0.series.as_str()).collect()),
            ),
            (
                "place",
                text(s.iter().map(|x| x.0.place.as_str()).collect()),
            ),
            ("sex", text(s.iter().map(|x| x.0.sex.as_str()).collect())),
            ("year", Values::Int32(s.iter().map(|x| x.1).collect())),
            ("value", Values::Float64(s.iter().map(|x| x.2).collect())),
        ]);
        Tables {
            tables: [runs, fit, kept, series],
        }
    }

    /// Appends `other`'s rows (tables of the same schema).
    pub fn append(&mut self, other: Tables) -> Result<(), TableError> {
        for (mine, t) in self.tables.iter_mut().zip(other.tables) {
            mine.append(t)?;
        }
        Ok(())
    }

    /// The table called `name` (one of [`NAMES`]).
    pub fn get(&self, name: &str) -> &Table {
        let i = NAMES.iter().position(|n| *n == name).expect("a table name");
        &self.tables[i]
    }

    /// Checks the tables' schemas and that they hold exactly the runs of `rows`: `runs` one row
    /// per run in order, the others rows of those runs in non-decreasing order.
    pub fn check(&self, rows: std::ops::Range<usize>) -> Result<(), String> {
        let expected = Tables::empty();
        for ((name, mine), t) in NAMES.iter().zip(&self.tables).zip(&expected.tables) {
            t.check_schema(mine)
                .map_err(|e| format!("table {name}: {e}"))?;
        }
        let runs = row_column(&self.tables[0]);
        if !runs.iter().map(|&r| r as usize).eq(rows.clone()) {
            return Err(format!(
                "table runs holds rows {}, expected {}..{}",
                span(runs),
                rows.start,
                rows.end
            ));
        }
        for (name, t) in NAMES.iter().zip(&self.tables).skip(1) {
            let r = row_column(t);
            let inside = r.iter().all(|&x| rows.contains(&(x as usize)));
            if !inside || !r.is_sorted() {
                return Err(format!(
                    "table {name}: rows {} are not runs {}..{} in order",
                    span(r),
                    rows.start,
                    rows.end
                ));
            }
        }
        Ok(())
    }
}

fn span(rows: &[i64]) -> String {
    match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => format!("{a}..={b} ({} rows)", rows.len()),
        _ => "none".into(),
    }
}

/// The `row` column (INT64, first) of a table whose schema was checked.
fn row_column(t: &Table) -> &[i64] {
    match t.column("row") {
        Some(Values::Int64(v)) => v,
        _ => &[],
    }
}

fn floats<'a>(t: &'a Table, name: &str) -> &'a [Option<f64>] {
    match t.column(name) {
        Some(Values::OptFloat64(v)) => v,
        _ => &[],
    }
}

fn texts<'a>(t: &'a Table, name: &str) -> &'a [String] {
    match t.column(name) {
        Some(Values::Text(v)) => v,
        _ => &[],
    }
}

/// Which parameters are switches: every cell of the plan `true` or `false` (their columns are
/// BOOLEAN; the others DOUBLE).
pub fn switches(plan: &Plan) -> Vec<bool> {
    (0..plan.parameters.len())
        .map(|j| {
            let mut cells = plan.rows.iter().map(|r| r.cells[j].as_str());
            cells.all(|c| c == "true" || c == "false")
        })
        .collect()
}

/// The `runs` table of a merge to Parquet for the shard `tables` of `plan`'s rows: `row`,
/// `point`, `replicate`, `seed` (text: no reader turns a 63-bit seed into a double), one
/// column per parameter (BOOLEAN where `switches` says so, else DOUBLE), `distance`,
/// `seconds`.
pub fn merged_runs(plan: &Plan, switches: &[bool], tables: &Tables) -> Table {
    let shard = &tables.tables[0];
    let rows: Vec<&PlanRow> = row_column(shard)
        .iter()
        .map(|&r| &plan.rows[r as usize])
        .collect();
    let mut columns = vec![
        Column::new(
            "row",
            Values::Int64(rows.iter().map(|r| r.row as i64).collect()),
        ),
        Column::new(
            "point",
            Values::Int64(rows.iter().map(|r| r.point as i64).collect()),
        ),
        Column::new(
            "replicate",
            Values::Int32(rows.iter().map(|r| r.replicate as i32).collect()),
        ),
        Column::new(
            "seed",
            Values::Text(rows.iter().map(|r| r.seed.to_string()).collect()),
        ),
    ];
    for (j, p) in plan.parameters.iter().enumerate() {
        let cells = rows.iter().map(|r| r.cells[j].as_str());
        let values = if switches[j] {
            Values::Bool(cells.map(|c| c == "true").collect())
        } else {
            // Planning checked every cell: a number.
            Values::Float64(cells.map(|c| c.parse().unwrap_or(f64::NAN)).collect())
        };
        columns.push(Column::new(p, values));
    }
    for name in ["distance", "seconds"] {
        let c = shard.columns.iter().find(|c| c.name == name);
        columns.push(c.expect("a checked runs table").clone());
    }
    Table {
        columns,
        metadata: Vec::new(),
    }
}

/// Renders the long `results.csv` (`row,point,replicate,seed,<parameters…>,measure,series,
/// place,sex,year,value`) from shard tables, one run after another.
pub struct CsvRenderer<'a> {
    plan: &'a Plan,
}

impl<'a> CsvRenderer<'a> {
    /// A renderer of `plan`'s runs.
    pub fn new(plan: &'a Plan) -> CsvRenderer<'a> {
        CsvRenderer { plan }
    }

    /// The header line.
    pub fn header(&self) -> Vec<u8> {
        results_header(&self.plan.parameters)
    }

    /// Writes the lines of every run of `tables` to `out`: per run `distance`, its `kept`
    /// values, `log1p_rmse` per unit and its `simulated` values. Returns the lines written.
    pub fn render(&self, tables: &Tables, out: &mut impl Write) -> std::io::Result<usize> {
        let [runs, fit, kept, series] = &tables.tables;
        let mut w = csv::Writer::from_writer(out);
        let (fit_rows, kept_rows, series_rows) =
            (row_column(fit), row_column(kept), row_column(series));
        let (mut f, mut k, mut s) = (0, 0, 0);
        let distance = floats(runs, "distance");
        let (fs, fp, fx, rmse) = (
            texts(fit, "series"),
            texts(fit, "place"),
            texts(fit, "sex"),
            floats(fit, "log1p_rmse"),
        );
        let (ko, ky, kv) = (
            texts(kept, "output"),
            match kept.column("year") {
                Some(Values::OptInt32(v)) => v.as_slice(),
                _ => &[],
            },
            floats(kept, "value"),
        );
        let (ss, sp, sx) = (
            texts(series, "series"),
            texts(series, "place"),
            texts(series, "sex"),
        );
        let (sy, sv) = match (series.column("year"), series.column("value")) {
            (Some(Values::Int32(y)), Some(Values::Float64(v))) => (y.as_slice(), v.as_slice()),
            _ => (&[][..], &[][..]),
        };
        for (i, &row) in row_column(runs).iter().enumerate() {
            let prefix = self.plan.rows[row as usize].record();
            let mut line = |measure: &str,
                            key: [&str; 3],
                            year: Option<i32>,
                            value: Option<f64>|
             -> std::io::Result<()> {
                let year = year.map_or(String::new(), |y| y.to_string());
                let value = number(value);
                let mut rec: Vec<&str> = prefix.iter().map(String::as_str).collect();
                rec.extend([measure, key[0], key[1], key[2], &year, &value]);
                w.write_record(&rec).map_err(std::io::Error::other)
            };
            line("distance", ["", "", ""], None, distance[i])?;
            while k < kept_rows.len() && kept_rows[k] == row {
                line("kept", [&ko[k], "", ""], ky[k], kv[k])?;
                k += 1;
            }
            while f < fit_rows.len() && fit_rows[f] == row {
                line("log1p_rmse", [&fs[f], &fp[f], &fx[f]], None, rmse[f])?;
                f += 1;
            }
            while s < series_rows.len() && series_rows[s] == row {
                line(
                    "simulated",
                    [&ss[s], &sp[s], &sx[s]],
                    Some(sy[s]),
                    Some(sv[s]),
                )?;
                s += 1;
            }
        }
        w.flush()?;
        Ok(runs.rows() + fit.rows() + kept.rows() + series.rows())
    }
}

/// The columns of `results.csv`, as a CSV line.
pub fn results_header(parameters: &[String]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut cols: Vec<&str> = vec!["row", "point", "replicate", "seed"];
    cols.extend(parameters.iter().map(String::as_str));
    cols.extend(["measure", "series", "place", "sex", "year", "value"]);
    w.write_record(&cols).expect("writes to memory");
    w.into_inner().expect("writes to memory")
}

fn number(v: Option<f64>) -> String {
    let mut s = String::new();
    if let Some(v) = finite(v) {
        fmt_value(&mut s, v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::metrics::Pair;

    fn plan() -> Plan {
        let points = [
            vec!["0.5".to_string(), "true".to_string()],
            vec!["2e-6".to_string(), "false".to_string()],
        ];
        Plan {
            parameters: vec!["a.b".into(), "events.e.enabled".into()],
            rows: (0..2)
                .map(|i| PlanRow {
                    row: i,
                    point: i,
                    replicate: 0,
                    seed: 5568824538861319314 + i as u64,
                    cells: points[i].clone(),
                })
                .collect(),
        }
    }

    fn unit(series: &str, pairs: Vec<Pair>) -> UnitFit {
        let key = SeriesKey {
            series: series.into(),
            place: "P".into(),
            sex: "total".into(),
        };
        UnitFit::new(key, pairs)
    }

    fn pair(year: i32, sim: f64, obs: f64) -> Pair {
        Pair {
            year,
            sim,
            band: (sim, sim),
            obs,
            obs_lower: obs,
        }
    }

    /// Row 0: two units, a value kept per year, two simulated values; row 1: nothing defined.
    fn two_runs() -> Tables {
        let fits = [
            unit("s", vec![pair(2001, 3.0, 1.0), pair(2002, 0.0, 3.0)]),
            unit("t", vec![pair(2001, 1.0, 1.0)]),
        ];
        let measures = [("s".to_string(), Measure::Stock)].into();
        let key = &fits[0].key;
        let mut t = Tables::of(&RunResult {
            row: 0,
            distance: Some(0.25),
            seconds: 0.5,
            fits: &fits,
            measures: &measures,
            kept: vec![
                ("s:P:2001-2002", Some(2001), Some(3.0)),
                ("s:P:2001-2002", Some(2002), None),
            ],
            series: vec![(key, 2001, 3.0), (key, 2002, 0.0)],
        });
        t.append(Tables::of(&RunResult {
            row: 1,
            distance: Some(f64::NAN),
            seconds: 0.25,
            fits: &[],
            measures: &measures,
            kept: vec![],
            series: vec![],
        }))
        .unwrap();
        t
    }

    #[test]
    fn results_csv_is_rendered_line_by_line_as_before() {
        let plan = plan();
        let r = CsvRenderer::new(&plan);
        let mut out = r.header();
        let lines = r.render(&two_runs(), &mut out).unwrap();
        assert_eq!(lines, 8);
        // ln(1+3) − ln(1+1) = ln 2 and ln(1+0) − ln(1+3) = −ln 4: RMSE √((ln²2 + ln²4)/2).
        let rmse = ((2f64.ln().powi(2) + 4f64.ln().powi(2)) / 2.0).sqrt();
        let p = "5568824538861319314,0.5,true";
        let expected = format!(
            "row,point,replicate,seed,a.b,events.e.enabled,measure,series,place,sex,year,value\n\
             0,0,0,{p},distance,,,,,0.25\n\
             0,0,0,{p},kept,s:P:2001-2002,,,2001,3\n\
             0,0,0,{p},kept,s:P:2001-2002,,,2002,\n\
             0,0,0,{p},log1p_rmse,s,P,total,,{rmse}\n\
             0,0,0,{p},log1p_rmse,t,P,total,,0\n\
             0,0,0,{p},simulated,s,P,total,2001,3\n\
             0,0,0,{p},simulated,s,P,total,2002,0\n\
             1,1,0,5568824538861319315,2e-6,false,distance,,,,,\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn the_fit_table_holds_every_metric_of_fit_csv() {
        let t = two_runs();
        let fit = t.get("fit");
        assert_eq!(fit.rows(), 2);
        assert_eq!(
            fit.column("measure"),
            Some(&Values::Text(vec!["stock".into(), String::new()]))
        );
        assert_eq!(fit.column("years"), Some(&Values::Int32(vec![2, 1])));
        assert_eq!(
            fit.column("first_year"),
            Some(&Values::Int32(vec![2001, 2001]))
        );
        assert_eq!(
            fit.column("last_year"),
            Some(&Values::Int32(vec![2002, 2001]))
        );
        // Bias Σ (sim − obs): (3 − 1) + (0 − 3) = −1; |ln(sim/obs)| only where both > 0: ln 3.
        assert_eq!(fit.column("bias"), Some(&Values::Float64(vec![-1.0, 0.0])));
        assert_eq!(
            fit.column("mean_abs_log_ratio"),
            Some(&Values::OptFloat64(vec![Some(3f64.ln()), Some(0.0)]))
        );
        // A NaN distance is a null, as it is an empty cell in the CSV.
        assert_eq!(
            t.get("runs").column("distance"),
            Some(&Values::OptFloat64(vec![Some(0.25), None]))
        );
    }

    #[test]
    fn merged_runs_have_typed_parameters_and_text_seeds() {
        let plan = plan();
        let t = merged_runs(&plan, &switches(&plan), &two_runs());
        assert_eq!(
            t.column("seed"),
            Some(&Values::Text(vec![
                "5568824538861319314".into(),
                "5568824538861319315".into()
            ]))
        );
        assert_eq!(t.column("a.b"), Some(&Values::Float64(vec![0.5, 2e-6])));
        assert_eq!(
            t.column("events.e.enabled"),
            Some(&Values::Bool(vec![true, false]))
        );
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "row",
                "point",
                "replicate",
                "seed",
                "a.b",
                "events.e.enabled",
                "distance",
                "seconds"
            ]
        );
    }

    #[test]
    fn tables_that_are_not_exactly_the_shard_s_runs_are_refused() {
        let t = two_runs();
        assert_eq!(t.check(0..2), Ok(()));
        assert!(
            t.check(0..3)
                .unwrap_err()
                .contains("table runs holds rows 0..=1")
        );
        assert!(t.check(1..3).is_err());
        // Fit rows of a run outside the block, or out of order.
        let mut late = two_runs();
        let Values::Int64(rows) = &mut late.tables[1].columns[0].values else {
            panic!()
        };
        rows[0] = 1;
        assert!(
            late.check(0..2)
                .unwrap_err()
                .contains("table fit: rows 1..=0")
        );
        // A table of another schema.
        let mut other = two_runs();
        other.tables[2].columns.pop();
        assert!(other.check(0..2).unwrap_err().starts_with("table kept:"));
    }
}
