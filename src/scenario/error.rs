//! Scenario errors as one compiler-like line: `file:line:col: key.path: expected …, found …`.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A position in a scenario file (1-based line and column).
    File {
        /// The file as named on the command line or in `extends`.
        file: String,
        /// Line.
        line: usize,
        /// Column (in characters).
        col: usize,
    },
    /// A `--set` argument.
    Set(String),
    /// A file, without a position (e.g. it cannot be read).
    FileOnly(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { file, line, col } => write!(f, "{file}:{line}:{col}"),
            Location::Set(arg) => write!(f, "--set {arg}"),
            Location::FileOnly(file) => write!(f, "{file}"),
        }
    }
}

/// A problem with a scenario or an override. Displayed as one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// Where.
    pub location: Location,
    /// Dotted key path (empty for file-level problems).
    pub path: String,
    /// What was expected and found.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.path, self.message)
        }
    }
}

/// One scenario file's text and the byte span of every key path in it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The file as named by the user.
    pub name: String,
    /// Its text.
    pub text: String,
    spans: HashMap<String, Range<usize>>,
    key_spans: HashMap<String, Range<usize>>,
}

impl SourceFile {
    /// Parses `text` for its spans; a syntax error is reported at its position.
    pub fn new(name: String, text: String) -> Result<SourceFile, ScenarioError> {
        let mut spans = HashMap::new();
        let mut key_spans = HashMap::new();
        match DeTable::parse(&text) {
            Ok(table) => index_table("", table.get_ref(), &mut spans, &mut key_spans),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let (line, col) = line_col(&text, span.start);
                let (path, message) = match e.message().trim() {
                    "duplicate key" => duplicate_key(&text, span),
                    other => (String::new(), format!("invalid TOML: {other}")),
                };
                return Err(ScenarioError {
                    location: Location::File {
                        file: name,
                        line,
                        col,
                    },
                    path,
                    message,
                });
            }
        }
        Ok(SourceFile {
            name,
            text,
            spans,
            key_spans,
        })
    }

    /// Position of `path`, if the file writes it.
    pub fn position(&self, path: &str) -> Option<(usize, usize)> {
        self.spans.get(path).map(|s| line_col(&self.text, s.start))
    }

    /// Position of the key of `path`, if the file writes it.
    pub fn key_position(&self, path: &str) -> Option<(usize, usize)> {
        self.key_spans
            .get(path)
            .map(|s| line_col(&self.text, s.start))
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

type Spans = HashMap<String, Range<usize>>;

fn index_table(prefix: &str, table: &DeTable<'_>, spans: &mut Spans, keys: &mut Spans) {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        keys.entry(path.clone()).or_insert(key.span());
        // Point at the key for tables (the header line), at the value otherwise.
        let span = match value.get_ref() {
            DeValue::Table(_) => key.span(),
            _ => value.span(),
        };
        spans.entry(path.clone()).or_insert(span);
        index_value(&path, value.get_ref(), spans, keys);
    }
}

fn index_value(path: &str, value: &DeValue<'_>, spans: &mut Spans, keys: &mut Spans) {
    match value {
        DeValue::Table(t) => index_table(path, t, spans, keys),
        DeValue::Array(a) => {
            for (i, item) in a.into_iter().enumerate() {
                let p = join(path, &i.to_string());
                spans.entry(p.clone()).or_insert(item.span());
                keys.entry(p.clone()).or_insert(item.span());
                index_value(&p, item.get_ref(), spans, keys);
            }
        }
        _ => {}
    }
}

/// The key path and message of a key (or table header) written twice.
fn duplicate_key(text: &str, span: Range<usize>) -> (String, String) {
    let path = duplicate_path(text, span.clone());
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let header = text[line_start..].trim_start().starts_with('[');
    let message = if header {
        format!("table [{path}] written twice (TOML allows each table once: merge the two)")
    } else {
        "written twice (TOML allows each key once in a table)".to_string()
    };
    (path, message)
}

/// The key path of a key written twice, from the text around its `span`: the key as written
/// on its line (with its dotted prefix), under the table header above it.
fn duplicate_path(text: &str, span: Range<usize>) -> String {
    let end = span.end.min(text.len());
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let written = text[line_start..end].trim();
    let plain = |s: &str| {
        s.split('.')
            .map(|k| k.trim().trim_matches('"'))
            .collect::<Vec<_>>()
            .join(".")
    };
    if let Some(header) = written.strip_prefix('[') {
        return plain(header.trim_start_matches('['));
    }
    // In an inline table (`x = { a = 1, a = 2 }`) the key is inside the value of another.
    let key = match written.split_once('=') {
        Some((outer, _)) => format!("{}.{}", plain(outer), plain(&text[span.start..end])),
        None => plain(written),
    };
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|h| plain(h.trim_matches(|c| c == '[' || c == ']')));
    match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key,
    }
}

/// 1-based line and character column of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}

/// The files a scenario was read from (most derived first) and the `--set` arguments applied.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Files, the one named on the command line first, then what it extends.
    pub files: Vec<SourceFile>,
    /// `(path, argument as typed)` for each `--set`.
    pub sets: Vec<(String, String)>,
}

impl Sources {
    /// An error at `path`, located in the `--set` that wrote it or else the file that did.
    pub fn error(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            location: self.locate(path),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// An error about the key at `path` itself (e.g. an unknown key), located at the key.
    pub fn key_error(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        let location = self
            .files
            .iter()
            .find_map(|f| {
                f.key_position(path).map(|(line, col)| Location::File {
                    file: f.name.clone(),
                    line,
                    col,
                })
            })
            .unwrap_or_else(|| self.locate(path));
        ScenarioError {
            location,
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// Where `path` (or its nearest written ancestor) came from.
    pub fn locate(&self, path: &str) -> Location {
        for (set_path, arg) in self.sets.iter().rev() {
            if set_path == path
                || path.starts_with(&format!("{set_path}."))
                || set_path.starts_with(&format!("{path}."))
            {
                return Location::Set(arg.clone());
            }
        }
        let mut probe = path;
        loop {
            for file in &self.files {
                if let Some((line, col)) = file.position(probe) {
                    return Location::File {
                        file: file.name.clone(),
                        line,
                        col,
                    };
                }
            }
            match probe.rfind('.') {
                Some(i) => probe = &probe[..i],
                None => break,
            }
        }
        match self.files.first() {
            Some(f) => Location::File {
                file: f.name.clone(),
                line: 1,
                col: 1,
            },
            None => Location::FileOnly(String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_and_headers() {
        let text = "name = \"x\"\n[hosts.GBR]\nrecognition = 1.3\nlist = [1, 2]\n";
        let f = SourceFile::new("a.toml".into(), text.into()).unwrap();
        assert_eq!(f.position("hosts.GBR.recognition"), Some((3, 15)));
        assert_eq!(f.position("hosts.GBR"), Some((2, 8)));
        assert_eq!(f.position("hosts.GBR.list.1"), Some((4, 12)));
    }

    #[test]
    fn duplicate_keys_are_named_by_their_path() {
        let dup = |text: &str| SourceFile::new("a.toml".into(), text.into()).unwrap_err();
        let e = dup("[run]\nseed = 1\nseed = 2\n");
        assert_eq!(
            e.to_string(),
            "a.toml:3:1: run.seed: written twice (TOML allows each key once in a table)"
        );
        let e = dup("[run]\nseed = 1\n[run]\nx = 2\n");
        assert_eq!(
            e.to_string(),
            "a.toml:3:2: run: table [run] written twice (TOML allows each table once: merge the two)"
        );
        let e = dup("[hosts.GBR]\nx = 1\n[hosts.GBR]\n");
        assert_eq!(e.path, "hosts.GBR");
        assert!(
            e.message.starts_with("table [hosts.GBR] written twice"),
            "{e}"
        );
        assert_eq!(dup("n = 1\na.b = 1\na.b = 2\n").path, "a.b");
        assert_eq!(dup("[e]\nx = { a = 1, a = 2 }\n").path, "e.x.a");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = SourceFile::new("a.toml".into(), "a = 1\nb = = 2\n".into()).unwrap_err();
        assert!(matches!(e.location, Location::File { line: 2, .. }), "{e}");
    }

    #[test]
    fn locate_prefers_sets_then_nearest_written_ancestor() {
        let f = SourceFile::new("a.toml".into(), "[exit]\nbase_rate = 1\n".into()).unwrap();
        let s = Sources {
            files: vec![f],
            sets: vec![("exit.push".into(), "exit.push=2".into())],
        };
        assert_eq!(s.locate("exit.push"), Location::Set("exit.push=2".into()));
        assert_eq!(
            s.locate("exit.base_rate"),
            Location::File {
                file: "a.toml".into(),
                line: 2,
                col: 13
            }
        );
        assert_eq!(
            s.locate("exit.female_share"),
            Location::File {
                file: "a.toml".into(),
                line: 1,
                col: 2
            }
        );
    }
}
