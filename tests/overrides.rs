//! `--set` changes exactly the value it addresses, wherever it is, and nothing else.

mod common;

use diaspora::scenario::{Location, Override};
use toml::Value;

/// Every leaf of a TOML value as `(path, value)`.
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Table(t) => t.iter().for_each(|(k, v)| leaves(v, join(k), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, join(&i.to_string()), out)),
        other => out.push((path, other.clone())),
    }
}

fn resolved_leaves(sets: &[&str]) -> Vec<(String, Value)> {
    let s = common::load("scenarios/baseline.toml", sets);
    let table: toml::Table = toml::from_str(&s.resolved).unwrap();
    let mut out = Vec::new();
    leaves(&Value::Table(table), String::new(), &mut out);
    out
}

fn changed(sets: &[&str]) -> Vec<(String, Value)> {
    let base = resolved_leaves(&[]);
    let new = resolved_leaves(sets);
    assert_eq!(base.len(), new.len(), "same shape");
    base.into_iter()
        .zip(new)
        .filter(|(a, b)| a != b)
        .map(|(_, b)| b)
        .collect()
}

#[test]
fn set_changes_only_a_scalar() {
    let c = changed(&["hosts.GBR.recognition=0.4"]);
    assert_eq!(
        c,
        vec![("hosts.GBR.recognition".to_string(), Value::Float(0.4))]
    );
}

#[test]
fn set_changes_only_a_schedule_knot() {
    let c = changed(&["hosts.USA.resettlement_quota.values.1=20"]);
    assert_eq!(
        c,
        vec![(
            "hosts.USA.resettlement_quota.values.1".to_string(),
            Value::Float(20.0)
        )]
    );
}

#[test]
fn set_changes_only_an_event_multiplier() {
    let c = changed(&["events.famine.multiply.exit.push=3"]);
    assert_eq!(
        c,
        vec![(
            "events.famine.multiply.exit.push".to_string(),
            Value::Integer(3)
        )]
    );
}

#[test]
fn set_changes_a_default_that_the_file_does_not_write() {
    // hosts.RUS.check_effect is not in baseline.toml; it exists in the resolved scenario.
    let c = changed(&["hosts.RUS.check_effect=0.5"]);
    assert_eq!(
        c,
        vec![("hosts.RUS.check_effect".to_string(), Value::Float(0.5))]
    );
}

#[test]
fn set_changes_the_model() {
    let base = common::load("scenarios/baseline.toml", &[]);
    let set = common::load("scenarios/baseline.toml", &["exit.base_rate=2e-5"]);
    let y = 5;
    assert_eq!(set.model.origin.base_rate[y], 2e-5);
    assert_ne!(
        base.model.origin.base_rate[y],
        set.model.origin.base_rate[y]
    );
    assert_eq!(base.model.origin.push, set.model.origin.push);
    assert_ne!(base.hash, set.hash);
}

#[test]
fn unknown_path_is_refused_with_the_keys_that_exist() {
    let t = common::template("scenarios/baseline.toml");
    let e = t
        .instantiate(&[Override::parse("exit.base_rat=2e-5").unwrap()])
        .unwrap_err();
    assert_eq!(e.location, Location::Set("exit.base_rat=2e-5".into()));
    let text = e.to_string();
    assert!(text.starts_with("--set exit.base_rat=2e-5: exit.base_rat: unknown key `base_rat` in `exit` (expected one of: age, base_rate,"), "{text}");
    let e = t
        .instantiate(&[Override::parse("hosts.XXX.recognition=0.4").unwrap()])
        .unwrap_err();
    assert!(
        e.to_string().contains("unknown key `XXX` in `hosts`"),
        "{e}"
    );
    let e = t
        .instantiate(&[Override::parse("hosts.USA.resettlement_quota.values.9=1").unwrap()])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("is an array of 3: expected an index 0..3, found `9`"),
        "{e}"
    );
}

#[test]
fn invalid_value_is_reported_at_the_set() {
    let t = common::template("scenarios/baseline.toml");
    let e = t
        .instantiate(&[Override::parse("hosts.GBR.recognition=1.3").unwrap()])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set hosts.GBR.recognition=1.3: hosts.GBR.recognition: expected a probability in [0, 1], found 1.3"
    );
    let e = t
        .instantiate(&[Override::parse("run.replicates=lots").unwrap()])
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--set run.replicates=lots: run.replicates: expected a whole number >= 0, found the string \"lots\""),
        "{e}"
    );
}

/// `--set run.start_year` later than an event's first year clips the event to the run (with a
/// warning), and one that leaves nothing of an event drops it; the clipped event still acts.
#[test]
fn a_later_start_clips_and_drops_events_with_a_warning_each() {
    let full = common::load("scenarios/baseline.toml", &[]);
    let s = common::load("scenarios/baseline.toml", &["run.start_year=2010"]);
    let uk = &s.raw.events["uk_citizenship_checks"];
    assert_eq!((uk.from, uk.to), (2010, 2025));
    assert!(!s.raw.events.contains_key("famine"));
    assert!(!s.raw.events.contains_key("china_crackdown_2002"));
    let warnings: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "--set run.start_year=2010: events.china_crackdown_2002: 2002–2004 lies outside the run (2010..=2025): event left out",
            "--set run.start_year=2010: events.famine: 1995–1999 lies outside the run (2010..=2025): event left out",
            "--set run.start_year=2010: events.uk_citizenship_checks: 2009–2025 is clipped to 2010–2025, its part inside the run (2010..=2025)",
        ]
    );
    // The clipped event still multiplies GBR's check by 16 in 2010 (0.05 → 0.8).
    let gbr = s.model.places.iter().position(|p| p.id == "GBR").unwrap();
    let check = |sc: &diaspora::scenario::Scenario, y: usize| {
        sc.model.hosts[gbr].as_ref().unwrap().citizenship_check[y]
    };
    assert_eq!(check(&s, 0), check(&full, 2010 - 1990));
    assert!((check(&s, 0) - 0.8).abs() < 1e-12);
    assert!(full.warnings.is_empty());
}

/// A run lengthened with `--set run.end_year` keeps the routes the file leaves open for the
/// whole run open in the added years; a route with its own `years_open` keeps them.
#[test]
fn a_later_end_keeps_whole_run_routes_open() {
    let s = common::load("scenarios/baseline.toml", &["run.end_year=2030"]);
    let last = s.model.n_years - 1;
    let weight = |id: &str| s.model.routes.iter().find(|r| r.id == id).unwrap().weight[last];
    assert!(
        weight("PRK-CHN_NE") > 0.0,
        "a whole-run route is open in 2030"
    );
    assert_eq!(s.raw.routes["PRK-CHN_NE"].years_open, Some([1990, 2030]));
    let limited = s
        .raw
        .routes
        .iter()
        .find(|(_, r)| r.years_open == Some([1996, 2004]))
        .map(|(id, _)| id.clone())
        .unwrap();
    assert_eq!(weight(&limited), 0.0);
}
