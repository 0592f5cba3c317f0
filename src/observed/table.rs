//! A CSV file read by column name, with errors that name the file, the line and the column.
//! Shared by the readers of the project's files and of UNHCR's published layout.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use super::ObservedError;

/// An open CSV file whose header has been read.
pub(super) struct Table {
    path: String,
    columns: HashMap<String, usize>,
    reader: csv::Reader<File>,
}

impl Table {
    /// Opens `path` and reads its header.
    pub(super) fn open(path: &Path) -> Result<Table, ObservedError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| ObservedError::Io {
            path: name.clone(),
            source,
        })?;
        let mut reader = csv::Reader::from_reader(file);
        let headers = reader.headers().map_err(|e| ObservedError::Format {
            path: name.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        let columns = headers
            .iter()
            .enumerate()
            // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first name.
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').trim().to_string(), i))
            .collect();
        Ok(Table {
            path: name,
            columns,
            reader,
        })
    }

    /// Whether the header has column `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.columns.contains_key(name)
    }

    /// Refuses a header without one of `names`, naming the first missing column.
    pub(super) fn require(&self, names: &[&str], what: &str) -> Result<(), ObservedError> {
        match names.iter().find(|n| !self.has(n)) {
            Some(missing) => Err(self.error(
                1,
                format!("missing required column `{missing}` (needed in {what})"),
            )),
            None => Ok(()),
        }
    }

    /// An error about this file.
    pub(super) fn error(&self, line: u64, message: String) -> ObservedError {
        ObservedError::Format {
            path: self.path.clone(),
            line,
            message,
        }
    }

    /// Calls `f` on every row with its 1-based line number (the header is line 1).
    pub(super) fn for_each(
        mut self,
        mut f: impl FnMut(&Row<'_>) -> Result<(), String>,
    ) -> Result<(), ObservedError> {
        let mut record = csv::StringRecord::new();
        let mut line = 1;
        loop {
            line += 1;
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => return Err(self.error(line, e.to_string())),
            }
            let row = Row {
                columns: &self.columns,
                record: &record,
                line,
            };
            f(&row).map_err(|message| ObservedError::Format {
                path: self.path.clone(),
                line,
                message,
            })?;
        }
    }
}

/// A CSV row addressed by column name.
pub(super) struct Row<'a> {
    columns: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
    /// 1-based line number (the header is line 1).
    line: u64,
}

impl Row<'_> {
    /// The trimmed cell of column `name`.
    pub(super) fn get(&self, name: &str) -> Result<&str, String> {
        let i = self
            .columns
            .get(name)
            .ok_or_else(|| format!("missing column `{name}`"))?;
        Ok(self.record.get(*i).unwrap_or("").trim())
    }

    /// The cell of column `name` as a number.
    pub(super) fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, String> {
        let s = self.get(name)?;
        s.parse()
            .map_err(|_| format!("column `{name}`: expected a number, found \"{s}\""))
    }

    /// The cell of column `name` as a count (a whole number >= 0), or `None` if the cell is
    /// empty (not reported).
    pub(super) fn count(&self, name: &str) -> Result<Option<f64>, String> {
        let s = self.get(name)?;
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 => Ok(Some(v)),
            _ => Err(format!(
                "column `{name}`: expected a count (a whole number >= 0), found \"{s}\""
            )),
        }
    }

    /// The cell of column `name` as a number >= 0 (a count or a share), or `None` if the cell
    /// is empty (not reported).
    pub(super) fn amount(&self, name: &str) -> Result<Option<f64>, String> {
        let s = self.get(name)?;
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(format!(
                "column `{name}`: expected a number >= 0, found \"{s}\""
            )),
        }
    }

    /// The cell of column `name` as a count that must be there.
    pub(super) fn required_count(&self, name: &str) -> Result<f64, String> {
        self.count(name)?.ok_or_else(|| {
            format!("column `{name}`: expected a count (a whole number >= 0), found nothing")
        })
    }
}

/// The key columns of a table and the line each key was first seen on: a key seen twice would
/// add a published count twice, so it is refused.
pub(super) struct UniqueKeys {
    columns: Vec<&'static str>,
    seen: HashMap<Vec<String>, u64>,
}

impl UniqueKeys {
    /// The key made of those of `columns` that `table` has.
    pub(super) fn new(table: &Table, columns: &[&'static str]) -> UniqueKeys {
        UniqueKeys {
            columns: columns.iter().copied().filter(|c| table.has(c)).collect(),
            seen: HashMap::new(),
        }
    }

    /// Refuses `row` if an earlier line had its key.
    pub(super) fn check(&mut self, row: &Row<'_>) -> Result<(), String> {
        let key = self
            .columns
            .iter()
            .map(|c| row.get(c).map(String::from))
            .collect::<Result<Vec<_>, _>>()?;
        match self.seen.get(&key) {
            Some(first) => Err(format!(
                "repeats the key of line {first} ({}): each count may be published once",
                self.columns
                    .iter()
                    .zip(&key)
                    .map(|(c, v)| format!("{c} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => {
                self.seen.insert(key, row.line);
                Ok(())
            }
        }
    }
}
