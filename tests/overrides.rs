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
