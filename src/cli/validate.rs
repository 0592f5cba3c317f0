//! `diaspora validate`: check a scenario and summarise it on one screen.

use clap::Args;

use diaspora::engine::PlaceKind;
use diaspora::observed;
use diaspora::scenario::{Scenario, freedom};

use super::{CliError, ScenarioArgs};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
}

pub fn validate(args: ValidateArgs) -> Result<(), CliError> {
    let overrides = args.scenario.overrides()?;
    let s = Scenario::load(&args.scenario.scenario, &overrides)?;
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
    print_freedom(&s);
    say!(
        "free parameters: {} numeric values settable with --set",
        s.numeric_values().len()
    );
    say!("ok");
    Ok(())
}

/// One line per declared series: the hand-set time-specific values acting on it against the
/// observed points it has (README, "Degrees of freedom").
fn print_freedom(s: &Scenario) {
    let origin = {
        let id = &s.raw.exit.origin;
        s.raw.places[id].iso3.clone().unwrap_or_else(|| id.clone())
    };
    let obs = (!s.observed.is_empty())
        .then(|| observed::load_sources(&s.observed, &origin).ok())
        .flatten();
    say!(
        "degrees of freedom (hand-set time-specific values acting on each series: knots after the first, event multipliers, part-time routes):"
    );
    for f in freedom::count(s) {
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
        say!(
            "  {:<32} {:>3} hand-set ({} knots, {} event multipliers, {} route windows) vs {against}",
            f.series,
            f.total(),
            f.knots,
            f.multipliers,
            f.windows
        );
    }
}
