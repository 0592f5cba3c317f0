//! Running rows of a plan: each point instantiates the sweep's scenario with its parameter
//! values (once for all its replicates: the model does not depend on the seed), each row runs
//! replicate 0 of it with the row's seed and is fitted to the observed data. Points and rows run
//! in parallel on the current rayon pool and come back in row order, so a shard's bytes do not
//! depend on the thread count.
//!
//! Per run: the fit `distance` (mean log1p-RMSE over observed units of sex `total`,
//! `compare::distance`), the run's time, every metric of `fit.csv` per unit, the `keep` values
//! ([`super::keep`]) and, with `outputs = "series"`, the simulated values per unit and year: the
//! rows of [`super::tables`]. A unit is a simulated (series, place, sex) with an observed twin.

use std::collections::BTreeSet;
use std::ops::{Range, RangeInclusive};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use super::design::Outputs;
use super::folder::{ShardHeader, SweepDir, shard_body, shard_file};
use super::keep::{self, Keep, Keeper};
use super::tables::{RunResult, Tables};
use super::{PlanRow, SweepError};
use crate::compare;
use crate::engine::Simulation;
use crate::observe::{Plan as ObservePlan, Recorder};
use crate::observed::{self, Observed, SeriesKey};
use crate::output::write_atomic;
use crate::scenario::Template;

/// Time spent per phase, summed over runs (thread-seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// Applying overrides and validating the scenario (once per point).
    pub scenario: f64,
    /// Simulating.
    pub simulate: f64,
    /// Fitting to the observed data and rendering result rows.
    pub results: f64,
}

impl std::ops::Add for Timing {
    type Output = Timing;
    fn add(self, o: Timing) -> Timing {
        Timing {
            scenario: self.scenario + o.scenario,
            simulate: self.simulate + o.simulate,
            results: self.results + o.results,
        }
    }
}

/// What running a shard did.
#[derive(Clone, Debug, PartialEq)]
pub enum ShardOutcome {
    /// The shard was already complete; nothing ran.
    Skipped,
    /// The shard ran and was written.
    Ran {
        /// Runs.
        runs: usize,
        /// Wall-clock seconds.
        seconds: f64,
        /// Phase times.
        timing: Timing,
        /// The shard file.
        path: PathBuf,
    },
}

/// Everything needed to run rows of a sweep.
pub struct Runner<'a> {
    sweep: &'a SweepDir,
    template: Template,
    observed: Observed,
    observed_series: BTreeSet<String>,
    years: Option<RangeInclusive<i32>>,
    outputs: Outputs,
    keep: Vec<Keep>,
}

impl<'a> Runner<'a> {
    /// Reads the sweep's resolved scenario and observed data.
    pub fn new(sweep: &'a SweepDir) -> Result<Runner<'a>, SweepError> {
        let template =
            Template::read(&sweep.dir.join("scenario.toml")).map_err(SweepError::Scenario)?;
        let observed = observed::load(&sweep.dir.join("observed")).map_err(SweepError::Observed)?;
        let observed_series = observed.series.keys().map(|k| k.series.clone()).collect();
        let keep = sweep
            .manifest
            .keep
            .iter()
            .map(|k| {
                keep::parse(k).map_err(|e| SweepError::Dir {
                    path: sweep.dir.join("manifest.toml").display().to_string(),
                    message: format!("keep: `{k}`: {e}"),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Runner {
            sweep,
            template,
            observed,
            observed_series,
            years: sweep.manifest.years.map(|[a, b]| a..=b),
            outputs: sweep.manifest.outputs(),
            keep,
        })
    }

    /// Runs `rows` in parallel and returns their results in row order. `on_run` is called
    /// after each run (from worker threads).
    pub fn run_rows(
        &self,
        rows: Range<usize>,
        on_run: &(dyn Fn() + Sync),
    ) -> Result<(Tables, Timing), SweepError> {
        // The replicates of a point share its scenario (the model does not depend on the seed).
        let points: Vec<&[PlanRow]> = self.sweep.plan.rows[rows]
            .chunk_by(|a, b| a.point == b.point)
            .collect();
        let done: Vec<(Tables, Timing)> = points
            .par_iter()
            .with_max_len(1)
            .map(|rows| self.run_point(rows, on_run))
            .collect::<Result<_, _>>()?;
        let mut tables = Tables::empty();
        let mut timing = Timing::default();
        for (t, time) in done {
            tables.append(t).map_err(|e| self.table_error(e))?;
            timing = timing + time;
        }
        Ok((tables, timing))
    }

    /// Tables of one schema always append and encode: a failure is a bug, reported as a failed
    /// run rather than a panic.
    fn table_error(&self, e: crate::output::parquet::TableError) -> SweepError {
        SweepError::io(
            &self.sweep.dir,
            std::io::Error::other(format!("result tables: {e}")),
        )
    }

    /// Runs shard `i` and writes its file atomically, unless it is already complete and
    /// `force` is false.
    pub fn run_shard(
        &self,
        i: usize,
        force: bool,
        on_run: &(dyn Fn() + Sync),
    ) -> Result<ShardOutcome, SweepError> {
        self.sweep.check_shard(i)?;
        if !force && self.sweep.read_shard(i).is_ok() {
            return Ok(ShardOutcome::Skipped);
        }
        let rows = self.sweep.shard_rows(i);
        let start = Instant::now();
        let (tables, timing) = self.run_rows(rows.clone(), on_run)?;
        let seconds = start.elapsed().as_secs_f64();
        let (body, sizes) = shard_body(&tables).map_err(|e| self.table_error(e))?;
        let header = ShardHeader {
            shard: i,
            shards: self.sweep.shards(),
            first_row: rows.start,
            runs: rows.len(),
            plan: self.sweep.manifest.plan_hash.clone(),
            body: blake3::hash(&body).to_hex().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            tables: sizes,
        };
        let file = shard_file(&header, &body);
        let path = self.sweep.shard_path(i);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SweepError::io(parent, e))?;
        }
        write_atomic(&path, &file).map_err(|e| SweepError::io(&path, e))?;
        Ok(ShardOutcome::Ran {
            runs: rows.len(),
            seconds,
            timing,
            path,
        })
    }

    /// The runs of one point (consecutive rows): their results and phase times.
    fn run_point(
        &self,
        rows: &[PlanRow],
        on_run: &(dyn Fn() + Sync),
    ) -> Result<(Tables, Timing), SweepError> {
        let t0 = Instant::now();
        let overrides = rows[0]
            .overrides(&self.sweep.plan.parameters)
            .map_err(SweepError::Scenario)?;
        let scenario = self
            .template
            .instantiate(&overrides)
            .map_err(SweepError::Scenario)?;
        let plan = Arc::new(ObservePlan::new(scenario.observation.clone()));
        let years = (scenario.run.start_year, scenario.run.end_year);
        let keeper = Keeper::new(&self.keep, &plan, years).map_err(|u| SweepError::Dir {
            path: self.sweep.dir.join("manifest.toml").display().to_string(),
            message: format!("keep.{}: {}", u.entry, u.message),
        })?;
        let measures = compare::declared_measures(&scenario.observation);
        let sim = Simulation::new(&scenario.model);
        // Only series with an observed twin are fitted or kept.
        let keep: Vec<bool> = plan
            .layout
            .series
            .iter()
            .map(|s| self.observed_series.contains(s))
            .collect();
        let prepared = t0.elapsed().as_secs_f64();
        let runs: Vec<(Tables, Timing)> = rows
            .par_iter()
            .with_max_len(1)
            .map(|r| {
                let t1 = Instant::now();
                let mut recorder = Recorder::new(plan.clone());
                sim.run(r.seed, 0, &mut recorder)
                    .map_err(|source| SweepError::Engine {
                        row: r.row,
                        point: r.point,
                        replicate: r.replicate,
                        seed: r.seed,
                        source,
                    })?;
                let t2 = Instant::now();
                let all_rows = if keeper.is_empty() {
                    Vec::new()
                } else {
                    recorder.rows.clone()
                };
                recorder.rows.retain(|row| keep[usize::from(row.series)]);
                let table = compare::from_replicate(&plan.layout, &recorder.rows);
                let fits = compare::fit(&table, &self.observed, self.years.as_ref());
                let kept = keeper.values(&all_rows, &fits);
                let kept = kept
                    .iter()
                    .map(|k| (self.keep[k.entry].text.as_str(), k.year, k.value))
                    .collect();
                let series = self.series(&table);
                let seconds = t1.elapsed().as_secs_f64();
                let tables = Tables::of(&RunResult {
                    row: r.row,
                    distance: compare::distance(&fits),
                    seconds,
                    fits: &fits,
                    measures: &measures,
                    kept,
                    series,
                });
                let t3 = Instant::now();
                on_run();
                Ok((
                    tables,
                    Timing {
                        scenario: 0.0,
                        simulate: (t2 - t1).as_secs_f64(),
                        results: (t3 - t2).as_secs_f64(),
                    },
                ))
            })
            .collect::<Result<_, SweepError>>()?;
        let mut tables = Tables::empty();
        let mut timing = Timing {
            scenario: prepared,
            ..Timing::default()
        };
        for (t, time) in runs {
            tables.append(t).map_err(|e| self.table_error(e))?;
            timing = timing + time;
        }
        Ok((tables, timing))
    }

    /// The simulated values kept with `outputs = "series"`: every unit with an observed twin,
    /// per year.
    fn series<'t>(&self, table: &'t compare::SimTable) -> Vec<(&'t SeriesKey, i32, f64)> {
        if self.outputs != Outputs::Series {
            return Vec::new();
        }
        table
            .iter()
            .filter(|(k, _)| self.observed.series.contains_key(k))
            .flat_map(|(key, years)| years.iter().map(move |(&y, band)| (key, y, band.p50)))
            .collect()
    }
}
