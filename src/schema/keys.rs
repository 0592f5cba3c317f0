//! The settable keys of a resolved scenario for `diaspora keys`: each `--set` path with its
//! value (defaults included) and its meaning, read from the scenario schema's descriptions
//! (the doc comments of the raw types), filtered by a pattern.

use crate::scenario::Scenario;

use super::{Kind, describe, schema};

/// One settable key.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The `--set` path, e.g. `hosts.GBR.recognition` or `exit.push.values.2`.
    pub path: String,
    /// The resolved value, as TOML (strings quoted).
    pub value: String,
    /// What the key means (empty where the schema says nothing).
    pub meaning: String,
}

/// The keys of `scenario` whose path matches `pattern` (every key when `None`): a pattern with
/// `*` is a glob over the whole path (`hosts.*.recognition`), one without is a substring.
pub fn keys(scenario: &Scenario, pattern: Option<&str>) -> Vec<Key> {
    let schema = schema(Kind::Scenario);
    scenario
        .values()
        .into_iter()
        .filter(|(path, _)| pattern.is_none_or(|p| matches(p, path)))
        .map(|(path, value)| Key {
            meaning: describe(&schema, &path).unwrap_or_default(),
            value: value.to_string(),
            path,
        })
        .collect()
}

/// Whether `path` matches `pattern` (see [`keys`]).
pub fn matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return path.contains(pattern);
    }
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let (last, middle) = parts
        .split_last()
        .expect("a pattern with `*` has two parts");
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_are_substrings_or_globs() {
        assert!(matches("recognition", "hosts.GBR.recognition"));
        assert!(!matches("recognised", "hosts.GBR.recognition"));
        assert!(matches("hosts.*.recognition", "hosts.GBR.recognition"));
        assert!(!matches(
            "hosts.*.recognition",
            "hosts.GBR.recognition_rate"
        ));
        assert!(!matches("hosts.*", "exit.hosts.x"));
        assert!(matches("*push*", "exit.push.values.2"));
        assert!(matches("a*a", "aa"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("*", "run.seed"));
    }
}
