//! A scenario mutator: random edits to every bundled scenario — a key deleted, a value of
//! another type, a number pushed out of range, a table duplicated, ids swapped, a line
//! repeated, dropped or cut — must each give a valid scenario or one located line of error in
//! the file's words, never a panic. The mutants that validate also run (a few years, one
//! replicate) without a panic or an engine error. Some go through the binary: exit 0 or 2,
//! one line on a refusal, and a complete output folder or none at all.
//!
//! The edits are drawn from a seeded generator, so a failure names the seed, the mutant and its
//! text and can be replayed.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use diaspora::ensemble;
use diaspora::scenario::limits::expected_agents;
use diaspora::scenario::{Override, Template};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use toml::{Table, Value};

/// Mutants per bundled scenario (library path) and the seed of their edits:
/// `DIASPORA_FUZZ_MUTANTS` and `DIASPORA_FUZZ_SEED` ask for a longer or another search than
/// the bounded one `cargo test` runs.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}
/// Mutants per bundled scenario that also go through the binary.
const THROUGH_BINARY: usize = 4;
/// Years a valid mutant is run for.
const YEARS: i64 = 5;
/// Largest expected number of agents a valid mutant is run with (a test must stay quick).
const MAX_AGENTS_TO_RUN: f64 = 2e6;

/// Words of serde and Rust that a message about a file must not use.
const JARGON: [&str; 15] = [
    "unit variant",
    "string only",
    "variant identifier",
    "wanted exactly",
    "untagged enum",
    "internally tagged",
    "invalid type",
    "invalid value",
    "invalid length",
    "a sequence",
    "expected u32",
    "expected u64",
    "expected i32",
    "expected f64",
    "expected struct",
];

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every node below the root, as a path.
fn nodes(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Table(t) => {
            for (k, child) in t {
                path.push(Seg::Key(k.clone()));
                out.push(path.clone());
                nodes(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(path.clone());
                nodes(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match (v, seg) {
        (Value::Table(t), Seg::Key(k)) => t.get_mut(k),
        (Value::Array(a), Seg::Index(i)) => a.get_mut(*i),
        _ => None,
    })
}

/// Every string value in the document (ids to swap in).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Table(t) => t.values().for_each(|c| strings(c, out)),
        Value::Array(a) => a.iter().for_each(|c| strings(c, out)),
        _ => {}
    }
}

/// A value of another kind than `v`.
fn other_kind(v: &Value, rng: &mut StdRng) -> Value {
    let candidates = [
        Value::Integer(rng.random_range(-3..40)),
        Value::Float(rng.random::<f64>() * 3.0),
        Value::String(["x", "", "month", "origin", "fixed"][rng.random_range(0..5)].into()),
        Value::Boolean(rng.random()),
        Value::Array(vec![Value::Integer(1), Value::String("a".into())]),
        Value::Table(Table::from_iter([("a".to_string(), Value::Integer(1))])),
    ];
    let same = |c: &Value| std::mem::discriminant(c) == std::mem::discriminant(v);
    let others: Vec<&Value> = candidates.iter().filter(|c| !same(c)).collect();
    others[rng.random_range(0..others.len())].clone()
}

/// `v` pushed out of the range it is meant to be in.
fn out_of_range(v: &Value, rng: &mut StdRng) -> Value {
    match v {
        Value::Integer(i) => Value::Integer(
            [
                -1,
                0,
                -i,
                i.saturating_mul(1_000_000),
                i64::MAX,
                i64::MIN,
                1 << 40,
            ][rng.random_range(0..7)],
        ),
        Value::Float(x) => Value::Float(
            [
                -x,
                0.0,
                x * 1e12,
                1e300,
                f64::NAN,
                f64::INFINITY,
                -1e-9,
                1.5,
            ][rng.random_range(0..8)],
        ),
        Value::String(s) => Value::String(
            [
                String::new(),
                "../../escape".into(),
                s.to_lowercase(),
                s.to_uppercase(),
                format!("{s}{s}"),
                "ÿ\u{0}".into(),
            ][rng.random_range(0..6)]
            .clone(),
        ),
        Value::Array(a) => match rng.random_range(0..3) {
            0 => Value::Array(Vec::new()),
            1 => Value::Array(a.iter().chain(a).cloned().collect()),
            _ => Value::Array(a.iter().rev().cloned().collect()),
        },
        Value::Table(_) => Value::Table(Table::new()),
        other => other_kind(other, rng),
    }
}

/// Applies one random edit to `doc` and says what it did.
fn edit(doc: &mut Value, rng: &mut StdRng) -> String {
    let mut paths = Vec::new();
    nodes(doc, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        return "nothing to edit".into();
    }
    let path = paths[rng.random_range(0..paths.len())].clone();
    let (last, parent) = path.split_last().expect("a path below the root");
    let shown = format!("{path:?}");
    match rng.random_range(0..5) {
        0 => {
            let p = node_mut(doc, parent).expect("parent");
            match (p, last) {
                (Value::Table(t), Seg::Key(k)) => {
                    t.remove(k);
                }
                (Value::Array(a), Seg::Index(i)) => {
                    a.remove(*i);
                }
                _ => {}
            }
            format!("delete {shown}")
        }
        1 => {
            let n = node_mut(doc, &path).expect("node");
            *n = other_kind(n, rng);
            format!("change the type of {shown}")
        }
        2 => {
            let n = node_mut(doc, &path).expect("node");
            *n = out_of_range(n, rng);
            format!("push {shown} out of range")
        }
        3 => {
            let copy = node_mut(doc, &path).expect("node").clone();
            let p = node_mut(doc, parent).expect("parent");
            match (p, last) {
                (Value::Table(t), Seg::Key(k)) => {
                    let new = [k.to_lowercase(), k.to_uppercase(), format!("{k}_2")]
                        [rng.random_range(0..3)]
                    .clone();
                    t.insert(new, copy);
                }
                (Value::Array(a), _) => a.push(copy),
                _ => {}
            }
            format!("duplicate {shown}")
        }
        _ => {
            let mut pool = Vec::new();
            strings(doc, &mut pool);
            let p = node_mut(doc, parent).expect("parent");
            match (p, last) {
                // Swap the values of two keys of a table (two places, two routes…).
                (Value::Table(t), Seg::Key(k)) if t.len() > 1 => {
                    let keys: Vec<String> = t.keys().cloned().collect();
                    let others: Vec<&String> = keys.iter().filter(|o| *o != k).collect();
                    let other = others[rng.random_range(0..others.len())].clone();
                    let a = t.remove(k).expect("key");
                    let b = t.remove(&other).expect("key");
                    t.insert(other.clone(), a);
                    t.insert(k.clone(), b);
                    format!("swap {shown} with {other}")
                }
                // Put another id (any string of the document) where a string was.
                (p, last) if !pool.is_empty() => {
                    let id = pool[rng.random_range(0..pool.len())].clone();
                    if let Some(n) = node_mut(p, std::slice::from_ref(last)) {
                        *n = Value::String(id.clone());
                    }
                    format!("write {id:?} at {shown}")
                }
                _ => "nothing".into(),
            }
        }
    }
}

/// A line repeated, a line dropped, or the text cut short.
fn edit_text(text: &str, rng: &mut StdRng) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let i = rng.random_range(0..lines.len().max(1));
    match rng.random_range(0..3) {
        0 => {
            let mut v = lines.clone();
            v.insert(i, lines.get(i).copied().unwrap_or(""));
            (v.join("\n"), format!("repeat line {}", i + 1))
        }
        1 => {
            let mut v = lines.clone();
            if i < v.len() {
                v.remove(i);
            }
            (v.join("\n"), format!("drop line {}", i + 1))
        }
        _ => {
            let cut = text
                .char_indices()
                .map(|(j, _)| j)
                .nth(rng.random_range(0..text.chars().count().max(1)))
                .unwrap_or(0);
            (text[..cut].to_string(), format!("cut at byte {cut}"))
        }
    }
}

/// A bundled scenario as a document, its `extends` made absolute (mutants live elsewhere).
fn bundled(path: &Path) -> Value {
    let mut table: Table = fs::read_to_string(path).unwrap().parse().unwrap();
    if let Some(Value::String(parent)) = table.get("extends") {
        let abs = path.parent().unwrap().join(parent);
        table.insert("extends".into(), Value::String(abs.display().to_string()));
    }
    Value::Table(table)
}

/// One mutant's text and what was done to it.
fn mutant(base: &Value, rng: &mut StdRng) -> (String, Vec<String>) {
    let mut doc = base.clone();
    let mut done: Vec<String> = (0..rng.random_range(1..3))
        .map(|_| edit(&mut doc, rng))
        .collect();
    let text = toml::to_string(&doc).unwrap_or_default();
    if rng.random_range(0..8) == 0 {
        let (text, what) = edit_text(&text, rng);
        done.push(what);
        return (text, done);
    }
    (text, done)
}

fn scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(common::path("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    files
}

/// What the library made of a mutant.
enum Outcome {
    /// It validated (and ran, if small enough).
    Valid,
    /// It was refused with this one-line error.
    Refused(String),
}

/// Validates a mutant and runs it if it is valid; panics (the test fails) on a panic, a
/// message of several lines or in serde's words, or an engine error.
fn check(file: &Path, context: &str) -> Outcome {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let template = Template::read(file)?;
        let scenario = template.instantiate(&[])?;
        let start = i64::from(scenario.run.start_year);
        let end = i64::from(scenario.run.end_year).min(start + YEARS - 1);
        let short = template.instantiate(&[
            Override::integer("run.end_year", end),
            Override::integer("run.replicates", 1),
        ])?;
        if expected_agents(&short.model) <= MAX_AGENTS_TO_RUN
            && let Err(e) = ensemble::run(&short)
        {
            panic!("a valid mutant's run failed: {e}");
        }
        Ok::<(), diaspora::scenario::ScenarioError>(())
    }));
    match outcome {
        Err(_) => panic!("panic on a mutant: {context}"),
        Ok(Ok(())) => Outcome::Valid,
        Ok(Err(e)) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message}\n{context}");
            assert!(
                !JARGON.iter().any(|j| message.contains(j)),
                "jargon in: {message}\n{context}"
            );
            Outcome::Refused(message)
        }
    }
}

/// Every bundled scenario, mutated many times through the library: a scenario or a located
/// line of error, never a panic.
#[test]
fn mutated_scenarios_validate_or_are_refused_in_one_line_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (s, path) in scenarios().iter().enumerate() {
        let base = bundled(path);
        let mut rng = StdRng::seed_from_u64(setting("DIASPORA_FUZZ_SEED", 0x13_0000) + s as u64);
        let file = dir.path().join("mutant.toml");
        for m in 0..setting("DIASPORA_FUZZ_MUTANTS", 300) {
            let (text, done) = mutant(&base, &mut rng);
            fs::write(&file, &text).unwrap();
            let context = format!(
                "{} mutant {m}: {}\n--- text ---\n{text}",
                path.display(),
                done.join("; ")
            );
            let c = counts.entry(path.display().to_string()).or_default();
            match check(&file, &context) {
                Outcome::Valid => c.0 += 1,
                Outcome::Refused(message) => {
                    assert!(
                        message.starts_with(&file.display().to_string())
                            || message
                                .starts_with(&common::path("scenarios").display().to_string()),
                        "not located in a file: {message}\n{context}"
                    );
                    c.1 += 1;
                }
            }
        }
    }
    for (file, (valid, refused)) in &counts {
        eprintln!("{file}: {valid} mutants valid (and run), {refused} refused");
        assert!(*refused > 0 && *valid > 0, "{file}: both kinds of mutant");
    }
}

/// A few mutants through the binary: exit 0 with a complete folder, or exit 2 with one line
/// and nothing written.
#[test]
fn mutated_scenarios_through_the_binary_exit_0_or_2_and_leave_a_whole_folder_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = [0usize; 2];
    for (s, path) in scenarios().iter().enumerate() {
        let base = bundled(path);
        let mut rng = StdRng::seed_from_u64(0x13_1000 + s as u64);
        for m in 0..THROUGH_BINARY {
            let (text, done) = mutant(&base, &mut rng);
            let file = dir.path().join(format!("mutant-{s}-{m}.toml"));
            fs::write(&file, &text).unwrap();
            let large = diaspora::scenario::Scenario::load(&file, &[])
                .is_ok_and(|sc| expected_agents(&sc.model) > MAX_AGENTS_TO_RUN);
            if large {
                continue;
            }
            let out = dir.path().join(format!("out-{s}-{m}"));
            let o = assert_cmd::Command::cargo_bin("diaspora")
                .unwrap()
                .env_remove("RUST_BACKTRACE")
                .arg("run")
                .arg(&file)
                .args(["--replicates", "1", "--threads", "1", "--out"])
                .arg(&out)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            let context = format!(
                "{} mutant {m}: {}\n{stderr}",
                path.display(),
                done.join("; ")
            );
            match o.status.code() {
                Some(0) => {
                    seen[0] += 1;
                    let manifest: Table = fs::read_to_string(out.join("manifest.toml"))
                        .unwrap()
                        .parse()
                        .unwrap();
                    let files = manifest["files"].as_table().unwrap();
                    assert!(files.len() >= 3, "{context}");
                    for (name, hash) in files {
                        let bytes = fs::read(out.join(name)).unwrap();
                        assert_eq!(
                            blake3::hash(&bytes).to_hex().as_str(),
                            hash.as_str().unwrap(),
                            "{name}: {context}"
                        );
                    }
                }
                Some(2) => {
                    seen[1] += 1;
                    assert_eq!(stderr.lines().count(), 1, "{context}");
                    assert!(stderr.starts_with("error: "), "{context}");
                    assert!(!out.exists(), "nothing written: {context}");
                }
                other => panic!("exit {other:?}: {context}"),
            }
        }
    }
    let debris: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(debris.is_empty(), "{debris:?}");
    eprintln!("binary: {} mutants ran, {} were refused", seen[0], seen[1]);
}
