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
    /// Output folder of `diaspora run` (holds series.csv, scenario.toml and manifest.toml).
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
pub fn plot(mut args: PlotArgs) -> Result<(), CliError> {
    use anyhow::Context;
    use diaspora::plot::{self, Format, posterior::Marginals};

    if !args.run_dir.join("posterior.csv").exists() {
        return plot_run(args);
    }
    let format = match args.format {
        ImageFormat::Png => Format::Png,
        ImageFormat::Svg => Format::Svg,
    };
    let marginals = Marginals::read(&args.run_dir).map_err(CliError::Input)?;
    let bytes =
        plot::render_marginals(&marginals, format).map_err(|e| CliError::Failure(e.into()))?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| args.run_dir.join("figures"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{}.{format}", plot::posterior::STEM));
    diaspora::output::write_atomic(&path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    say!("wrote {}", path.display());
    let predictive = args.run_dir.join("predictive");
    if predictive.join("series.csv").exists() {
        args.run_dir = predictive;
        args.out = Some(dir);
        plot_run(args)?;
    }
    Ok(())
}

/// The figures of a run directory.
#[cfg(feature = "plot")]
fn plot_run(args: PlotArgs) -> Result<(), CliError> {
    use anyhow::Context;
    use diaspora::output;
    use diaspora::plot::{self, Format, PlotData, data::Replicates};

    use super::compare::{RunDir, input};

    let run = RunDir::open(&args.run_dir)?;
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
    let format = match args.format {
        ImageFormat::Png => Format::Png,
        ImageFormat::Svg => Format::Svg,
    };
    let figures = plot::render_all(&data, format).map_err(|e| CliError::Failure(e.into()))?;
    let dir = args.out.unwrap_or_else(|| run.dir.join("figures"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in &figures {
        let path = dir.join(name);
        output::write_atomic(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(not(feature = "plot"))]
pub fn plot(_args: PlotArgs) -> Result<(), CliError> {
    Err(CliError::Input(
        "this diaspora was built without plotting (cargo feature `plot`); rebuild with \
         default features to draw figures"
            .to_string(),
    ))
}
