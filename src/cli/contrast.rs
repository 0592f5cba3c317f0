//! `diaspora contrast`: run B minus run A, replicate by replicate, for every series, place, sex
//! and year; writes `contrast.csv`, `contrast_totals.csv` and `manifest.toml` and prints the
//! totals over the period where the runs differ.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;

use diaspora::contrast::{self, Total, table};
use diaspora::observe::{Plan, Sex};
use diaspora::output::{self, RunInfo, Target, folder};

use super::CliError;
use super::compare::{RunDir, input};

#[derive(Args, Debug)]
pub struct ContrastArgs {
    /// The reference run (output folder of `diaspora run`).
    run_a: PathBuf,
    /// The run compared with it: differences are B − A.
    run_b: PathBuf,
    /// Output folder (default: output/contrast-<B>-minus-<A>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Period of the totals, FIRST-LAST [default: from the first year the runs differ to the
    /// last year].
    #[arg(long, value_name = "FIRST-LAST")]
    years: Option<String>,
}

fn period(text: &str) -> Result<(i32, i32), CliError> {
    let bad = || {
        CliError::Input(format!(
            "--years: expected FIRST-LAST like 2020-2025, found \"{text}\""
        ))
    };
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b): (i32, i32) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// The parameter set of every replicate, as a group id: the posterior particle each run's
/// replicate `k` took (draw `k mod draws`), so draws of the same particle share a group; all
/// one group without a posterior.
fn groups(a: &RunInfo, b: &RunInfo, replicates: usize) -> Vec<usize> {
    let of = |i: &RunInfo, k: usize| {
        i.posterior
            .as_ref()
            .and_then(|p| p.particles.get(k % p.particles.len().max(1)).copied())
            .unwrap_or(0)
    };
    let mut ids: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    (0..replicates)
        .map(|k| {
            let key = (of(a, k), of(b, k));
            let n = ids.len();
            *ids.entry(key).or_insert(n)
        })
        .collect()
}

/// Warnings about runs that are not paired as well as they could be.
fn pairing_warnings(a: &RunInfo, b: &RunInfo) -> Vec<String> {
    let mut w = Vec::new();
    if a.seed != b.seed {
        w.push(format!(
            "the runs have different seeds ({} and {}): pairs share no random numbers, so differences carry the noise of both runs",
            a.seed, b.seed
        ));
    }
    match (&a.posterior, &b.posterior) {
        (Some(x), Some(y))
            if x.posterior_hash != y.posterior_hash || x.particles != y.particles =>
        {
            w.push("the runs drew different parameter sets (another posterior, seed or --draws): replicate k of A and of B do not share parameters".into());
        }
        (Some(_), None) | (None, Some(_)) => {
            w.push("only one run drew its parameters from a posterior: the variance split is over that run's draws".into());
        }
        _ => {}
    }
    w
}

/// Writes the contrast folder whole: its `files`, then the manifest listing their hashes.
fn write_folder(
    target: &Target,
    mut manifest: table::ContrastManifest,
    files: &[(&str, Vec<u8>)],
) -> Result<(), CliError> {
    let mut stage = target.stage()?;
    for (name, bytes) in files {
        let hash = stage.write(name, bytes)?;
        manifest.files.insert((*name).to_string(), hash);
    }
    let text = toml::to_string(&manifest).map_err(|e| CliError::Failure(e.into()))?;
    stage.write("manifest.toml", text.as_bytes())?;
    stage.commit()?;
    Ok(())
}

pub fn contrast(a: ContrastArgs) -> Result<(), CliError> {
    let start = std::time::Instant::now();
    let ra = RunDir::open(&a.run_a, false)?;
    let rb = RunDir::open(&a.run_b, false)?;
    let dir = a.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!(
            "contrast-{}-minus-{}",
            rb.info.scenario, ra.info.scenario
        ))
    });
    let target = Target::claim(&dir, &folder::CONTRAST)?;
    let (la, rows_a) = output::read_run_series(&ra.dir).map_err(input)?;
    let (lb, rows_b) = output::read_run_series(&rb.dir).map_err(input)?;
    let paired = contrast::pair((&la, &rows_a), (&lb, &rows_b))
        .map_err(|e| {
            CliError::Input(format!(
                "{} and {}: {e}",
                a.run_a.display(),
                a.run_b.display()
            ))
        })?
        .with_place_totals();
    let n = paired.replicates();
    for w in pairing_warnings(&ra.info, &rb.info) {
        eprintln!("warning: {w}");
    }
    let group = groups(&ra.info, &rb.info, n);
    let draws = group.iter().max().map_or(0, |g| g + 1);
    let first = contrast::first_difference(&paired);
    let last_year = paired.keys.iter().map(|k| k.year).max().unwrap_or(0);
    let first_year = paired.keys.iter().map(|k| k.year).min().unwrap_or(0);
    let years = match &a.years {
        Some(t) => period(t)?,
        None => (first.unwrap_or(first_year), last_year),
    };
    let plan = Plan::new(ra.scenario.observation.clone());
    let totals = contrast::totals(
        &paired,
        years,
        |s| plan.is_stock(s).unwrap_or(false),
        &group,
    );

    let manifest = table::ContrastManifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        run_a: a.run_a.display().to_string(),
        scenario_a: ra.info.scenario.clone(),
        run_b: a.run_b.display().to_string(),
        scenario_b: rb.info.scenario.clone(),
        seeds: [ra.info.seed, rb.info.seed],
        replicates: n,
        draws,
        first_difference: first,
        totals_years: [years.0, years.1],
        command: std::env::args().collect::<Vec<_>>().join(" "),
        files: BTreeMap::new(),
    };
    write_folder(
        &target,
        manifest,
        &[
            ("contrast.csv", table::contrast_csv(&paired, &group)),
            ("contrast_totals.csv", table::totals_csv(&totals, n)),
        ],
    )?;

    say!(
        "{} (B) − {} (A): {n} paired replicate(s), seeds {} and {}, {}",
        rb.info.scenario,
        ra.info.scenario,
        ra.info.seed,
        rb.info.seed,
        if draws > 1 {
            format!("{draws} distinct parameter set(s)")
        } else {
            "one parameter set".into()
        }
    );
    match first {
        Some(y) if y > first_year => say!(
            "the runs are identical before {y}: every difference in {first_year}–{} is exactly zero",
            y - 1
        ),
        Some(_) => {}
        None => say!("the runs are identical: every difference is exactly zero"),
    }
    print_totals(&totals, years);
    say!(
        "wrote {}/{{contrast.csv, contrast_totals.csv, manifest.toml}} in {:.2} s",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn signed(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let r = if v.abs() >= 100.0 {
        format!("{v:+.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:+.1}")
    } else {
        format!("{v:+.3}")
    };
    if r.trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".into()
    } else {
        r
    }
}

fn print_totals(totals: &[Total], years: (i32, i32)) {
    let shown: Vec<&Total> = totals
        .iter()
        .filter(|t| t.sex == Sex::Total && (t.difference.p05 != 0.0 || t.difference.p95 != 0.0))
        .collect();
    say!("");
    say!(
        "totals over every place, {}–{} (flows summed over the years, stocks at {}): B − A",
        years.0,
        years.1,
        years.1
    );
    if shown.is_empty() {
        say!("  (no series differs in this period)");
        return;
    }
    let width = shown
        .iter()
        .map(|t| t.series.len())
        .max()
        .unwrap_or(6)
        .max(6);
    say!(
        "  {:<width$}  {:<5}  {:>9}  {:<22}  {:>10}  {:>10}",
        "series",
        "kind",
        "median",
        "[90% band]",
        "mean",
        "parametric"
    );
    for t in shown {
        let d = &t.difference;
        say!(
            "  {:<width$}  {:<5}  {:>9}  {:<22}  {:>10}  {:>10}",
            t.series,
            if t.stock { "stock" } else { "flow" },
            signed(d.p50),
            format!("[{}, {}]", signed(d.p05), signed(d.p95)),
            signed(d.mean),
            d.split
                .and_then(|s| s.parametric_share())
                .map_or("—".into(), |s| format!("{:.0}%", 100.0 * s))
        );
    }
}
