//! A run whose years `--set` changes (`run.start_year`, `run.end_year`), e.g. shortened for a
//! quick look: the events the files date inside their own run but outside the new one are
//! clipped to the new run, or dropped when nothing of them is left, each with a warning; routes
//! the files leave open for the whole run stay open for the whole new run.
//!
//! Only what the files wrote is adapted: an event outside the files' own run, or one whose
//! years a `--set` wrote, is checked as written (and refused if it lies outside the run).

use toml::{Table, Value};

use super::error::{Location, ScenarioError};
use super::load::Override;

/// First and last year of the run in a resolved document, if both are whole numbers.
fn years(doc: &Table) -> Option<(i64, i64)> {
    let run = doc.get("run")?.as_table()?;
    Some((
        run.get("start_year")?.as_integer()?,
        run.get("end_year")?.as_integer()?,
    ))
}

/// Whether an override writes `path` or something inside it.
fn sets(overrides: &[Override], path: &str) -> bool {
    overrides
        .iter()
        .any(|o| o.path == path || o.path.starts_with(&format!("{path}.")))
}

/// Adapts `doc` (the resolved files, `overrides` applied) to run years that the overrides
/// changed from the files' `file` document. `whole_run` lists the routes the files leave open
/// for the whole run. Returns a warning for every event clipped or dropped.
pub(super) fn adapt(
    file: &Table,
    doc: &mut Table,
    overrides: &[Override],
    whole_run: &[String],
) -> Vec<ScenarioError> {
    let (Some((file_start, file_end)), Some((start, end))) = (years(file), years(doc)) else {
        return Vec::new();
    };
    if (start, end) == (file_start, file_end) || end < start {
        return Vec::new();
    }
    let by = overrides
        .iter()
        .rev()
        .find(|o| o.path == "run.start_year" || o.path == "run.end_year")
        .map_or_else(String::new, |o| o.arg.clone());
    if let Some(Value::Table(routes)) = doc.get_mut("routes") {
        for id in whole_run {
            if let Some(Value::Table(route)) = routes.get_mut(id)
                && !sets(overrides, &format!("routes.{id}.years_open"))
            {
                let open = vec![Value::Integer(start), Value::Integer(end)];
                route.insert("years_open".into(), Value::Array(open));
            }
        }
    }
    let mut warnings = Vec::new();
    let Some(Value::Table(events)) = doc.get_mut("events") else {
        return warnings;
    };
    let mut dropped = Vec::new();
    for (name, event) in events.iter_mut() {
        let path = format!("events.{name}");
        let Value::Table(event) = event else { continue };
        let (Some(from), Some(to)) = (
            event.get("from").and_then(Value::as_integer),
            event.get("to").and_then(Value::as_integer),
        ) else {
            continue;
        };
        let written = from >= file_start && to <= file_end && from <= to;
        if !written
            || sets(overrides, &format!("{path}.from"))
            || sets(overrides, &format!("{path}.to"))
        {
            continue;
        }
        let warn = |message: String| ScenarioError {
            location: Location::Set(by.clone()),
            path: path.clone(),
            message,
        };
        if to < start || from > end {
            warnings.push(warn(format!(
                "{from}–{to} lies outside the run ({start}..={end}): event left out"
            )));
            dropped.push(name.clone());
        } else if from < start || to > end {
            let (a, b) = (from.max(start), to.min(end));
            event.insert("from".into(), Value::Integer(a));
            event.insert("to".into(), Value::Integer(b));
            warnings.push(warn(format!(
                "{from}–{to} is clipped to {a}–{b}, its part inside the run ({start}..={end})"
            )));
        }
    }
    for name in dropped {
        events.remove(&name);
    }
    warnings
}
