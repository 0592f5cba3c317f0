//! `diaspora keys`: list a scenario's `--set` paths with their resolved values and meanings.

use clap::Args;

use diaspora::scenario::Scenario;
use diaspora::schema::keys;

use super::{CliError, ScenarioArgs};

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Show only paths containing this text, or matching it as a glob if it has `*`
    /// (e.g. 'hosts.*.recognition').
    pattern: Option<String>,
}

/// Values wider than this are not padded (the meaning follows after two spaces).
const VALUE_WIDTH: usize = 24;

pub fn list(args: KeysArgs) -> Result<(), CliError> {
    let overrides = args.scenario.overrides()?;
    let s = Scenario::load(&args.scenario.scenario, &overrides)?;
    let found = keys(&s, args.pattern.as_deref());
    if found.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no key matches {:?} (run `diaspora keys {}` for them all)",
            args.scenario.scenario.display(),
            args.pattern.unwrap_or_default(),
            args.scenario.scenario.display()
        )));
    }
    let path_width = found.iter().map(|k| k.path.len()).max().unwrap_or(0);
    let value_width = found
        .iter()
        .map(|k| k.value.chars().count())
        .filter(|&n| n <= VALUE_WIDTH)
        .max()
        .unwrap_or(0);
    for k in &found {
        let line = format!(
            "{:<path_width$}  {:<value_width$}  {}",
            k.path, k.value, k.meaning
        );
        say!("{}", line.trim_end());
    }
    Ok(())
}
