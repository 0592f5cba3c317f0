//! The words of a type error in an input file: what a key expected, as the file would write it
//! (`one of origin, transit, resettlement, host`, `a whole number >= 0`), and what it found,
//! described from the value actually written (`the integer 5`, `a table`) — never Rust's type
//! names or serde's vocabulary (`u32`, `unit variant`, `variant identifier`).
//!
//! serde and toml report a problem as text; [`Problem::read`] sorts that text into cases once,
//! reading the expected values (an enum's variants, an array's length) from the file's JSON
//! Schema, and `Display` words each case.

use std::fmt;

use serde_json::Value as Json;
use toml::Value;

use crate::schema;

/// A problem serde found while reading a file into its types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Problem {
    /// A key the table does not have.
    UnknownKey {
        /// Keys it has (empty: the table takes none).
        expected: Vec<String>,
    },
    /// A required key left out.
    MissingKey(String),
    /// A value of the wrong kind or out of range.
    Expected {
        /// What the key takes.
        expected: String,
        /// What the file holds there.
        found: String,
    },
    /// Anything else, as serde worded it.
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownKey { expected } if expected.is_empty() => {
                f.write_str("unknown key (this table takes no keys)")
            }
            Problem::UnknownKey { expected } => {
                write!(f, "unknown key (expected one of: {})", expected.join(", "))
            }
            Problem::MissingKey(key) => write!(f, "missing required key `{key}`"),
            Problem::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            Problem::Other(m) => f.write_str(m),
        }
    }
}

impl Problem {
    /// Sorts serde's `message` about the key at `path` of `doc` (whose schema is `schema`).
    /// An unknown key is appended to `path` when serde names it only in the message.
    pub(super) fn read(message: &str, doc: &Value, schema: &Json, path: &mut Vec<String>) -> Self {
        let message = message.trim();
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (field, tail) = rest.split_once('`').unwrap_or((rest, ""));
            if path.last().map(String::as_str) != Some(field) {
                path.push(field.to_string());
            }
            let expected = if tail.contains("there are no fields") {
                Vec::new()
            } else {
                backticked(tail)
            };
            return Problem::UnknownKey { expected };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            return Problem::MissingKey(rest.trim_end_matches('`').to_string());
        }
        // A table given to an enum is read as `{ variant = … }`, and an array given to a tagged
        // table as `[tag, …]`: the error is about the enum or the table, not what is inside.
        if path.len() > 1 {
            let parent = &path[..path.len() - 1];
            let inside = match value_at(doc, parent) {
                Some(Value::Table(_)) => schema::choices(schema, parent).is_some(),
                Some(Value::Array(_)) => {
                    schema::tagged(schema, parent).is_some() || schema::is_table(schema, parent)
                }
                _ => false,
            };
            if inside {
                path.pop();
            }
        }
        let value = value_at(doc, path);
        let found = value.map_or_else(|| "nothing".to_string(), describe);
        let expected = |what: String| Problem::Expected {
            expected: what,
            found: found.clone(),
        };
        if let Some(choices) = schema::choices(schema, path) {
            return expected(one_of(&choices));
        }
        if matches!(value, Some(Value::Array(_))) && schema::is_table(schema, path) {
            return expected("a table".into());
        }
        if let Some((tag, choices)) = schema::tagged(schema, path)
            && let Some(Value::Table(t)) = value
            && t.get(&tag)
                .and_then(Value::as_str)
                .is_some_and(|v| choices.iter().any(|c| c == v))
        {
            // A variant read whole (serde cannot say which of its keys is wrong): its keys
            // are numbers, so the first that is not one is the problem.
            if let Some((key, v)) = t
                .iter()
                .find(|(k, v)| **k != tag && !matches!(v, Value::Integer(_) | Value::Float(_)))
            {
                path.push(key.clone());
                return Problem::Expected {
                    expected: "a number".into(),
                    found: describe(v),
                };
            }
        }
        if let Some((tag, choices)) = schema::tagged(schema, path) {
            return expected(format!(
                "a table with `{tag}` = {}, e.g. {{ {tag} = \"{}\", … }}",
                one_of(&choices),
                choices[0]
            ));
        }
        if let Some(rest) = message.strip_prefix("invalid length ") {
            let len = schema::fixed_len(schema, path).map_or_else(
                || rust_words(rest.split_once(", expected ").map_or("", |(_, e)| e), false),
                |n| format!("an array of {n} values"),
            );
            return expected(len);
        }
        if let Some(rest) = message
            .strip_prefix("invalid type: ")
            .or_else(|| message.strip_prefix("invalid value: "))
            && let Some((_, what)) = rest.split_once(", expected ")
        {
            let integer = matches!(value, Some(Value::Integer(_)));
            return expected(rust_words(what, integer));
        }
        if let Some(what) = message.strip_prefix("expected ")
            && !what.contains(", found")
        {
            return expected(what.to_string());
        }
        Problem::Other(message.to_string())
    }
}

/// `one of a, b, c`
fn one_of(choices: &[String]) -> String {
    match choices {
        [one] => format!("\"{one}\""),
        _ => format!("one of {}", choices.join(", ")),
    }
}

/// The names between backticks in serde's "expected one of `a`, `b`".
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// What serde's `expected …` says, in the words of the file. `integer`: the value found is a
/// whole number (so the problem is its range, not its kind).
fn rust_words(what: &str, integer: bool) -> String {
    let range = |lo: i128, hi: i128| format!("a whole number in {lo}..={hi}");
    match what {
        "u8" if integer => range(0, u8::MAX.into()),
        "u16" if integer => range(0, u16::MAX.into()),
        "u32" if integer => range(0, u32::MAX.into()),
        "u64" | "usize" if integer => range(0, i64::MAX.into()),
        "i32" if integer => range(i32::MIN.into(), i32::MAX.into()),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number >= 0".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "an array".into(),
        "a map" | "table" => "a table".into(),
        "string only" => "a string".into(),
        other if other.starts_with("struct ") => "a table".into(),
        other if other.starts_with("an array of length ") => format!(
            "an array of {} values",
            other.trim_start_matches("an array of length ")
        ),
        other => other.to_string(),
    }
}

/// The value at a key path of a document, if the document has it.
fn value_at<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, seg| match v {
        Value::Table(t) => t.get(seg),
        Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A value as a user would call it: `the integer 5`, `the string "x"`, `a table`.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Integer(i) => format!("the integer {i}"),
        Value::Float(x) => format!("the number {x:?}"),
        Value::Boolean(b) => format!("{b}"),
        Value::Datetime(d) => format!("the date {d}"),
        Value::Array(a) if a.is_empty() => "an empty array".into(),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Table(t) if t.is_empty() => "an empty table".into(),
        Value::Table(t) => format!(
            "a table (keys {})",
            t.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::raw::RawScenario;

    fn read(message: &str, doc: &str, path: &str) -> (String, Vec<String>) {
        let doc: Value = Value::Table(toml::from_str(doc).unwrap());
        let schema = schema::generate::<RawScenario>();
        let mut path: Vec<String> = path.split('.').map(String::from).collect();
        let p = Problem::read(message, &doc, &schema, &mut path);
        (p.to_string(), path)
    }

    #[test]
    fn enums_list_their_variants_and_say_what_was_found() {
        let (m, _) = read(
            "invalid type: unit variant, expected string only",
            "[places.X]\nkind = 5",
            "places.X.kind",
        );
        assert_eq!(
            m,
            "expected one of origin, transit, resettlement, host, found the integer 5"
        );
        let (m, _) = read(
            "wanted exactly 1 element, more than 1 element",
            "[places.X]\nkind = { a = 1, b = 2 }",
            "places.X.kind",
        );
        assert_eq!(
            m,
            "expected one of origin, transit, resettlement, host, found a table (keys a, b)"
        );
        let (m, _) = read(
            "invalid type: integer `3`, expected variant identifier",
            "[routes.R]\nduration = { dist = 3 }",
            "routes.R.duration.dist",
        );
        assert_eq!(
            m,
            "expected one of fixed, uniform, gamma, lognormal, found the integer 3"
        );
        let (m, _) = read(
            "invalid type: string \"fixed\", expected internally tagged enum RawDuration",
            "[routes.R]\nduration = \"fixed\"",
            "routes.R.duration",
        );
        assert_eq!(
            m,
            "expected a table with `dist` = one of fixed, uniform, gamma, lognormal, e.g. { dist = \"fixed\", … }, found the string \"fixed\""
        );
    }

    #[test]
    fn the_key_at_fault_is_found_inside_what_serde_read_whole() {
        // A table read as an array: serde blames its first element.
        let (m, path) = read(
            "invalid type: integer `1`, expected string only",
            "[places]\nX = [1, \"a\"]",
            "places.X.0",
        );
        assert_eq!(
            (m.as_str(), path.join(".").as_str()),
            ("expected a table, found an array of 2", "places.X")
        );
        // A duration read whole: serde blames the duration, the key is `months`.
        let (m, path) = read(
            "invalid type: string \"x\", expected f64",
            "[routes.R]\nduration = { dist = \"fixed\", months = \"x\" }",
            "routes.R.duration",
        );
        assert_eq!(
            (m.as_str(), path.join(".").as_str()),
            (
                "expected a number, found the string \"x\"",
                "routes.R.duration.months"
            )
        );
    }

    #[test]
    fn rust_types_become_the_file_s_words() {
        for (message, doc, path, expected) in [
            (
                "invalid type: string \"x\", expected i32",
                "[run]\nstart_year = \"x\"",
                "run.start_year",
                "expected a whole number, found the string \"x\"",
            ),
            (
                "invalid value: integer `-1`, expected u64",
                "[run]\nseed = -1",
                "run.seed",
                "expected a whole number in 0..=9223372036854775807, found the integer -1",
            ),
            (
                "invalid length 3, expected fewer elements in array",
                "[routes.R]\nyears_open = [1, 2, 3]",
                "routes.R.years_open",
                "expected an array of 2 values, found an array of 3",
            ),
        ] {
            assert_eq!(read(message, doc, path).0, expected);
        }
        let (m, path) = read(
            "unknown field `recogniton`, expected one of `attraction`, `recognition`",
            "[hosts.H]\nrecogniton = 1",
            "hosts.H",
        );
        assert_eq!(m, "unknown key (expected one of: attraction, recognition)");
        assert_eq!(path.join("."), "hosts.H.recogniton");
    }
}
