//! `diaspora run`: simulate a scenario's replicates and write the run directory; with
//! `--posterior`, each replicate runs a parameter set drawn from a calibration's posterior. The
//! output folder is checked and locked before anything is simulated, and replaced whole at the end.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use std::fmt::Write as _;
use std::sync::Arc;

use diaspora::calibrate::posterior::Posterior;
use diaspora::ensemble::{self, EnsembleResult};
use diaspora::observe::{Plan, Sex};
use diaspora::output::{self, Manifest, PosteriorDraws, Target, folder};
use diaspora::scenario::{Override, Scenario, Template};

use super::{CliError, ScenarioArgs, pool};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Output folder (default: output/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Master seed (overrides run.seed).
    #[arg(long, allow_negative_numbers = true, value_parser = super::seed)]
    seed: Option<u64>,
    /// Number of replicates (overrides run.replicates).
    #[arg(long, allow_negative_numbers = true)]
    replicates: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Observed data folder for the printed comparison.
    #[arg(long, default_value = "data/observed")]
    observed: PathBuf,
    /// Format of the series and summary tables: CSV, or Parquet (typed columns, compressed;
    /// `compare` and `plot` read either).
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
    /// A calibration's output folder, or a posterior.csv file: each replicate runs a
    /// parameter set drawn from the posterior by weight (seeded by the run's seed).
    #[arg(long, value_name = "CALIBRATION_DIR|FILE")]
    posterior: Option<PathBuf>,
    /// With --posterior: the number of parameter draws; replicate k uses draw k mod N
    /// [default: one draw per replicate].
    #[arg(long, value_name = "N", requires = "posterior")]
    draws: Option<u32>,
    /// Check the engine's invariants as the run goes (every live agent has exactly one pending
    /// wake-up, every absorbing one none); slower, same results. Always on in debug builds.
    #[arg(long)]
    check: bool,
}

/// How `series` and `summary` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// `series.csv`, `summary.csv`.
    Csv,
    /// `series.parquet`, `summary.parquet`.
    Parquet,
}

impl TableFormat {
    /// File extension.
    fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Parquet => "parquet",
        }
    }
}

/// The parameter draws of a run with `--posterior`.
struct Draws {
    posterior: Posterior,
    dir: PathBuf,
    /// Particle of each draw.
    particles: Vec<usize>,
    /// Draw of each replicate.
    assign: Vec<usize>,
}

pub fn run(args: RunArgs) -> Result<(), CliError> {
    let mut overrides = args.scenario.overrides()?;
    if let Some(seed) = args.seed {
        overrides.push(Override::integer("run.seed", seed as i64));
    }
    if let Some(r) = args.replicates {
        overrides.push(Override::integer("run.replicates", i64::from(r)));
    }
    let template = Template::read(&args.scenario.scenario)?;
    let scenario = template.instantiate(&overrides)?;
    super::warn(&scenario);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    let pool = pool(args.threads)?;
    let threads = pool.current_num_threads();
    if let Some(available) = super::available_memory() {
        let concurrent = threads.min(scenario.run.replicates as usize);
        template.check_memory(&scenario, concurrent, available)?;
    }
    let target = Target::claim(&dir, &folder::RUN)?;
    let draws = match &args.posterior {
        Some(dir) => Some(draws(dir, args.draws, &scenario, &args.scenario.set)?),
        None => None,
    };
    let result = match &draws {
        None => pool.install(|| ensemble::run_checked(&scenario, args.check)),
        Some(d) => {
            let models = pool.install(|| draw_scenarios(&template, &overrides, d))?;
            let plan = Arc::new(Plan::new(scenario.observation.clone()));
            pool.install(|| ensemble::run_assigned(&models, &d.assign, scenario.run.seed, plan))
        }
    }
    .context("the run failed; nothing was written")?;

    let (mut files, manifest) = render(
        &scenario,
        &result,
        threads,
        &args.scenario.set,
        args.format,
        draws.as_ref(),
    )?;
    if let Some(d) = &draws {
        files.push(("draws.csv", draws_csv(d)));
    }
    let mut stage = target.stage()?;
    output::write_run(&mut stage, "", &files, manifest)?;
    stage.commit()?;

    let total = result.total();
    say!(
        "{}: {} replicate(s), {} agents, {:.1} M agent-months in {:.2} s on {threads} thread(s)",
        scenario.name,
        scenario.run.replicates,
        total.agents_created,
        total.agent_months as f64 / 1e6,
        result.seconds
    );
    if let Some(d) = &draws {
        let distinct: std::collections::BTreeSet<usize> = d.particles.iter().copied().collect();
        say!(
            "parameters: {} draw(s) from {} ({} distinct particle(s) of {}), replicate k uses draw k mod {}",
            d.particles.len(),
            d.posterior.file.display(),
            distinct.len(),
            d.posterior.weights.len(),
            d.particles.len()
        );
    }
    let ext = args.format.extension();
    say!(
        "wrote {}/{{series.{ext}, summary.{ext}, manifest.toml, scenario.toml{}}}",
        dir.display(),
        if draws.is_some() { ", draws.csv" } else { "" }
    );
    print_headline(&scenario, &result, &args.observed);
    Ok(())
}

/// A run's output files: name and bytes.
type Files = Vec<(&'static str, Vec<u8>)>;

/// The output files (as bytes) and the manifest that will list them.
fn render(
    scenario: &Scenario,
    result: &EnsembleResult,
    threads: usize,
    sets: &[String],
    format: TableFormat,
    draws: Option<&Draws>,
) -> Result<(Files, Manifest), CliError> {
    let layout = &result.plan.layout;
    let reps = result.numbered();
    let rows: Vec<&[_]> = result.replicates.iter().map(Vec::as_slice).collect();
    let summary = output::summarise(&rows);
    let ((series_name, series), (summary_name, summary)) = match format {
        TableFormat::Csv => (
            ("series.csv", output::series_csv(layout, &reps)),
            ("summary.csv", output::summary_csv(layout, &summary)),
        ),
        TableFormat::Parquet => {
            use output::parquet;
            let encode =
                |t: parquet::Table| parquet::to_bytes(&t).map_err(|e| CliError::Failure(e.into()));
            (
                (
                    "series.parquet",
                    encode(parquet::series_table(layout, &reps, &scenario.hash))?,
                ),
                (
                    "summary.parquet",
                    encode(parquet::summary_table(layout, &summary, &scenario.hash))?,
                ),
            )
        }
    };
    let total = result.total();
    let manifest = Manifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario.name.clone(),
        scenario_file: scenario.path.display().to_string(),
        scenario_hash: scenario.hash.clone(),
        seed: scenario.run.seed,
        replicates: scenario.run.replicates,
        threads,
        agents_created: total.agents_created,
        agent_months: total.agent_months,
        events: total.events,
        wall_time_seconds: (result.seconds * 1000.0).round() / 1000.0,
        overrides: sets.to_vec(),
        observed: scenario
            .observed
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        posterior: draws.map(|d| PosteriorDraws {
            calibration: d.dir.display().to_string(),
            posterior_hash: d.posterior.hash.clone(),
            draws: d.particles.len() as u32,
            particles: d.particles.clone(),
        }),
        files: Default::default(),
    };
    let files = vec![
        (series_name, series),
        (summary_name, summary),
        ("scenario.toml", scenario.resolved.clone().into_bytes()),
    ];
    Ok((files, manifest))
}

/// Reads the posterior and draws its particles: `n` draws (default one per replicate) seeded
/// by the run's seed. A `--set` of a path the posterior sets is refused (which would win is
/// not obvious).
fn draws(
    dir: &Path,
    n: Option<u32>,
    scenario: &Scenario,
    sets: &[String],
) -> Result<Draws, CliError> {
    // A calibration's output folder is read only if its files still match calibration.toml (a
    // folder holding just a posterior.csv, as docs/calibration/ ships, is read like the file).
    let manifest = dir.join(diaspora::calibrate::output::MANIFEST);
    let _lock = if manifest.is_file() {
        let lock = diaspora::output::Lock::shared(dir)?;
        folder::verify(dir, diaspora::calibrate::output::MANIFEST)?;
        Some(lock)
    } else {
        None
    };
    let posterior = Posterior::read(dir).map_err(|e| CliError::Input(e.to_string()))?;
    let replicates = scenario.run.replicates;
    let n = n.unwrap_or(replicates);
    if n == 0 || n > replicates {
        return Err(CliError::Input(format!(
            "--draws: expected 1 to {replicates} (the replicates), found {n}"
        )));
    }
    for s in sets {
        let path = s.split_once('=').map_or(s.as_str(), |p| p.0).trim();
        if posterior.paths().contains(&path) {
            return Err(CliError::Input(format!(
                "--set {s}: `{path}` is drawn from {}: remove the --set, or run without --posterior",
                posterior.file.display()
            )));
        }
    }
    let particles = (0..n)
        .map(|d| posterior.draw(scenario.run.seed, d))
        .collect();
    let assign = (0..replicates as usize).map(|k| k % n as usize).collect();
    Ok(Draws {
        posterior,
        dir: dir.to_path_buf(),
        particles,
        assign,
    })
}

/// The scenario of every draw: the run's overrides, then the particle's values.
fn draw_scenarios(
    template: &Template,
    overrides: &[Override],
    d: &Draws,
) -> Result<Vec<Scenario>, CliError> {
    use rayon::prelude::*;
    d.particles
        .par_iter()
        .enumerate()
        .map(|(i, &j)| {
            let mut o = overrides.to_vec();
            o.extend(d.posterior.overrides(j));
            template.instantiate(&o).map_err(|e| {
                CliError::Input(format!(
                    "{}: draw {i} (particle {j}): {e}",
                    d.posterior.file.display()
                ))
            })
        })
        .collect()
}

/// `draws.csv`: `replicate,draw,particle,<parameter paths…>`.
fn draws_csv(d: &Draws) -> Vec<u8> {
    let mut out = String::from("replicate,draw,particle");
    for p in &d.posterior.parameters {
        let _ = write!(out, ",{p}");
    }
    out.push('\n');
    for (k, &draw) in d.assign.iter().enumerate() {
        let j = d.particles[draw];
        let _ = write!(out, "{k},{draw},{j}");
        for &v in &d.posterior.values[j] {
            out.push(',');
            output::fmt_value(&mut out, v);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Prints simulated (median, 90% band) against observed for the first declared arrivals series.
fn print_headline(scenario: &Scenario, result: &EnsembleResult, observed_dir: &Path) {
    use diaspora::observe::Count;
    let Some(spec) = scenario
        .observation
        .series
        .iter()
        .find(|s| s.count == Count::Arrivals)
    else {
        return;
    };
    let Some(&place) = spec.places.first() else {
        return;
    };
    let layout = &result.plan.layout;
    let Some(series) = layout.series.iter().position(|n| *n == spec.name) else {
        return;
    };
    let place_id = &scenario.observation.place_ids[usize::from(place)];
    let observed = diaspora::observed::load(observed_dir).ok();
    let obs = observed
        .as_ref()
        .and_then(|o| o.get(&spec.name, place_id, "total"));
    let rows: Vec<&[_]> = result.replicates.iter().map(Vec::as_slice).collect();
    let summary = output::summarise(&rows);
    say!("");
    say!(
        "{} at {place_id} (simulated median [90% band] vs observed):",
        spec.name
    );
    say!("  year   simulated                 observed   ratio");
    for r in summary.iter().filter(|r| {
        usize::from(r.key.series) == series && r.key.place == place && r.key.sex == Sex::Total
    }) {
        let y = r.key.year;
        if !(y % 5 == 0 || (2019..=2022).contains(&y) || y == scenario.run.end_year) {
            continue;
        }
        let band = format!("{:.0} [{:.0}–{:.0}]", r.p50, r.p05, r.p95);
        match obs.and_then(|o| o.get(&y)) {
            Some(p) => {
                let ratio = if p.value > 0.0 {
                    format!("{:.2}", r.p50 / p.value)
                } else {
                    "-".into()
                };
                say!("  {y}   {band:<25} {:>8}   {ratio}", p.value);
            }
            None => say!("  {y}   {band:<25} {:>8}", "—"),
        }
    }
    if obs.is_none() {
        say!(
            "  (no observed {} found in {})",
            spec.name,
            observed_dir.display()
        );
    }
}
