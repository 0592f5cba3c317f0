//! Limits a scenario must respect, checked before anything is allocated: the years a run may
//! cover, names that become folder names, ids unique without regard to case, and the number of
//! agents a replicate is expected to create (against a fixed ceiling here, and against the
//! memory the caller says is available in [`memory_needed`]).

use std::collections::BTreeMap;

use super::compile::{Ctx, Result};
use super::error::{Location, ScenarioError, Sources};
use crate::engine::Model;

/// First year a run may start in.
pub const FIRST_YEAR: i32 = 1800;
/// Last year a run may end in.
pub const LAST_YEAR: i32 = 2200;
/// Most agents one replicate is expected to create (leavers of the exit schedule plus the
/// starting stocks, before drivers): about 1.6 GB of agent columns.
pub const MAX_EXPECTED_AGENTS: f64 = 1e8;
/// Bytes one agent costs while its replicate runs: 13 in columns, about 2 in the calendar (16
/// measured, README "Limits on input"), and room for the columns' growth.
pub const BYTES_PER_AGENT: f64 = 24.0;
/// Longest duration a scenario may give, in months (5,000 years: beyond any run; drawn
/// durations are capped there too).
pub const MAX_MONTHS: f64 = 60_000.0;
/// Longest name of a scenario, calibration or sweep (it names a folder).
pub const MAX_NAME_LEN: usize = 100;

/// `run.start_year` and `run.end_year` within [`FIRST_YEAR`]`..=`[`LAST_YEAR`].
pub(super) fn check_years(src: &Sources, start: i32, end: i32) -> Result<()> {
    for (key, year) in [("start_year", start), ("end_year", end)] {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(src.error(
                &format!("run.{key}"),
                format!("expected a year in {FIRST_YEAR}..={LAST_YEAR}, found {year}"),
            ));
        }
    }
    Ok(())
}

/// A name that becomes a folder name (`output/<name>/`): 1 to [`MAX_NAME_LEN`] ASCII letters,
/// digits, `-`, `_` or `.`, not starting with `.` (so never `..`, a hidden folder or a path).
pub fn check_name(src: &Sources, path: &str, name: &str) -> std::result::Result<(), ScenarioError> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.starts_with('.')
        || !name.bytes().all(safe)
    {
        return Err(src.error(
            path,
            format!(
                "expected a name of 1 to {MAX_NAME_LEN} letters, digits, '-', '_' or '.', not \
                 starting with '.' (it names the output folder), found {name:?}"
            ),
        ));
    }
    Ok(())
}

/// Ids of one table (`places`, `routes`, `events`) that differ only by case are refused: they
/// name columns and files, and would be told apart by case alone.
pub(super) fn check_ids_differ_by_more_than_case<'a>(
    src: &Sources,
    table: &str,
    ids: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for id in ids {
        if let Some(other) = seen.insert(id.to_lowercase(), id) {
            // Report the one written last: in the most derived file, further down.
            let at = |id: &str| match src.key_error(&format!("{table}.{id}"), "").location {
                Location::File { file, line, .. } => {
                    let derived = src.files.iter().position(|f| f.name == file);
                    (std::cmp::Reverse(derived), line)
                }
                _ => (std::cmp::Reverse(None), 0),
            };
            let (first, last) = if at(other) < at(id) {
                (other, id.as_str())
            } else {
                (id.as_str(), other)
            };
            return Err(src.key_error(
                &format!("{table}.{last}"),
                format!("differs from `{first}` only by case: ids must differ in more than case"),
            ));
        }
    }
    Ok(())
}

/// Agents one replicate is expected to create: the leavers of the exit schedule
/// (`population × base_rate × push × (1 − family_pressure)` a month, before drivers) and the
/// starting stocks, in agents.
pub fn expected_agents(model: &Model) -> f64 {
    let o = &model.origin;
    let leavers: f64 = (0..model.n_years)
        .map(|y| 12.0 * o.population[y] * o.base_rate[y] * o.push[y] * (1.0 - o.family_pressure[y]))
        .sum::<f64>()
        / f64::from(model.persons_per_agent);
    let initial: f64 = model.initial.iter().map(|s| s.agents as f64).sum();
    leavers + initial
}

/// Refuses a scenario expected to create more than [`MAX_EXPECTED_AGENTS`] agents a replicate,
/// at the key that sets most of them.
pub(super) fn check_agents(cx: &Ctx<'_>, model: &Model) -> Result<()> {
    let agents = expected_agents(model);
    if agents.is_finite() && agents <= MAX_EXPECTED_AGENTS {
        return Ok(());
    }
    let initial: f64 = model.initial.iter().map(|s| s.agents as f64).sum();
    let at = if initial > agents / 2.0 {
        let largest = model
            .initial
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.agents)
            .map_or(0, |(i, _)| i);
        format!("initial.{largest}.persons")
    } else {
        "exit.population".to_string()
    };
    Err(cx.err(
        &at,
        format!(
            "the run is expected to create {agents:.3e} agents a replicate (leavers of \
             exit.population × exit.base_rate × exit.push, plus starting stocks, divided by \
             run.persons_per_agent), more than the limit of {MAX_EXPECTED_AGENTS:.0e}: raise \
             run.persons_per_agent or lower the rates"
        ),
    ))
}

/// Bytes a run needs when `concurrent` replicates are simulated at once.
pub fn memory_needed(model: &Model, concurrent: usize) -> f64 {
    expected_agents(model) * BYTES_PER_AGENT * concurrent.max(1) as f64
}

impl super::Template {
    /// Refuses a run of `scenario` (instantiated from this template) that needs more than
    /// `available` bytes with `concurrent` replicates simulated at once.
    pub fn check_memory(
        &self,
        scenario: &super::Scenario,
        concurrent: usize,
        available: u64,
    ) -> std::result::Result<(), ScenarioError> {
        let needed = memory_needed(&scenario.model, concurrent);
        if needed <= available as f64 {
            return Ok(());
        }
        let size = |b: f64| {
            if b >= 1e9 {
                format!("{:.1} GB", b / 1e9)
            } else {
                format!("{:.1} MB", b / 1e6)
            }
        };
        Err(self.sources.error(
            "exit.population",
            format!(
                "the run needs about {} ({:.3e} agents a replicate, {} replicate(s) at once), \
                 more than the {} of memory available: raise run.persons_per_agent, lower the \
                 rates or run fewer threads",
                size(needed),
                expected_agents(&scenario.model),
                concurrent.max(1),
                size(available as f64)
            ),
        ))
    }
}
