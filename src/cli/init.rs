//! `diaspora init`: a small commented scenario for a new origin and a matching calibration
//! file, written only where no file exists yet.

use std::path::PathBuf;

use clap::Args;

use diaspora::output::write_atomic;
use diaspora::scaffold::{self, Request};

use super::CliError;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Scenario name: writes DIR/NAME.toml and DIR/calibration/NAME.toml.
    name: String,
    /// Country of origin, ISO3 (e.g. ERI).
    #[arg(long)]
    origin: String,
    /// Hosts, ISO3, comma-separated [default: the origin's largest refugee populations in the
    /// observed data].
    #[arg(long, value_delimiter = ',')]
    hosts: Option<Vec<String>>,
    /// Folder of the scenario (the calibration goes to DIR/calibration/).
    #[arg(long, default_value = "scenarios")]
    dir: PathBuf,
    /// Folder searched for observed data of the origin (project-layout folders and UNHCR-layout
    /// CSV files).
    #[arg(long, default_value = "data")]
    data: PathBuf,
}

pub fn init(a: InitArgs) -> Result<(), CliError> {
    let s = scaffold::scaffold(&Request {
        name: a.name,
        origin: a.origin,
        hosts: a.hosts,
        data: a.data.clone(),
        dir: a.dir,
    })
    .map_err(|e| CliError::Input(e.to_string()))?;
    for p in [&s.scenario_path, &s.calibration_path] {
        if p.exists() {
            return Err(CliError::Input(format!(
                "{}: exists; diaspora init never overwrites a file: choose another NAME or --dir",
                p.display()
            )));
        }
    }
    for (path, text) in [
        (&s.scenario_path, &s.scenario),
        (&s.calibration_path, &s.calibration),
    ] {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CliError::Input(format!("{}: cannot create: {e}", parent.display()))
            })?;
        }
        write_atomic(path, text.as_bytes()).map_err(|e| {
            CliError::Failure(
                anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
            )
        })?;
    }
    let (scenario, calibration) = (s.scenario_path.display(), s.calibration_path.display());
    say!("wrote {scenario} (hosts {})", s.hosts.join(", "));
    say!("wrote {calibration}");
    if s.sources.is_empty() {
        say!(
            "note: no observed data for this origin under {}: the scenario says where to put them; calibrate needs them",
            a.data.display()
        );
    } else {
        let names: Vec<String> = s.sources.iter().map(|p| p.display().to_string()).collect();
        say!("observed: {}", names.join(", "));
        if s.observed_hosts.len() < s.hosts.len() {
            let missing: Vec<&str> = s
                .hosts
                .iter()
                .filter(|h| !s.observed_hosts.contains(h))
                .map(String::as_str)
                .collect();
            say!(
                "note: no observed refugee stock for {} in the run's years: their targets will be refused until there is",
                missing.join(", ")
            );
        }
    }
    say!("next: diaspora validate {scenario}");
    say!("      diaspora run {scenario}");
    say!("      diaspora calibrate {calibration}");
    Ok(())
}
