//! `diaspora schema`: the printed JSON Schemas accept every bundled input file (found at test
//! time, so new scenarios are checked too) and refuse files the parser refuses for an unknown
//! key or a wrong type. Validated with the `jsonschema` crate, an independent implementation.
//! `diaspora keys`: every listed path is a `--set` path holding the listed value, with a meaning.
//! `diaspora completions` and `diaspora man`: bash completes the real commands, one manual page
//! per command.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use diaspora::scenario::Override;
use diaspora::schema::keys;
use serde_json::Value;

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

/// The schema `diaspora schema KIND` prints, as a validator.
fn validator(kind: &str) -> jsonschema::Validator {
    let out = diaspora().args(["schema", kind]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{kind} schema: {e}"))
}

/// A TOML file as the JSON document a schema validator sees.
fn json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::to_value(table).unwrap()
}

/// Every `.toml` file under `dir`, at any depth.
fn tomls(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(tomls(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The kind of a bundled file, from the folder it lives in.
fn kind_of(path: &Path) -> &'static str {
    let parent = path.parent().and_then(Path::file_name).unwrap();
    match parent.to_str().unwrap() {
        "calibration" => "calibration",
        "sweeps" => "sweep",
        _ => "scenario",
    }
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| e.to_string()).collect()
}

#[test]
fn every_bundled_file_validates_against_its_schema() {
    let validators: Vec<(&str, jsonschema::Validator)> = ["scenario", "calibration", "sweep"]
        .into_iter()
        .map(|k| (k, validator(k)))
        .collect();
    let mut seen = [0; 3];
    for path in tomls(&common::path("scenarios")) {
        let kind = kind_of(&path);
        let i = validators.iter().position(|(k, _)| *k == kind).unwrap();
        let e = errors(&validators[i].1, &json(&path));
        assert!(e.is_empty(), "{path:?} against the {kind} schema: {e:#?}");
        seen[i] += 1;
    }
    assert!(seen.iter().all(|&n| n > 0), "files per kind: {seen:?}");
    // Test fixtures the parser accepts, including scenarios that extend another.
    for (rel, kind) in [
        ("tests/fixtures/minimal.toml", 0),
        ("tests/fixtures/calibration/scenario.toml", 0),
        ("tests/fixtures/calibration/recovery.toml", 1),
        ("tests/fixtures/sweeps/small.toml", 2),
        ("tests/fixtures/invalid/unknown-place.toml", 0),
    ] {
        let e = errors(&validators[kind].1, &json(&common::path(rel)));
        assert!(e.is_empty(), "{rel}: {e:#?}");
    }
}

#[test]
fn a_file_with_an_unknown_key_or_a_wrong_type_is_rejected() {
    let scenario = validator("scenario");
    for (rel, needle) in [
        ("tests/fixtures/invalid/unknown-key.toml", "recogniton"),
        ("tests/fixtures/invalid/wrong-type.toml", "often"),
    ] {
        let e = errors(&scenario, &json(&common::path(rel)));
        assert!(e.iter().any(|m| m.contains(needle)), "{rel}: {e:#?}");
    }
    // A full scenario (no `extends`) must have its required keys.
    let mut minimal = json(&common::path("tests/fixtures/minimal.toml"));
    minimal.as_object_mut().unwrap().remove("exit");
    assert!(!errors(&scenario, &minimal).is_empty());
    // A misspelt top-level key in a calibration and a sweep design.
    for (kind, rel) in [
        ("calibration", "scenarios/calibration/baseline.toml"),
        ("sweep", "scenarios/sweeps/baseline-sobol.toml"),
    ] {
        let mut doc = json(&common::path(rel));
        doc.as_object_mut()
            .unwrap()
            .insert("replicatez".into(), Value::from(3));
        let e = errors(&validator(kind), &doc);
        assert!(e.iter().any(|m| m.contains("replicatez")), "{kind}: {e:#?}");
    }
}

#[test]
fn every_key_listed_is_a_set_path_holding_its_value_with_a_meaning() {
    let template = common::template("tests/fixtures/minimal.toml");
    let scenario = template.instantiate(&[]).unwrap();
    let all = keys(&scenario, None);
    assert!(all.len() > 60, "{} keys", all.len());
    for k in &all {
        assert!(!k.meaning.is_empty(), "{} has no meaning", k.path);
        // Setting the listed value again changes nothing: the path exists and the value is it.
        let o = Override::parse(&format!("{}={}", k.path, k.value)).unwrap();
        let again = template
            .instantiate(&[o])
            .unwrap_or_else(|e| panic!("{}: {e}", k.path));
        assert_eq!(again.hash, scenario.hash, "{}={}", k.path, k.value);
    }
    let get = |path: &str| all.iter().find(|k| k.path == path).unwrap();
    assert_eq!(get("run.seed").value, "7");
    assert_eq!(
        get("hosts.HST.recognition").meaning,
        "Probability a decided claim is recognised."
    );
    // Defaults the file does not write are listed too.
    assert!(all.iter().any(|k| k.path == "deterrence.family_pressure"));
}

#[test]
fn keys_lists_resolved_values_filtered_by_a_pattern() {
    let out = diaspora()
        .args(["keys", "tests/fixtures/minimal.toml", "hosts.*.recognition"])
        .args(["--set", "hosts.HST.recognition=0.25"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(
        lines[0][..3],
        ["hosts.HST.recognition", "0.25", "Probability"]
    );
    diaspora()
        .args(["keys", "tests/fixtures/minimal.toml", "no_such_key"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no key matches \"no_such_key\""));
}

#[test]
fn bash_completes_commands_and_schema_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("diaspora.bash");
    let out = diaspora().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    fs::write(&script, &out.stdout).unwrap();
    // Run the completion function as bash would for `diaspora ke<TAB>` and
    // `diaspora schema <TAB>`.
    let probe = r#"source "$1"
        COMP_WORDS=(diaspora ke); COMP_CWORD=1; _diaspora diaspora ke diaspora; echo "${COMPREPLY[*]}"
        COMP_WORDS=(diaspora schema ""); COMP_CWORD=2; _diaspora diaspora "" schema; echo "${COMPREPLY[*]}""#;
    let run = std::process::Command::new("bash")
        .args(["-c", probe, "bash"])
        .arg(&script)
        .output()
        .expect("bash runs");
    let text = String::from_utf8(run.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"keys"),
        "{text}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let kinds: Vec<&str> = lines[1]
        .split(' ')
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(kinds, ["scenario", "calibration", "sweep"], "{text}");
}

#[test]
fn man_writes_one_page_per_command() {
    let out = diaspora().arg("man").output().unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH diaspora 1"), "{page}");
    assert!(
        page.contains("diaspora\\-keys(1)"),
        "the top page lists the commands: {page}"
    );
    let dir = tempfile::tempdir().unwrap();
    diaspora()
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in [
        "diaspora.1",
        "diaspora-run.1",
        "diaspora-keys.1",
        "diaspora-sweep-plan.1",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
    let run = fs::read_to_string(dir.path().join("diaspora-run.1")).unwrap();
    assert!(
        run.contains(".TH diaspora-run 1") && run.contains("\\-\\-set"),
        "{run}"
    );
}
