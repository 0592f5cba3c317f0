//! `diaspora sensitivity`: Morris or Sobol indices of a merged sweep's outputs, written to
//! `SWEEP_DIR/sensitivity.csv` and printed as a ranked table per output.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use diaspora::sensitivity::{self, Bootstrap, Indices, OutputAnalysis, table};
use diaspora::sweep::merge::ResultsRecord;
use diaspora::sweep::plan::{POINTS_CSV, read_points};
use diaspora::sweep::results::{self, DISTANCE, OutputName};
use diaspora::sweep::{Method, SweepDir};

use super::CliError;

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    /// A merged sweep folder of method `morris` or `saltelli`.
    dir: PathBuf,
    /// Analyse only this output: `distance` or a `keep` entry of the design (repeatable;
    /// default: every kept output, or the distance if the design keeps nothing).
    #[arg(long, value_name = "NAME")]
    output: Vec<String>,
    /// Bootstrap resamples for the confidence intervals (0: none).
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
    /// Coverage of the confidence intervals.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
}

/// Writes `sensitivity.csv`, then `sensitivity.toml` listing its hash and those of the results
/// files it was computed from (removed first, so a write killed half-way is refused by
/// `diaspora plot`); returns the path of the table.
fn write_analysis(
    sweep: &SweepDir,
    results: &ResultsRecord,
    csv: &[u8],
) -> Result<PathBuf, CliError> {
    use diaspora::output::write_atomic;
    let path = sweep.dir.join(table::CSV);
    let record = sweep.dir.join(table::RECORD);
    let fail = |p: &std::path::Path, e: std::io::Error| {
        CliError::Failure(anyhow::Error::new(e).context(format!("cannot write {}", p.display())))
    };
    match std::fs::remove_file(&record) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(&record, e)),
        _ => {}
    }
    write_atomic(&path, csv).map_err(|e| fail(&path, e))?;
    let mut files = results.files.clone();
    files.insert(
        table::CSV.to_string(),
        blake3::hash(csv).to_hex().to_string(),
    );
    let text = toml::to_string(&table::Record {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        files: files.into_iter().collect(),
    })
    .expect("a record is plain data");
    write_atomic(&record, text.as_bytes()).map_err(|e| fail(&record, e))?;
    Ok(path)
}

pub fn sensitivity(a: SensitivityArgs) -> Result<(), CliError> {
    let start = Instant::now();
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(CliError::Input(format!(
            "--level: expected a coverage between 0 and 1, found {}",
            a.level
        )));
    }
    let _lock = super::sweep::lock(&a.dir, true)?;
    let sweep = SweepDir::open(&a.dir)?;
    let m = &sweep.manifest;
    let design = match (m.morris, m.saltelli) {
        (Some(_), _) => sensitivity::Design::Morris,
        (_, Some(s)) => sensitivity::Design::Saltelli {
            second_order: s.second_order,
        },
        _ => {
            return Err(CliError::Input(format!(
                "{}: a sensitivity analysis needs a sweep of method \"{}\" or \"{}\", found \"{}\"",
                a.dir.display(),
                Method::Morris.name(),
                Method::Saltelli.name(),
                m.method
            )));
        }
    };
    let block = m.block().expect("a sensitivity design");
    let unit = read_points(&a.dir.join(POINTS_CSV), &m.parameters, block)?;
    let record = results::record(&sweep)?;
    let runs = results::read(&sweep)?;
    let chosen = choose(&a.output, m, &runs.outputs)?;
    let outputs: Vec<OutputName> = chosen.iter().map(|&i| runs.outputs[i].clone()).collect();
    let values: Vec<Vec<Option<f64>>> = chosen.iter().map(|&i| runs.values[i].clone()).collect();
    let bootstrap = Bootstrap {
        resamples: a.resamples,
        level: a.level,
        seed: m.seed,
    };
    let (done, skipped) = sensitivity::analyse(
        design,
        &unit.points,
        m.replicates as usize,
        &outputs,
        &values,
        &bootstrap,
    );
    let rows: Vec<table::TableRow> = done
        .iter()
        .flat_map(|o| table::rows(o, design.name(), &m.parameters))
        .collect();
    let path = write_analysis(&sweep, &record, &table::to_csv(&rows))?;

    let what = match design {
        sensitivity::Design::Morris => format!(
            "Morris: {} trajectories × {} points",
            unit.points.len() / block,
            block
        ),
        sensitivity::Design::Saltelli { second_order } => format!(
            "Sobol: {} base points × {} points{}",
            unit.points.len() / block,
            block,
            if second_order { ", second order" } else { "" }
        ),
    };
    say!(
        "sweep \"{}\": {what}, {} replicate(s) per point (analysed: their mean){}",
        m.name,
        m.replicates,
        if m.common_random_numbers {
            ", common random numbers"
        } else {
            ""
        }
    );
    let level = (a.level * 100.0).round();
    let yearly = done.iter().filter(|o| o.output.year.is_some()).count();
    for o in done.iter().filter(|o| o.output.year.is_none()) {
        print_output(o, &m.parameters, level);
    }
    if yearly > 0 {
        say!("");
        say!("({yearly} yearly outputs are in sensitivity.csv only)");
    }
    for s in &skipped {
        say!("skipped {}: {}", s.output, s.reason);
    }
    say!("");
    say!(
        "wrote {} ({} rows) in {:.2} s ({} bootstrap resamples, {level}% intervals)",
        path.display(),
        rows.len(),
        start.elapsed().as_secs_f64(),
        a.resamples
    );
    Ok(())
}

/// The outputs to analyse: those named with `--output`, else the kept ones, else the distance.
fn choose(
    named: &[String],
    m: &diaspora::sweep::SweepManifest,
    outputs: &[OutputName],
) -> Result<Vec<usize>, CliError> {
    let wanted: Vec<String> = if !named.is_empty() {
        named.to_vec()
    } else if !m.keep.is_empty() {
        m.keep.clone()
    } else {
        vec![DISTANCE.to_string()]
    };
    let mut chosen = Vec::new();
    for w in &wanted {
        let found: Vec<usize> = (0..outputs.len())
            .filter(|&i| outputs[i].name == *w)
            .collect();
        if found.is_empty() {
            let mut known: Vec<&str> = vec![DISTANCE];
            known.extend(m.keep.iter().map(String::as_str));
            return Err(CliError::Input(format!(
                "--output: expected one of {}, found `{w}`",
                known.join(", ")
            )));
        }
        chosen.extend(found);
    }
    Ok(chosen)
}

fn ci(c: Option<(f64, f64)>) -> String {
    c.map_or(String::new(), |(lo, hi)| {
        format!("[{}, {}]", short(lo), short(hi))
    })
}

/// A number in 4 significant digits.
fn short(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let digits = if a >= 1000.0 {
            0
        } else if a >= 100.0 {
            1
        } else if a >= 10.0 {
            2
        } else {
            3
        };
        format!("{v:.digits$}")
    }
}

fn print_output(o: &OutputAnalysis, parameters: &[String], level: f64) {
    say!("");
    say!(
        "{}: variance {}{}",
        o.output,
        short(o.variance),
        o.noise_share.map_or(String::new(), |n| format!(
            ", replicate noise {:.1}% of it",
            100.0 * n
        ))
    );
    let width = parameters.iter().map(String::len).max().unwrap_or(9).max(9);
    match &o.indices {
        Indices::Morris(mx) => {
            say!(
                "  rank  {:<width$}  {:>10}  {:<24}  {:>10}  {:>10}",
                "parameter",
                "mu*",
                format!("{level}% interval"),
                "mu",
                "sigma"
            );
            for (r, &j) in o.ranking().iter().enumerate() {
                let x = &mx[j];
                say!(
                    "  {:>4}  {:<width$}  {:>10}  {:<24}  {:>10}  {:>10}",
                    r + 1,
                    parameters[j],
                    short(x.mu_star),
                    ci(x.mu_star_ci),
                    short(x.mu),
                    short(x.sigma)
                );
            }
        }
        Indices::Sobol(s) => {
            say!(
                "  rank  {:<width$}  {:>7}  {:<18}  {:>7}  {:<18}",
                "parameter",
                "ST",
                format!("{level}% interval"),
                "S1",
                format!("{level}% interval")
            );
            for (r, &j) in o.ranking().iter().enumerate() {
                say!(
                    "  {:>4}  {:<width$}  {:>7.3}  {:<18}  {:>7.3}  {:<18}",
                    r + 1,
                    parameters[j],
                    s.total[j].value,
                    ci(s.total[j].ci),
                    s.first[j].value,
                    ci(s.first[j].ci)
                );
            }
            let sum: f64 = s.first.iter().map(|e| e.value).sum();
            say!("  sum of S1: {sum:.3} (1 − sum: the share of variance due to interactions)");
            for &(j, k, e) in &s.second {
                if e.ci.is_none_or(|(lo, hi)| lo > 0.0 || hi < 0.0) {
                    say!(
                        "  S2 {} × {}: {:.3} {}",
                        parameters[j],
                        parameters[k],
                        e.value,
                        ci(e.ci)
                    );
                }
            }
        }
    }
}
