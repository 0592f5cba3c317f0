//! `diaspora plot`: a run's figures from its output files (`series.csv`, `scenario.toml`,
//! `manifest.toml`) and the observed record, written to `RUN_DIR/figures/` by default. Given a
//! calibration's folder (it holds `posterior.csv`), it draws the marginal posteriors against
//! their priors, the corner plot, the trajectory over generations, its free schedules over time
//! (when it has any) and the figures of its posterior-predictive run; given a simulation-based
//! calibration's folder (it holds `sbc_summary.csv`), the rank histograms; given a merged
//! sweep, an output against each parameter (and the sensitivity indices once analysed). Every
//! input is checked before anything is drawn, and every figure drawn before any is written.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::CliError;
use super::compare::ObservedArgs;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Output folder of `diaspora run`, a calibration folder, a simulation-based calibration
    /// folder (`diaspora sbc`), a contrast folder, or a merged sweep folder.
    run_dir: PathBuf,
    #[command(flatten)]
    observed: ObservedArgs,
    /// Image format.
    #[arg(long, value_enum, default_value_t = ImageFormat::Png)]
    format: ImageFormat,
    /// Folder for the figures (default: RUN_DIR/figures).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Logarithmic value axes on every chart over time (log10 of 1 + value, so zero stays at
    /// the foot of the axis). Default: logarithmic only where a panel's values span more than
    /// two orders of magnitude.
    #[arg(long, conflicts_with = "linear")]
    log: bool,
    /// Linear value axes on every chart.
    #[arg(long)]
    linear: bool,
    /// For a sweep folder: the output drawn against each parameter: `distance`, or a `keep`
    /// entry of the design (an entry kept per year as `NAME [YEAR]`).
    #[arg(long, value_name = "NAME", default_value = diaspora::sweep::results::DISTANCE)]
    output: String,
}

#[cfg(feature = "plot")]
impl PlotArgs {
    fn y_scale(&self) -> diaspora::plot::scale::Choice {
        use diaspora::plot::scale::Choice;
        match (self.log, self.linear) {
            (true, _) => Choice::Log,
            (_, true) => Choice::Linear,
            _ => Choice::Auto,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ImageFormat {
    Png,
    Svg,
}

#[cfg(feature = "plot")]
impl From<ImageFormat> for diaspora::plot::Format {
    fn from(f: ImageFormat) -> Self {
        match f {
            ImageFormat::Png => diaspora::plot::Format::Png,
            ImageFormat::Svg => diaspora::plot::Format::Svg,
        }
    }
}

#[cfg(feature = "plot")]
pub fn plot(mut args: PlotArgs) -> Result<(), CliError> {
    use diaspora::plot::{self, history::History, posterior::Marginals, schedule::Schedules};

    let folder = &args.run_dir;
    if folder.join("contrast.csv").exists() {
        return plot_contrast(&args);
    }
    if folder.join("plan.csv").exists() {
        return plot_sweep(&args);
    }
    if folder.join(plot::sbc::SUMMARY).exists() {
        return plot_sbc(&args);
    }
    if !folder.join("posterior.csv").exists() {
        return plot_run(args);
    }
    // A calibration folder: read only if its files still match calibration.toml.
    let _lock = lock_for_figures(&args)?;
    diaspora::output::folder::verify(&args.run_dir, diaspora::calibrate::output::MANIFEST)?;
    let marginals = Marginals::read(&args.run_dir).map_err(CliError::Input)?;
    // The population size from posterior.csv itself: a calibration of schedules alone has no
    // marginal to count it from.
    let particles = diaspora::calibrate::posterior::Posterior::read(&args.run_dir)
        .map_err(|e| CliError::Input(e.to_string()))?
        .weights
        .len();
    let history = History::read(&args.run_dir, marginals.label.clone(), particles)
        .map_err(CliError::Input)?;
    let mut schedules =
        Schedules::read(&args.run_dir, marginals.label.clone()).map_err(CliError::Input)?;
    schedules.y_scale = args.y_scale();
    let format = args.format.into();
    let failed = |e: plot::PlotError| CliError::Failure(e.into());
    let mut figures = Vec::new();
    // A calibration of schedules alone has no constant to draw a marginal or a pair of.
    if !marginals.marginals.is_empty() {
        figures.push((
            plot::posterior::STEM,
            plot::render_marginals(&marginals, format).map_err(failed)?,
        ));
        figures.push((
            plot::corner::STEM,
            plot::render_corner(&marginals, format).map_err(failed)?,
        ));
    }
    figures.push((
        plot::history::STEM,
        plot::render_history(&history, format).map_err(failed)?,
    ));
    if !schedules.is_empty() {
        figures.push((
            plot::schedule::STEM,
            plot::render_schedules(&schedules, format).map_err(failed)?,
        ));
    }
    let mut dir = PathBuf::new();
    for (stem, bytes) in &figures {
        dir = write_figure(&args, stem, bytes)?;
    }
    let predictive = args.run_dir.join("predictive");
    if predictive.join("series.csv").exists() {
        args.run_dir = predictive;
        args.out = Some(dir);
        plot_run(args)?;
    }
    Ok(())
}

/// The folder's lock while its figures are drawn: exclusive when they go into it, shared when
/// `--out` sends them elsewhere.
#[cfg(feature = "plot")]
fn lock_for_figures(args: &PlotArgs) -> Result<diaspora::output::Lock, CliError> {
    Ok(if args.out.is_none() {
        diaspora::output::Lock::exclusive(&args.run_dir)?
    } else {
        diaspora::output::Lock::shared(&args.run_dir)?
    })
}

/// Writes one figure `STEM.FORMAT` into the figures folder (created); returns the folder.
#[cfg(feature = "plot")]
fn write_figure(args: &PlotArgs, stem: &str, bytes: &[u8]) -> Result<PathBuf, CliError> {
    use anyhow::Context;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| args.run_dir.join("figures"));
    create_out(&dir)?;
    let format: diaspora::plot::Format = args.format.into();
    let path = dir.join(format!("{stem}.{format}"));
    diaspora::output::write_atomic(&path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    say!("wrote {}", path.display());
    Ok(dir)
}

/// The figure of a contrast folder: each series' difference over time with its 90% band.
#[cfg(feature = "plot")]
fn plot_contrast(args: &PlotArgs) -> Result<(), CliError> {
    use diaspora::contrast::table;
    use diaspora::plot::{self, contrast::ContrastFigure};
    let _lock = lock_for_figures(args)?;
    diaspora::output::folder::verify(&args.run_dir, "manifest.toml")?;
    let csv = args.run_dir.join("contrast.csv");
    let rows = table::read(&csv).map_err(|e| CliError::Input(e.to_string()))?;
    let data = ContrastFigure::new(format!("{}", args.run_dir.display()), &rows);
    let bytes = plot::render_contrast(&data, args.format.into())
        .map_err(|e| CliError::Failure(e.into()))?;
    write_figure(args, plot::contrast::STEM, &bytes)?;
    Ok(())
}

/// The figure of a simulation-based calibration folder, read only if its files still match
/// `sbc.toml`: each coordinate's rank histogram against uniform ranks.
#[cfg(feature = "plot")]
fn plot_sbc(args: &PlotArgs) -> Result<(), CliError> {
    use diaspora::plot::{self, sbc::SbcFigure};
    let _lock = lock_for_figures(args)?;
    diaspora::output::folder::verify(&args.run_dir, plot::sbc::MANIFEST)?;
    let data = SbcFigure::read(&args.run_dir).map_err(CliError::Input)?;
    let bytes =
        plot::render_sbc(&data, args.format.into()).map_err(|e| CliError::Failure(e.into()))?;
    write_figure(args, plot::sbc::STEM, &bytes)?;
    Ok(())
}

/// The figures of a merged sweep folder: the chosen output against each parameter, and once
/// `diaspora sensitivity` has run, μ* against σ (Morris) or the Sobol bars.
#[cfg(feature = "plot")]
fn plot_sweep(args: &PlotArgs) -> Result<(), CliError> {
    use diaspora::plot::{self, sensitivity::Sensitivity};
    use diaspora::sensitivity::table;
    let _lock = lock_for_figures(args)?;
    let sweep = diaspora::sweep::SweepDir::open(&args.run_dir)?;
    let mut data = sweep_figure(&sweep, &args.output)?;
    data.y_scale = args.y_scale();
    let csv = args.run_dir.join(table::CSV);
    let sensitivity = if csv.exists() {
        diaspora::output::folder::verify(&args.run_dir, table::RECORD)?;
        let rows = table::read(&csv).map_err(|e| CliError::Input(e.to_string()))?;
        let data = Sensitivity::new(format!("sweep {}", args.run_dir.display()), &rows);
        if data.is_empty() {
            return Err(CliError::Input(format!(
                "{}: no indices to draw",
                csv.display()
            )));
        }
        Some(data)
    } else {
        None
    };
    let format = args.format.into();
    let failed = |e: plot::PlotError| CliError::Failure(e.into());
    let mut figures = vec![(
        plot::sweep::STEM,
        plot::render_sweep(&data, format).map_err(failed)?,
    )];
    if let Some(s) = &sensitivity {
        figures.push((
            s.stem(),
            plot::render_sensitivity(s, format).map_err(failed)?,
        ));
    }
    for (stem, bytes) in &figures {
        write_figure(args, stem, bytes)?;
    }
    Ok(())
}

/// The runs of a merged sweep with their parameter values and the output `name`.
#[cfg(feature = "plot")]
fn sweep_figure(
    sweep: &diaspora::sweep::SweepDir,
    name: &str,
) -> Result<diaspora::plot::sweep::SweepFigure, CliError> {
    use diaspora::plot::sweep::{Run, SweepFigure};
    use diaspora::sweep::results::{self, DISTANCE};
    let runs = results::read(sweep)?;
    let position = |wanted: &str| runs.outputs.iter().position(|o| o.to_string() == wanted);
    let Some(shown) = position(name) else {
        let known: Vec<String> = runs.outputs.iter().map(|o| o.to_string()).collect();
        return Err(CliError::Input(format!(
            "--output: expected one of {}, found `{name}`",
            known.join(", ")
        )));
    };
    let distance = position(DISTANCE).map(|i| &runs.values[i]);
    let plan = &sweep.plan;
    let mut out = Vec::with_capacity(plan.rows.len());
    for row in &plan.rows {
        let mut x = Vec::with_capacity(row.cells.len());
        for (cell, path) in row.cells.iter().zip(&plan.parameters) {
            // A switch is drawn at 0 (false) and 1 (true).
            let number = match cell.as_str() {
                "true" => Ok(1.0),
                "false" => Ok(0.0),
                _ => cell.parse::<f64>(),
            };
            x.push(number.map_err(|_| {
                CliError::Input(format!(
                    "{}: row {}: {path}: expected a number to draw, found \"{cell}\"",
                    sweep.dir.join("plan.csv").display(),
                    row.row
                ))
            })?);
        }
        out.push(Run {
            point: row.point,
            x,
            y: runs.values[shown][row.row],
            distance: distance.and_then(|d| d[row.row]),
        });
    }
    let m = &sweep.manifest;
    let label = format!(
        "sweep {} ({}, {} points × {} replicate(s), seed {})",
        sweep.dir.display(),
        m.method,
        m.points,
        m.replicates,
        m.seed
    );
    Ok(SweepFigure::new(
        label,
        runs.outputs[shown].to_string(),
        plan.parameters.clone(),
        out,
    ))
}

/// The figures of a run directory.
#[cfg(feature = "plot")]
fn plot_run(args: PlotArgs) -> Result<(), CliError> {
    use anyhow::Context;
    use diaspora::output;
    use diaspora::plot::{self, PlotData, data::Replicates};

    use super::compare::{RunDir, input};

    let run = RunDir::open(&args.run_dir, args.out.is_none())?;
    let (layout, rows) = output::read_run_series(&run.dir).map_err(input)?;
    let (obs, origin) = run.observed(&args.observed)?;
    let reps = Replicates::new(&layout, &rows);
    let names = run
        .scenario
        .raw
        .places
        .iter()
        .map(|(id, p)| (id.clone(), p.name.clone()))
        .collect();
    let what = match &run.info.posterior {
        None => format!(
            "scenario {}, seed {}, {} replicate(s)",
            run.info.scenario, run.info.seed, run.info.replicates
        ),
        Some(p) => format!(
            "posterior predictive: {} draws from {} ({} replicate(s); scenario {}, seed {})",
            p.draws, p.calibration, run.info.replicates, run.info.scenario, run.info.seed
        ),
    };
    let label = format!(
        "{what}; observed: {} (origin {origin})",
        plot::sources_label(&run.sources(&args.observed))
    );
    let mut data = PlotData::new(label, names, &run.scenario.observation, &reps, &obs);
    data.predictive_draws = run.info.posterior.as_ref().map(|p| p.draws);
    data.y_scale = args.y_scale();
    let dir = args.out.unwrap_or_else(|| run.dir.join("figures"));
    create_out(&dir)?;
    let figures =
        plot::render_all(&data, args.format.into()).map_err(|e| CliError::Failure(e.into()))?;
    for (name, bytes) in &figures {
        let path = dir.join(name);
        output::write_atomic(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("wrote {}", path.display());
    }
    Ok(())
}

/// Creates the figures' folder before anything is drawn: a path that cannot be one is exit 2.
#[cfg(feature = "plot")]
fn create_out(dir: &std::path::Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::Input(format!(
            "{}: cannot be the figures' folder: {e}",
            dir.display()
        ))
    })
}

#[cfg(not(feature = "plot"))]
pub fn plot(_args: PlotArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "this diaspora was built without plotting (cargo feature `plot`); rebuild with \
         default features to draw figures"
            .to_string(),
    ))
}
