//! `diaspora plot`: a run's figures from its output files (`series.csv`, `scenario.toml`,
//! `manifest.toml`) and the observed record, written to `RUN_DIR/figures/` by default. Given a
//! calibration's folder (it holds `posterior.csv`), it draws the marginal posteriors against
//! their priors, and the figures of its posterior-predictive run.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::CliError;
use super::compare::ObservedArgs;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Output folder of `diaspora run`, a calibration folder, a contrast folder, or an analysed
    /// sweep folder (after `diaspora sensitivity`).
    run_dir: PathBuf,
    #[command(flatten)]
    observed: ObservedArgs,
    /// Image format.
    #[arg(long, value_enum, default_value_t = ImageFormat::Png)]
    format: ImageFormat,
    /// Folder for the figures (default: RUN_DIR/figures).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
    use diaspora::plot::{self, posterior::Marginals};

    let folder = &args.run_dir;
    if folder.join("contrast.csv").exists() {
        return plot_contrast(&args);
    }
    if folder.join("plan.csv").exists() {
        return plot_sensitivity(&args);
    }
    if !folder.join("posterior.csv").exists() {
        return plot_run(args);
    }
    // A calibration folder: read only if its files still match calibration.toml.
    let _lock = lock_for_figures(&args)?;
    diaspora::output::folder::verify(&args.run_dir, diaspora::calibrate::output::MANIFEST)?;
    let marginals = Marginals::read(&args.run_dir).map_err(CliError::Input)?;
    let bytes = plot::render_marginals(&marginals, args.format.into())
        .map_err(|e| CliError::Failure(e.into()))?;
    let dir = write_figure(&args, plot::posterior::STEM, &bytes)?;
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

/// The figure of an analysed sweep folder: μ* against σ (Morris) or the Sobol bars.
#[cfg(feature = "plot")]
fn plot_sensitivity(args: &PlotArgs) -> Result<(), CliError> {
    use diaspora::plot::{self, sensitivity::Sensitivity};
    use diaspora::sensitivity::table;
    let _lock = lock_for_figures(args)?;
    let csv = args.run_dir.join(table::CSV);
    if !csv.exists() {
        return Err(CliError::Input(format!(
            "{}: a sweep folder without sensitivity.csv: run `diaspora sensitivity {}` first \
             (figures of a sweep are drawn from its Morris or Sobol analysis)",
            args.run_dir.display(),
            args.run_dir.display()
        )));
    }
    diaspora::output::folder::verify(&args.run_dir, table::RECORD)?;
    let rows = table::read(&csv).map_err(|e| CliError::Input(e.to_string()))?;
    let data = Sensitivity::new(format!("sweep {}", args.run_dir.display()), &rows);
    if data.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no indices to draw",
            csv.display()
        )));
    }
    let bytes = plot::render_sensitivity(&data, args.format.into())
        .map_err(|e| CliError::Failure(e.into()))?;
    write_figure(args, data.stem(), &bytes)?;
    Ok(())
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
    let label = format!(
        "scenario {}, seed {}, {} replicate(s); observed: {} (origin {origin})",
        run.info.scenario,
        run.info.seed,
        run.info.replicates,
        plot::sources_label(&run.sources(&args.observed))
    );
    let data = PlotData::new(label, names, &run.scenario.observation, &reps, &obs);
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
