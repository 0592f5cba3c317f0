//! `diaspora compare`: a finished run against the observed record; writes `RUN_DIR/fit.csv`
//! and prints the fit table and the calibration distance. Also the pieces `plot` shares: the
//! run directory (locked, and checked against its manifest's hashes), its origin, and the
//! observed sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use diaspora::compare::{self, UnitFit, table};
use diaspora::observed::{self, Measure, Observed};
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

pub fn compare(args: CompareArgs) -> Result<(), CliError> {
    let run = RunDir::open(&args.run_dir, true)?;
    let (layout, summary) = output::read_run_summary(&run.dir).map_err(input)?;
    let (obs, origin) = run.observed(&args.observed)?;
    let sim = compare::from_summary(&layout, &summary);
    let fits = compare::fit(&sim, &obs, None);
    if fits.is_empty() {
        return Err(CliError::Input(format!(
            "nothing to compare: no series of {} has an observed twin (same series, place, sex \
             and year) in {} for origin {origin}",
            run.dir.display(),
            sources(&run.sources(&args.observed))
        )));
    }
    let measures = run.measures();
    let path = run.dir.join("fit.csv");
    output::write_atomic(&path, &table::fit_csv(&fits, &measures))
        .with_context(|| format!("cannot write {}", path.display()))?;

    say!(
        "{} ({}) against {} (origin {origin}):",
        run.dir.display(),
        run.label(),
        sources(&run.sources(&args.observed))
    );
    print_table(&fits, &measures);
    say!("wrote {}", path.display());
    let units = fits.iter().filter(|f| f.key.sex == "total").count();
    match compare::distance(&fits) {
        Some(d) => say!(
            "distance: {d:.4} (mean log1p RMSE over {units} series × place units of sex total, equal weights)"
        ),
        None => say!("distance: undefined (no series of sex total compared)"),
    }
    Ok(())
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

fn print_table(fits: &[UnitFit], measures: &BTreeMap<String, Measure>) {
    let width = fits
        .iter()
        .map(|f| f.key.series.len())
        .max()
        .unwrap_or(6)
        .max(6);
    say!(
        "  {:<width$}  {:<5}  {:<6}  {:<5}  {:>9}  {:>5}  {:>6}  {:>10}  {:>10}  {:>6}  {:>8}  {:>7}",
        "series",
        "place",
        "sex",
        "kind",
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
        let first = f.pairs.first().map_or(0, |p| p.year);
        let last = f.pairs.last().map_or(0, |p| p.year);
        say!(
            "  {:<width$}  {:<5}  {:<6}  {:<5}  {:>9}  {:>5}  {:>6}  {:>10}  {:>10}  {:>6}  {:>+8.0}  {:>7}",
            k.series,
            k.place,
            k.sex,
            measures.get(&k.series).map_or("", |m| m.name()),
            format!("{first}–{last}"),
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
