//! The sweep design file's schema, from a mirror of `sweep::design::RawDesign` (whose module
//! another change owns for now): the same fields, types, defaults and doc comments. A test
//! deserialises a file holding every mirrored key with the real type, so a key renamed or
//! removed there fails here; when `sweep::design` derives `JsonSchema` itself, this file goes.

#![allow(dead_code)] // The mirror is only read by schemars.

use schemars::JsonSchema;

/// How the points of a sweep are chosen.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Every combination of the parameters' levels or values (the first parameter varies
    /// slowest).
    Grid,
    /// Explicit points: the i-th value of every parameter, or the rows of a CSV file.
    List,
    /// Latin hypercube: every parameter's range cut into `points` equal strata, each hit once.
    Lhs,
    /// Scrambled Sobol sequence (hash-based Owen scrambling, seeded by the master seed).
    Sobol,
}

/// What each run contributes to the results.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outputs {
    /// Fit metrics against the observed data only.
    Fit,
    /// Fit metrics and the simulated values of every series that has an observed twin.
    Series,
}

/// Spacing of a range.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Uniform in the value.
    Linear,
    /// Uniform in the logarithm of the value (both ends must be positive).
    Log,
}

/// A sweep design: one scenario run at many parameter points, several replicates each.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Design {
    /// Scenario file, relative to the design file.
    pub scenario: String,
    /// Sweep name (default: the design file's stem).
    pub name: Option<String>,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// How points are chosen.
    pub method: Method,
    /// Number of points (`lhs` and `sobol` only).
    pub points: Option<i64>,
    /// CSV of points (`list` only), relative to the design file.
    pub points_file: Option<String>,
    /// Replicates per point (default 1).
    pub replicates: Option<i64>,
    /// Master seed (default 0).
    pub seed: Option<i64>,
    /// What to keep (default `fit`).
    pub outputs: Option<Outputs>,
    /// Observed data folder, relative to the design file (default: `data/observed` relative to
    /// the current folder).
    pub observed: Option<String>,
    /// Years compared with the observed data, `[first, last]` (default: all).
    pub years: Option<[i32; 2]>,
    /// The swept parameters, in column order.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// One `[[parameters]]` entry.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Scenario key path, as for `--set`.
    pub path: String,
    /// Lower end of a range.
    pub min: Option<f64>,
    /// Upper end of a range.
    pub max: Option<f64>,
    /// Spacing of a range (default `linear`).
    pub scale: Option<Scale>,
    /// Levels of a range on a grid (ends included).
    pub levels: Option<i64>,
    /// Explicit values (numbers or booleans).
    pub values: Option<Vec<NumberOrBool>>,
}

/// A swept value.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum NumberOrBool {
    /// A number.
    Number(f64),
    /// A boolean (e.g. an event switched on or off).
    Bool(bool),
}

#[cfg(test)]
mod tests {
    use crate::sweep::design::RawDesign;

    /// Every key of the mirror, at every level, is a key the real type reads.
    #[test]
    fn the_mirror_keys_are_the_design_keys() {
        let text = r#"
            scenario = "s.toml"
            name = "n"
            description = "d"
            method = "lhs"
            points = 4
            points_file = "p.csv"
            replicates = 2
            seed = 3
            outputs = "series"
            observed = "o"
            years = [2000, 2010]
            [[parameters]]
            path = "exit.push"
            min = 1
            max = 2
            scale = "log"
            levels = 3
            values = [1, true]
        "#;
        let raw: Result<RawDesign, _> = toml::from_str(text);
        assert!(raw.is_ok(), "{:?}", raw.err());
        let schema = super::super::schema(super::super::Kind::Sweep);
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys.len(),
            12,
            "{keys:?}: the test document must name every key"
        );
    }
}
