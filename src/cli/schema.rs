//! `diaspora schema`: print the JSON Schema of a scenario, calibration or sweep design file.

use clap::{Args, ValueEnum};

use diaspora::schema::{Kind, schema};

use super::CliError;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Which file the schema describes.
    kind: KindArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    Scenario,
    Calibration,
    Sweep,
}

pub fn print(args: SchemaArgs) -> Result<(), CliError> {
    let kind = match args.kind {
        KindArg::Scenario => Kind::Scenario,
        KindArg::Calibration => Kind::Calibration,
        KindArg::Sweep => Kind::Sweep,
    };
    let text = serde_json::to_string_pretty(&schema(kind))
        .map_err(|e| CliError::Failure(anyhow::anyhow!("cannot write the schema: {e}")))?;
    say!("{text}");
    Ok(())
}
