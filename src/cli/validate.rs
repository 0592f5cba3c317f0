//! `diaspora validate`: check a scenario and summarise it on one screen.

use clap::Args;

use diaspora::calibrate::Config;
use diaspora::engine::PlaceKind;
use diaspora::observed;
use diaspora::scenario::{Scenario, freedom};

use super::{CliError, ScenarioArgs};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// A calibration file of this scenario: the degrees of freedom then count what it estimates
    /// (free constants, free schedule knots) apart from the hand-set values.
    #[arg(long, value_name = "CALIBRATION.toml")]
    calibration: Option<std::path::PathBuf>,
}

pub fn validate(args: ValidateArgs) -> Result<(), CliError> {
    let overrides = args.scenario.overrides()?;
    let s = Scenario::load(&args.scenario.scenario, &overrides)?;
    let free = match &args.calibration {
        Some(file) => {
            let c = Config::read(file)?;
            freedom::Freed {
                constants: c.parameters.iter().map(|p| p.path.clone()).collect(),
                schedules: c
                    .schedules
                    .iter()
                    .map(|x| (x.path.clone(), x.years.len()))
                    .collect(),
            }
        }
        None => freedom::Freed::default(),
    };
    super::warn(&s);
    let m = &s.model;
    say!("{} — {}", s.name, s.description);
    say!("file       {} (hash {})", s.path.display(), &s.hash[..16]);
    say!(
        "years      {}–{} monthly ({} months); seed {}; {} replicate(s); {} person(s) per agent",
        s.run.start_year,
        s.run.end_year,
        m.months(),
        s.run.seed,
        s.run.replicates,
        s.run.persons_per_agent
    );
    for kind in [
        PlaceKind::Origin,
        PlaceKind::Transit,
        PlaceKind::Resettlement,
        PlaceKind::Host,
    ] {
        let ids: Vec<&str> = m
            .places
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.id.as_str())
            .collect();
        say!(
            "{:<10} {}",
            format!("{kind:?}").to_lowercase(),
            ids.join(" ")
        );
    }
    say!("routes     {}", m.routes.len());
    let reporting: Vec<&str> = s
        .raw
        .hosts
        .iter()
        .filter(|(_, h)| h.reports)
        .map(|(id, _)| id.as_str())
        .collect();
    say!(
        "hosts      {} ({} reporting: {})",
        s.raw.hosts.len(),
        reporting.len(),
        reporting.join(" ")
    );
    say!(
        "events     {}",
        if s.raw.events.is_empty() { "none" } else { "" }
    );
    for (name, e) in &s.raw.events {
        let state = if e.enabled { "" } else { " [disabled]" };
        say!("  {name:<34} {}–{}{state}  {}", e.from, e.to, e.description);
    }
    let series: Vec<&str> = s
        .observation
        .series
        .iter()
        .map(|x| x.name.as_str())
        .collect();
    say!("observes   {}", series.join(" "));
    print_freedom(&s, &free, args.calibration.is_some());
    say!(
        "free parameters: {} numeric values settable with --set",
        s.numeric_values().len()
    );
    say!("ok");
    Ok(())
}

/// One line per declared series: the hand-set time-specific values acting on it against the
/// observed points it has (README, "Degrees of freedom").
fn print_freedom(s: &Scenario, free: &freedom::Freed, calibrated: bool) {
    let origin = {
        let id = &s.raw.exit.origin;
        s.raw.places[id].iso3.clone().unwrap_or_else(|| id.clone())
    };
    let obs = match observed::load_sources(&s.observed, &origin) {
        _ if s.observed.is_empty() => {
            say!(
                "observed   none named: `diaspora compare`, `plot` and `calibrate` need the origin's published series (name the files in `observed`; README, \"Observed data\")"
            );
            None
        }
        Ok(o) => Some(o),
        Err(e) => {
            say!("observed   cannot be read: {e}");
            None
        }
    };
    say!(
        "degrees of freedom (hand-set time-specific values acting on each series: knots after the first, event multipliers, part-time routes):"
    );
    for f in freedom::count_with(s, free) {
        let spec = s
            .observation
            .series
            .iter()
            .find(|x| x.name == f.series)
            .expect("declared");
        let points = obs.as_ref().map(|o| {
            spec.places
                .iter()
                .filter_map(|&p| o.get(&f.series, &s.model.places[usize::from(p)].id, "total"))
                .map(|years| {
                    years
                        .keys()
                        .filter(|y| (s.run.start_year..=s.run.end_year).contains(y))
                        .count()
                })
                .sum::<usize>()
        });
        let against = match points {
            Some(n) => format!("{n} observed points"),
            None => "no observed data named".to_string(),
        };
        let estimated = if calibrated {
            format!(
                "; estimated: {} free schedule knots after the first, {} free constants",
                f.free_knots, f.free_constants
            )
        } else {
            String::new()
        };
        say!(
            "  {:<32} {:>3} hand-set ({} knots, {} event multipliers, {} route windows){estimated} vs {against}",
            f.series,
            f.total(),
            f.knots,
            f.multipliers,
            f.windows
        );
    }
}
