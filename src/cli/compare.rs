//! `diaspora compare`: a finished run against the observed record; writes `RUN_DIR/fit.csv`
//! and prints the fit table, the untargeted checks and the calibration distance, on every year
//! or on `--years`. Also the pieces `plot` shares: the run directory (locked, and checked
//! against its manifest's hashes), its origin, and the observed sources.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use diaspora::calibrate::Config;
use diaspora::compare::checks::{self, Places};
use diaspora::compare::targets::Targets;
use diaspora::compare::{self, Kind, UnitFit, table};
use diaspora::observed::{self, Dropped, Measure, Observed};
use diaspora::output::{self, Lock, RunInfo, folder};
use diaspora::scenario::Scenario;

use super::CliError;

/// Where the observed record comes from; shared by `compare` and `plot`.
#[derive(Args, Debug, Clone)]
pub struct ObservedArgs {
    /// Observed data: a folder in the project's layout, or a CSV file in UNHCR's layout
    /// (population, asylum_applications or asylum_decisions). Repeat to combine; a later
    /// source's series replaces an earlier one's. [default: the sources the scenario names
    /// (`observed`), else data/observed]
    #[arg(long, value_name = "PATH")]
    pub observed: Vec<PathBuf>,
    /// Country of origin to keep (ISO3) [default: the run's origin place, e.g. PRK]; another
    /// than the origin place's iso3 is refused
    #[arg(long, value_name = "ISO3")]
    pub origin: Option<String>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Output folder of `diaspora run` (holds summary.csv and scenario.toml).
    run_dir: PathBuf,
    #[command(flatten)]
    observed: ObservedArgs,
    /// Score these years only (inclusive), e.g. 2016:2019: fit.csv, the tables and the
    /// distance.
    #[arg(long, value_name = "FIRST:LAST")]
    years: Option<String>,
    /// The calibration whose targets mark rows `targeted = true`: its calibration file (TOML
    /// with [[target]]) or its output folder (calibration.toml). [default: the calibration
    /// folder holding RUN_DIR when RUN_DIR is its predictive/; else none: `targeted` is empty]
    #[arg(long, value_name = "CALIBRATION")]
    targets: Option<PathBuf>,
}

/// A run directory's scenario and manifest, locked while it is open.
pub struct RunDir {
    pub dir: PathBuf,
    pub scenario: Scenario,
    pub info: RunInfo,
    _lock: Lock,
}

impl RunDir {
    /// Opens a run directory written by `diaspora run`: locks it (for writing `fit.csv` or
    /// figures into it when `write`, else for reading, so a run cannot replace it meanwhile)
    /// and refuses it unless every file its manifest lists still has the hash recorded there.
    pub fn open(dir: &Path, write: bool) -> Result<RunDir, CliError> {
        if !dir.is_dir() {
            return Err(CliError::Input(format!(
                "{}: no such run directory (expected the output folder of `diaspora run`)",
                dir.display()
            )));
        }
        let lock = if write {
            Lock::exclusive(dir)?
        } else {
            Lock::shared(dir)?
        };
        if write {
            folder::remove_temporaries(dir);
        }
        folder::verify(dir, "manifest.toml")?;
        let scenario = Scenario::load(&dir.join("scenario.toml"), &[])?;
        let info = output::read_manifest(&dir.join("manifest.toml")).map_err(input)?;
        Ok(RunDir {
            dir: dir.to_path_buf(),
            scenario,
            info,
            _lock: lock,
        })
    }

    /// The origin to keep: the ISO3 code (or id) of the scenario's origin place, or `--origin`
    /// (refused if the place has another ISO3 code).
    pub fn origin(&self, args: &ObservedArgs) -> Result<String, CliError> {
        let id = &self.scenario.raw.exit.origin;
        let iso3 = self
            .scenario
            .raw
            .places
            .get(id)
            .and_then(|p| p.iso3.as_deref());
        compare::origin(iso3, id, args.origin.as_deref()).map_err(input)
    }

    /// Reads the observed sources for this run's origin, refusing series measured differently
    /// (a stock against a flow) with a warning on stderr.
    pub fn observed(&self, args: &ObservedArgs) -> Result<(Observed, String), CliError> {
        let origin = self.origin(args)?;
        let mut obs = observed::load_sources(&self.sources(args), &origin).map_err(input)?;
        for m in compare::refuse_mismatched(&mut obs, &self.measures()) {
            eprintln!(
                "warning: {} is a {} in the run but a {} in the observed data: not compared",
                m.series,
                m.simulated.name(),
                m.observed.name()
            );
        }
        Ok((obs, origin))
    }

    /// The observed sources: `--observed`, else those the run's scenario names, else the
    /// project's `data/observed`.
    pub fn sources(&self, args: &ObservedArgs) -> Vec<PathBuf> {
        if !args.observed.is_empty() {
            return args.observed.clone();
        }
        if !self.info.observed.is_empty() {
            return self.info.observed.iter().map(PathBuf::from).collect();
        }
        vec![PathBuf::from("data/observed")]
    }

    /// Stock or flow of the run's declared series.
    pub fn measures(&self) -> BTreeMap<String, Measure> {
        compare::declared_measures(&self.scenario.observation)
    }

    /// "baseline, seed 20240601, 20 replicates"
    pub fn label(&self) -> String {
        format!(
            "{}, seed {}, {} replicate(s)",
            self.info.scenario, self.info.seed, self.info.replicates
        )
    }
}

/// A problem with a file the user named: exit 2.
pub fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(e.to_string())
}

/// `a, b and c`
pub fn sources(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "quirks: 12 values read as not reported (data/observed/quirks.toml)"
pub fn quirks_line(d: &Dropped) -> String {
    format!(
        "quirks: {} values read as not reported ({})",
        d.values,
        d.file.display()
    )
}

/// The targets of the calibration named by `--targets`, or of the calibration folder holding
/// `run_dir` as its `predictive/`; `None` when there is none. With them, the file they came
/// from.
fn targets(named: Option<&Path>, run_dir: &Path) -> Result<Option<(Targets, PathBuf)>, CliError> {
    let manifest = |dir: &Path| dir.join(diaspora::calibrate::output::MANIFEST);
    let path = match named {
        Some(p) if p.is_dir() => manifest(p),
        Some(p) => p.to_path_buf(),
        None => match run_dir.parent() {
            Some(parent)
                if run_dir.file_name().is_some_and(|n| n == "predictive")
                    && manifest(parent).is_file() =>
            {
                manifest(parent)
            }
            _ => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let written_by_calibrate = toml::from_str::<toml::Table>(&text)
        .is_ok_and(|t| t.contains_key("targets") && !t.contains_key("target"));
    let targets = if written_by_calibrate {
        Targets::from_manifest(&text).map_err(|e| input(format!("{}: {e}", path.display())))?
    } else {
        let config = Config::read(&path)?;
        Targets {
            units: config
                .targets
                .iter()
                .map(|t| {
                    let key = observed::SeriesKey {
                        series: t.series.clone(),
                        place: t.place.clone(),
                        sex: t.sex.clone(),
                    };
                    (key, fitted_years(t.years.clone(), config.holdout.as_ref()))
                })
                .collect(),
        }
    };
    Ok(Some((targets, path)))
}

/// The years a target fits: its own, before the holdout.
fn fitted_years(
    years: Option<RangeInclusive<i32>>,
    holdout: Option<&RangeInclusive<i32>>,
) -> Option<RangeInclusive<i32>> {
    match (years, holdout) {
        (Some(r), Some(h)) => Some(*r.start()..=(*r.end()).min(h.start() - 1)),
        (None, Some(h)) => Some(i32::MIN..=h.start() - 1),
        (r, None) => r,
    }
}

fn years_error(text: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Input(format!("--years {text}: {e}"))
}

pub fn compare(args: CompareArgs) -> Result<(), CliError> {
    let years: Option<RangeInclusive<i32>> = match &args.years {
        Some(text) => Some(compare::parse_years(text).map_err(|e| years_error(text, e))?),
        None => None,
    };
    let run = RunDir::open(&args.run_dir, true)?;
    let targets = targets(args.targets.as_deref(), &run.dir)?;
    let (layout, summary) = output::read_run_summary(&run.dir).map_err(input)?;
    let (obs, origin) = run.observed(&args.observed)?;
    let sim = compare::from_summary(&layout, &summary);
    if compare::fit(&sim, &obs, None).is_empty() {
        return Err(CliError::Input(format!(
            "nothing to compare: no series of {} has an observed twin (same series, place, sex \
             and year) in {} for origin {origin}",
            run.dir.display(),
            sources(&run.sources(&args.observed))
        )));
    }
    let mut fits = compare::score(&sim, &obs, years.clone())
        .map_err(|e| years_error(args.years.as_deref().unwrap_or(""), e))?;
    let (series_layout, series) = output::read_run_series(&run.dir).map_err(input)?;
    let reps = compare::from_series(&series_layout, &series);
    let places = Places::of(&run.scenario);
    let mut untargeted = checks::all(&reps, &obs, &places, years.as_ref());
    if let Some((t, _)) = &targets {
        t.mark(&mut fits);
        t.mark(&mut untargeted);
    }
    let mut measures = run.measures();
    measures.extend(checks::measures(&untargeted));
    let mut rows = fits.clone();
    rows.extend(untargeted.iter().cloned());
    let path = run.dir.join("fit.csv");
    output::write_atomic(&path, &table::fit_csv(&rows, &measures))
        .with_context(|| format!("cannot write {}", path.display()))?;

    let span = years.as_ref().map_or_else(String::new, |r| {
        format!(", years {}–{}", r.start(), r.end())
    });
    say!(
        "{} ({}) against {} (origin {origin}{span}):",
        run.dir.display(),
        run.label(),
        sources(&run.sources(&args.observed))
    );
    print_table(&fits, &measures);
    print_checks(&untargeted, &reps, &obs, &places, years.as_ref());
    for d in &obs.dropped {
        say!("{}", quirks_line(d));
    }
    match &targets {
        Some((t, file)) => say!(
            "targeted: {} of {} rows use data the calibration fitted ({} targets in {})",
            rows.iter().filter(|f| f.targeted == Some(true)).count(),
            rows.len(),
            t.units.len(),
            file.display()
        ),
        None => say!(
            "targeted: unknown (no calibration named; --targets CALIBRATION marks the rows it fitted)"
        ),
    }
    say!("wrote {}", path.display());
    say!("{}", coverage_line(&fits));
    let units = fits.iter().filter(|f| f.key.sex == "total").count();
    match compare::distance(&fits) {
        Some(d) => say!(
            "distance: {d:.4} (mean log1p RMSE over {units} series × place units of sex total, equal weights{span})"
        ),
        None => say!("distance: undefined (no series of sex total compared)"),
    }
    Ok(())
}

/// The 90% bands' coverage of observed unit-years, pooled over every series unit, and apart
/// for the rows a calibration fitted and those it did not when that is known.
fn coverage_line(fits: &[compare::UnitFit]) -> String {
    let part =
        |(c, n): (usize, usize)| format!("{c} of {n} ({:.1}%)", 100.0 * c as f64 / n.max(1) as f64);
    let mut line = format!(
        "90% bands cover {} observed unit-years",
        part(compare::pooled_coverage(fits, |_| true))
    );
    if fits.iter().any(|f| f.targeted.is_some()) {
        let targeted = compare::pooled_coverage(fits, |f| f.targeted == Some(true));
        let other = compare::pooled_coverage(fits, |f| f.targeted != Some(true));
        line += &format!("; targeted {}, untargeted {}", part(targeted), part(other));
    }
    line
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

fn targeted_cell(f: &UnitFit) -> &'static str {
    match f.targeted {
        Some(true) => "yes",
        Some(false) => "no",
        None => "—",
    }
}

fn first_last(f: &UnitFit) -> String {
    let first = f.pairs.iter().map(|p| p.year).min().unwrap_or(0);
    let last = f.pairs.iter().map(|p| p.year).max().unwrap_or(0);
    format!("{first}–{last}")
}

fn print_table(fits: &[UnitFit], measures: &BTreeMap<String, Measure>) {
    let width = fits
        .iter()
        .map(|f| f.key.series.len())
        .max()
        .unwrap_or(6)
        .max(6);
    say!(
        "  {:<width$}  {:<5}  {:<6}  {:<5}  {:>8}  {:>9}  {:>5}  {:>6}  {:>10}  {:>10}  {:>6}  {:>8}  {:>7}",
        "series",
        "place",
        "sex",
        "kind",
        "targeted",
        "years",
        "n",
        "masked",
        "log1p_rmse",
        "|ln ratio|",
        "MASE",
        "bias",
        "cover90"
    );
    for f in fits {
        let k = &f.key;
        say!(
            "  {:<width$}  {:<5}  {:<6}  {:<5}  {:>8}  {:>9}  {:>5}  {:>6}  {:>10}  {:>10}  {:>6}  {:>+8.0}  {:>7}",
            k.series,
            k.place,
            k.sex,
            measures.get(&k.series).map_or("", |m| m.name()),
            targeted_cell(f),
            first_last(f),
            f.pairs.len(),
            table::masked_years(f),
            cell(f.log1p_rmse, 3),
            cell(f.mean_abs_log_ratio, 3),
            cell(f.mase, 2),
            f.bias,
            cell(f.coverage, 2)
        );
    }
}

/// A count rounded to a person; `∞` for an open end.
fn persons(v: f64) -> String {
    if v.is_infinite() {
        "∞".into()
    } else {
        format!("{v:.0}")
    }
}

/// Observed and simulated means over the compared points, as the row's kind reads them.
fn means(f: &UnitFit) -> (String, String) {
    let n = f.pairs.len().max(1) as f64;
    let obs = f.pairs.iter().map(|p| p.obs).sum::<f64>() / n;
    let sim = f.pairs.iter().map(|p| p.sim).sum::<f64>() / n;
    match f.kind {
        Kind::Share => (
            format!("{:.1}%", 100.0 * obs),
            format!("{:.1}%", 100.0 * sim),
        ),
        Kind::Interval => ("ranges".into(), persons(sim)),
        _ => (format!("{obs:.1}"), format!("{sim:.1}")),
    }
}

/// The untargeted checks: one summary line per row, then each estimate of an interval row.
fn print_checks(
    fits: &[UnitFit],
    reps: &compare::Replicates,
    obs: &Observed,
    places: &Places,
    years: Option<&RangeInclusive<i32>>,
) {
    if fits.is_empty() {
        say!("untargeted checks: none (no estimates, host stocks or series by sex to check)");
        return;
    }
    say!(
        "untargeted checks (scored, never fitted; the targeted column says whether a calibration used their data):"
    );
    say!(
        "  {:<28}  {:<8}  {:<8}  {:>8}  {:>9}  {:>3}  {:>10}  {:>10}  {:>8}  {:>7}  {:>7}",
        "check",
        "place",
        "kind",
        "targeted",
        "years",
        "n",
        "obs mean",
        "sim median",
        "MAE",
        "matched",
        "log_gap"
    );
    for f in fits {
        let (o, s) = means(f);
        let mae = match f.kind {
            Kind::Share => f.mae.map(|m| format!("{:.1} pp", 100.0 * m)),
            Kind::Count => f.mae.map(|m| format!("{m:.2}")),
            _ => f.mae.map(persons),
        };
        say!(
            "  {:<28}  {:<8}  {:<8}  {:>8}  {:>9}  {:>3}  {:>10}  {:>10}  {:>8}  {:>7}  {:>7}",
            f.key.series,
            f.key.place,
            f.kind.name(),
            targeted_cell(f),
            first_last(f),
            f.pairs.len(),
            o,
            s,
            mae.unwrap_or_else(|| "—".into()),
            cell(f.coverage, 2),
            cell(f.log_gap, 2)
        );
    }
    for f in fits.iter().filter(|f| f.kind == Kind::Interval) {
        say!(
            "  {} in {} (sum over the scenario's places there) against each estimate:",
            f.key.series,
            f.key.place
        );
        let estimates = checks::estimates_compared(reps, obs, places, years, f);
        for (p, e) in f.pairs.iter().zip(estimates) {
            let verdict = match compare::metrics::band_gap(p) {
                None => "matched".to_string(),
                Some(g) if p.band.1 < p.obs_lower => format!("band below, log gap {g:.2}"),
                Some(g) => format!("band above, log gap {g:.2}"),
            };
            let year = if e.approximate {
                format!("c.{}", p.year)
            } else {
                p.year.to_string()
            };
            say!(
                "    {year:<6}  {:>15}  sim {:>6} [{}–{}]  {verdict}  ({})",
                format!("{}–{}", persons(p.obs_lower), persons(p.obs)),
                persons(p.sim),
                persons(p.band.0),
                persons(p.band.1),
                e.source
            );
        }
    }
}
