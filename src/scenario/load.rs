//! Reading scenario files: `extends` chains, deep merging, defaults made explicit, and `--set`.
//!
//! A scenario may start with `extends = "other.toml"` (a path relative to the file): the other
//! file is read first and this file's tables are merged into it key by key (arrays and values are
//! replaced whole). A counterfactual is then a few lines, e.g. switching one event off.
//!
//! Overrides (`--set key.path=value`) are applied to the *resolved* document, in which every
//! default is written out, so any value the schema has — including schedule knots
//! (`exit.push.values.2`) and event multipliers (`events.famine.multiply.exit.push`) — can be
//! set, and a path the schema does not have is refused with the keys that do exist.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::error::{Location, ScenarioError, SourceFile, Sources};
use super::raw::RawScenario;
use super::wording::Problem;

/// One `--set key.path=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Dotted key path; numeric segments index arrays.
    pub path: String,
    /// New value.
    pub value: Value,
    /// The argument as typed (for messages).
    pub arg: String,
}

impl Override {
    /// Parses `key.path=value`; the value is read as TOML (number, boolean, string, array or
    /// inline table), and as a plain string if it is not valid TOML.
    pub fn parse(arg: &str) -> Result<Override, ScenarioError> {
        let bad = |message: &str| ScenarioError {
            location: Location::Set(arg.to_string()),
            path: String::new(),
            message: message.to_string(),
        };
        let (path, raw) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key.path=value, found no '='"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad(
                "expected a dotted key path before '=', like hosts.GBR.recognition",
            ));
        }
        let raw = raw.trim();
        let value = toml::from_str::<Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(raw.to_string()));
        Ok(Override {
            path: path.to_string(),
            value,
            arg: arg.to_string(),
        })
    }

    /// An integer override built in code.
    pub fn integer(path: &str, value: i64) -> Override {
        Override {
            arg: format!("{path}={value}"),
            path: path.to_string(),
            value: Value::Integer(value),
        }
    }

    /// An override built in code (sweeps, calibration).
    pub fn number(path: &str, value: f64) -> Override {
        // Whole numbers are written as integers so that integer fields (years, counts) accept
        // them; float fields accept integers too.
        let value = if value.fract() == 0.0 && value.abs() < 1e15 {
            Value::Integer(value as i64)
        } else {
            Value::Float(value)
        };
        Override {
            arg: format!("{path}={value}"),
            path: path.to_string(),
            value,
        }
    }
}

/// A scenario read from disk with its defaults explicit, ready for overrides.
#[derive(Clone, Debug)]
pub struct Template {
    /// Where every value came from.
    pub sources: Sources,
    /// The resolved document (every default written out).
    pub table: Table,
    /// The file named by the user.
    pub path: PathBuf,
    /// Routes the files leave open for the whole run (no `years_open`): they stay open for
    /// the whole run when `--set` changes its years.
    whole_run: Vec<String>,
}

impl Template {
    /// Reads `path` and everything it extends. A file that `extends` names but that cannot be
    /// read, or that is already in the chain, is reported at that `extends` line.
    pub fn read(path: &Path) -> Result<Template, ScenarioError> {
        let mut files: Vec<SourceFile> = Vec::new();
        let mut tables = Vec::new();
        let mut chain: Vec<(PathBuf, String)> = Vec::new();
        let mut next = Some(path.to_path_buf());
        while let Some(file) = next.take() {
            let name = file.display().to_string();
            // The `extends` that named this file, if any: its problems are reported there.
            let via = files.last().map(|f| {
                let (line, col) = f.position("extends").unwrap_or((1, 1));
                Location::File {
                    file: f.name.clone(),
                    line,
                    col,
                }
            });
            let fail = |message: String| match &via {
                Some(location) => ScenarioError {
                    location: location.clone(),
                    path: "extends".into(),
                    message,
                },
                None => ScenarioError {
                    location: Location::FileOnly(name.clone()),
                    path: String::new(),
                    message,
                },
            };
            if file.is_dir() {
                return Err(fail(format!(
                    "`{name}` is a folder, expected a scenario file"
                )));
            }
            let text = std::fs::read_to_string(&file).map_err(|e| match via {
                Some(_) => fail(format!("cannot read scenario `{name}`: {e}")),
                None => fail(format!("cannot read scenario: {e}")),
            })?;
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            if chain.iter().any(|(c, _)| *c == canonical) {
                let names: Vec<&str> = chain.iter().map(|(_, n)| n.as_str()).collect();
                return Err(fail(format!(
                    "`{name}` is already in the chain ({} → {name}): extends may not loop",
                    names.join(" → ")
                )));
            }
            chain.push((canonical, name.clone()));
            let source = SourceFile::new(name.clone(), text)?;
            let mut table: Table = toml::from_str(&source.text).map_err(|e| ScenarioError {
                location: Location::FileOnly(name.clone()),
                path: String::new(),
                message: format!("invalid TOML: {}", e.message()),
            })?;
            if let Some(parent) = table.remove("extends") {
                let Value::String(parent) = parent else {
                    let single = Sources {
                        files: vec![source],
                        sets: vec![],
                    };
                    return Err(single.error(
                        "extends",
                        format!(
                            "expected the path of a scenario file, found {}",
                            super::wording::describe(&parent)
                        ),
                    ));
                };
                next = Some(file.parent().unwrap_or(Path::new(".")).join(&parent));
            }
            files.push(source);
            tables.push(table);
        }
        let mut merged = Table::new();
        for table in tables.into_iter().rev() {
            merge(&mut merged, table);
        }
        let sources = Sources {
            files,
            sets: Vec::new(),
        };
        if let Some((path, message)) = super::migrate::removed_key(&merged) {
            return Err(sources.key_error(&path, message));
        }
        let mut raw: RawScenario = deserialize(merged, &sources)?;
        let whole_run = fill_defaults(&mut raw);
        let table = Table::try_from(&raw)
            .map_err(|e| sources.error("", format!("cannot resolve scenario: {e}")))?;
        Ok(Template {
            sources,
            table,
            path: path.to_path_buf(),
            whole_run,
        })
    }

    /// Applies overrides and deserialises the result; the scenario is not yet validated. The
    /// warnings say which events a `--set` of the run's years clipped or left out.
    pub fn resolve(&self, overrides: &[Override]) -> Result<Resolved, ScenarioError> {
        let mut sources = self.sources.clone();
        sources.sets = overrides
            .iter()
            .map(|o| (o.path.clone(), o.arg.clone()))
            .collect();
        let mut table = self.table.clone();
        for o in overrides {
            apply(&mut table, o)?;
        }
        let warnings = super::shorten::adapt(&self.table, &mut table, overrides, &self.whole_run);
        let raw = deserialize(table, &sources)?;
        Ok((raw, sources, warnings))
    }
}

/// A scenario resolved from its files and overrides, where its values came from, and the
/// warnings about events a `--set` of the run's years clipped or left out.
pub type Resolved = (RawScenario, Sources, Vec<ScenarioError>);

/// Writes values the schema leaves open but that depend on other values (route years);
/// returns the routes open for the whole run.
fn fill_defaults(raw: &mut RawScenario) -> Vec<String> {
    let years = [raw.run.start_year, raw.run.end_year];
    let mut whole_run = Vec::new();
    for (id, route) in raw.routes.iter_mut() {
        if route.years_open.is_none() {
            whole_run.push(id.clone());
        }
        route.years_open.get_or_insert(years);
    }
    whole_run
}

/// Merges `child` into `base`: tables key by key, everything else replaced.
fn merge(base: &mut Table, child: Table) {
    for (key, value) in child {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(c)) => merge(b, c),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// Sets `o.path` in `table`; the path must already exist.
fn apply(table: &mut Table, o: &Override) -> Result<(), ScenarioError> {
    let err = |message: String| ScenarioError {
        location: Location::Set(o.arg.clone()),
        path: o.path.clone(),
        message,
    };
    let unknown = |seg: &str, here: &str, known: Vec<&str>| {
        let within = if here.is_empty() {
            "the scenario".to_string()
        } else {
            format!("`{here}`")
        };
        err(format!(
            "unknown key `{seg}` in {within} (expected one of: {})",
            known.join(", ")
        ))
    };
    let segments: Vec<&str> = o.path.split('.').collect();
    if !table.contains_key(segments[0]) {
        return Err(unknown(
            segments[0],
            "",
            table.keys().map(String::as_str).collect(),
        ));
    }
    let mut current = table.get_mut(segments[0]).expect("checked");
    for depth in 1..segments.len() {
        let seg = segments[depth];
        let here = segments[..depth].join(".");
        current = match current {
            Value::Table(t) => {
                if !t.contains_key(seg) {
                    return Err(unknown(seg, &here, t.keys().map(String::as_str).collect()));
                }
                t.get_mut(seg).expect("checked")
            }
            Value::Array(a) => {
                let len = a.len();
                match seg.parse::<usize>() {
                    Ok(i) if i < len => &mut a[i],
                    _ => {
                        return Err(err(format!(
                            "`{here}` is an array of {len}: expected an index 0..{len}, found `{seg}`"
                        )));
                    }
                }
            }
            _ => {
                return Err(err(format!(
                    "`{here}` is a single value: it has no key `{seg}`"
                )));
            }
        };
    }
    *current = replacement(current, &o.value);
    Ok(())
}

/// The value an override writes: a number set on a parameter with drivers replaces its value
/// or knots and keeps the drivers; knots (`{ years, values }`) set on a parameter written as a
/// table keep its drivers and interpolation unless they name their own; anything else
/// replaces the old value whole.
fn replacement(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Table(t), Value::Integer(_) | Value::Float(_)) if t.contains_key("drivers") => {
            let mut kept = Table::new();
            kept.insert("value".into(), new.clone());
            kept.insert("drivers".into(), t["drivers"].clone());
            Value::Table(kept)
        }
        (Value::Table(t), Value::Table(knots)) if knots.contains_key("years") => {
            let mut kept = knots.clone();
            for key in ["drivers", "interpolation"] {
                if let (Some(v), false) = (t.get(key), knots.contains_key(key)) {
                    kept.insert(key.into(), v.clone());
                }
            }
            Value::Table(kept)
        }
        _ => new.clone(),
    }
}

/// Deserialises `table` into `T`, locating any error by key path and wording it in the file's
/// terms (see [`wording`](super::wording)).
pub fn deserialize<T: DeserializeOwned + JsonSchema>(
    table: Table,
    sources: &Sources,
) -> Result<T, ScenarioError> {
    let value = Value::Table(table);
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let mut path: Vec<String> = e
            .path()
            .iter()
            .map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => index.to_string(),
                serde_path_to_error::Segment::Map { key } => key.clone(),
                serde_path_to_error::Segment::Enum { variant } => variant.clone(),
                serde_path_to_error::Segment::Unknown => "?".to_string(),
            })
            .collect();
        let schema = crate::schema::generate::<T>();
        let problem = Problem::read(e.inner().message(), &value, &schema, &mut path);
        if matches!(problem, Problem::UnknownKey { .. }) {
            sources.key_error(&path.join("."), problem.to_string())
        } else {
            sources.error(&path.join("."), problem.to_string())
        }
    })
}

/// Reads a small TOML file (not a scenario: no `extends`, no `--set`) into `T`, every error
/// located (`file:line:col: key.path: …`); `what` names the file in a read error. Returns the
/// file's `Sources` for the checks that follow.
pub fn read_toml_file<T: DeserializeOwned + JsonSchema>(
    path: &Path,
    what: &str,
) -> Result<(T, Sources), ScenarioError> {
    let name = path.display().to_string();
    let file_error = |message: String| ScenarioError {
        location: Location::FileOnly(name.clone()),
        path: String::new(),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(format!("cannot read {what}: {e}")))?;
    let source = SourceFile::new(name.clone(), text)?;
    let table: Table = toml::from_str(&source.text)
        .map_err(|e| file_error(format!("invalid TOML: {}", e.message())))?;
    let sources = Sources {
        files: vec![source],
        sets: Vec::new(),
    };
    Ok((deserialize(table, &sources)?, sources))
}
