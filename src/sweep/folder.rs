//! An opened sweep folder: its manifest and plan (checked against the plan hash), where each
//! shard's file lives, what a shard file holds, and which shards are finished.
//!
//! A shard file is written atomically (temporary file, fsync, rename) and holds one text line,
//! then the four result tables of its block of runs ([`super::tables`]) as Parquet files, one
//! after another, whose sizes the line gives:
//!
//! ```text
//! # diaspora-sweep-shard shard=3 shards=10 first_row=300 runs=100 plan=<hex> body=<hex> version=0.4.0 tables=runs:1234,fit:56789,kept:345,series:678
//! PAR1…PAR1PAR1…PAR1PAR1…PAR1PAR1…PAR1
//! ```
//!
//! `plan` is the plan hash and `body` the BLAKE3 of everything after the first line, so a shard
//! of another plan, a truncated copy or an edited file is never merged. Shard files are the
//! sweep's own working files; the merge writes the results people read.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::SweepError;
use super::plan::{HashInputs, POINTS_CSV, Plan, SweepManifest, plan_hash, shard_range, short};
use super::tables::{NAMES, Tables};
use crate::output::parquet;

/// First word of a shard file.
const MAGIC: &str = "# diaspora-sweep-shard";

/// A planned sweep folder.
#[derive(Clone, Debug)]
pub struct SweepDir {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: SweepManifest,
    /// Its plan.
    pub plan: Plan,
}

/// Whether a shard is finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardState {
    /// Its file is a complete shard of this plan.
    Complete,
    /// It has no file.
    Missing,
    /// Its file is not a complete shard of this plan (why).
    Invalid(String),
}

/// The state of every shard.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Finished shards.
    pub complete: Vec<usize>,
    /// Shards with no file.
    pub missing: Vec<usize>,
    /// Shards with an unusable file, and why.
    pub invalid: Vec<(usize, String)>,
}

impl Status {
    /// Unfinished shards (missing or invalid), sorted.
    pub fn todo(&self) -> Vec<usize> {
        let mut v = self.missing.clone();
        v.extend(self.invalid.iter().map(|x| x.0));
        v.sort_unstable();
        v
    }
}

/// A shard file's first line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardHeader {
    /// Shard index.
    pub shard: usize,
    /// Shard count.
    pub shards: usize,
    /// First row.
    pub first_row: usize,
    /// Number of runs.
    pub runs: usize,
    /// Plan hash.
    pub plan: String,
    /// BLAKE3 of the rest of the file.
    pub body: String,
    /// diaspora version that ran it.
    pub version: String,
    /// Size in bytes of each table of [`NAMES`], in that order.
    pub tables: [usize; 4],
}

impl ShardHeader {
    /// The comment line (with its newline).
    pub fn line(&self) -> String {
        let tables: Vec<String> = NAMES
            .iter()
            .zip(self.tables)
            .map(|(n, b)| format!("{n}:{b}"))
            .collect();
        format!(
            "{MAGIC} shard={} shards={} first_row={} runs={} plan={} body={} version={} tables={}\n",
            self.shard,
            self.shards,
            self.first_row,
            self.runs,
            self.plan,
            self.body,
            self.version,
            tables.join(",")
        )
    }

    /// Parses the comment line (without its newline).
    pub fn parse(line: &str) -> Option<ShardHeader> {
        let rest = line.strip_prefix(MAGIC)?;
        let mut fields = std::collections::HashMap::new();
        for kv in rest.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            fields.insert(k, v);
        }
        Some(ShardHeader {
            shard: fields.get("shard")?.parse().ok()?,
            shards: fields.get("shards")?.parse().ok()?,
            first_row: fields.get("first_row")?.parse().ok()?,
            runs: fields.get("runs")?.parse().ok()?,
            plan: fields.get("plan")?.to_string(),
            body: fields.get("body")?.to_string(),
            version: fields.get("version")?.to_string(),
            tables: parse_tables(fields.get("tables")?)?,
        })
    }
}

/// `runs:1234,fit:5678,kept:9,series:10` → the sizes, names in [`NAMES`] order.
fn parse_tables(text: &str) -> Option<[usize; 4]> {
    let mut sizes = [0; 4];
    let mut parts = text.split(',');
    for (name, size) in NAMES.iter().zip(&mut sizes) {
        let (n, b) = parts.next()?.split_once(':')?;
        if n != *name {
            return None;
        }
        *size = b.parse().ok()?;
    }
    parts.next().is_none().then_some(sizes)
}

/// A shard file: its first line, then its tables.
pub fn shard_file(header: &ShardHeader, body: &[u8]) -> Vec<u8> {
    let mut file = header.line().into_bytes();
    file.extend_from_slice(body);
    file
}

/// The body of a shard file: its tables as Parquet files, one after another, and their sizes.
pub fn shard_body(tables: &Tables) -> Result<(Vec<u8>, [usize; 4]), parquet::TableError> {
    let mut body = Vec::new();
    let mut sizes = [0; 4];
    for (t, size) in tables.tables.iter().zip(&mut sizes) {
        let bytes = parquet::to_bytes(t)?;
        *size = bytes.len();
        body.extend_from_slice(&bytes);
    }
    Ok((body, sizes))
}

impl SweepDir {
    /// Opens a planned sweep folder and checks that its plan is the one the manifest names.
    pub fn open(dir: &Path) -> Result<SweepDir, SweepError> {
        let manifest_path = dir.join("manifest.toml");
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| SweepError::Dir {
            path: dir.display().to_string(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "not a planned sweep (no manifest.toml): plan one with `diaspora sweep plan DESIGN.toml --out DIR`".into()
            } else {
                format!("cannot read manifest.toml: {e}")
            },
        })?;
        let manifest: SweepManifest = toml::from_str(&text).map_err(|e| SweepError::Dir {
            path: manifest_path.display().to_string(),
            message: format!("not a sweep manifest: {}", e.message()),
        })?;
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|e| SweepError::io(&p, e))
        };
        let plan_csv = read("plan.csv")?;
        let scenario = read("scenario.toml")?;
        let observed = manifest
            .observed_files
            .iter()
            .map(|n| Ok((n.clone(), read(&format!("observed/{n}"))?)))
            .collect::<Result<Vec<_>, SweepError>>()?;
        let points_csv = match manifest.block() {
            Some(_) => Some(read(POINTS_CSV)?),
            None => None,
        };
        let hash = plan_hash(&HashInputs {
            plan_csv: &plan_csv,
            scenario: &scenario,
            observed: &observed,
            outputs: &manifest.outputs,
            years: manifest.years,
            keep: &manifest.keep,
            points_csv: points_csv.as_deref(),
        });
        if hash != manifest.plan_hash {
            return Err(SweepError::Dir {
                path: dir.display().to_string(),
                message: format!(
                    "plan.csv, {}scenario.toml or observed/ changed since planning (plan hash {} in manifest.toml, {} now): plan again",
                    if points_csv.is_some() {
                        "points.csv, "
                    } else {
                        ""
                    },
                    short(&manifest.plan_hash),
                    short(&hash)
                ),
            });
        }
        let plan = Plan::from_csv(&plan_csv, &dir.join("plan.csv").display().to_string())?;
        if plan.rows.len() != manifest.runs || plan.parameters != manifest.parameters {
            return Err(SweepError::Dir {
                path: dir.join("plan.csv").display().to_string(),
                message: format!(
                    "expected {} runs of {:?} (manifest.toml), found {} of {:?}",
                    manifest.runs,
                    manifest.parameters,
                    plan.rows.len(),
                    plan.parameters
                ),
            });
        }
        if manifest.shards == 0 || manifest.shards > manifest.runs.max(1) {
            return Err(SweepError::Dir {
                path: manifest_path.display().to_string(),
                message: format!(
                    "shards: expected 1 to {}, found {}",
                    manifest.runs, manifest.shards
                ),
            });
        }
        Ok(SweepDir {
            dir: dir.to_path_buf(),
            manifest,
            plan,
        })
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.manifest.shards
    }

    /// Rows of shard `i`.
    pub fn shard_rows(&self, i: usize) -> Range<usize> {
        shard_range(self.manifest.runs, i, self.manifest.shards)
    }

    /// File of shard `i`.
    pub fn shard_path(&self, i: usize) -> PathBuf {
        self.dir
            .join("shards")
            .join(format!("shard-{i:05}-of-{:05}.shard", self.manifest.shards))
    }

    /// The array script written by `diaspora sweep slurm`.
    pub fn script_path(&self) -> PathBuf {
        self.dir.join("slurm").join("run.sbatch")
    }

    /// Checks `i` is a shard index.
    pub fn check_shard(&self, i: usize) -> Result<(), SweepError> {
        if i >= self.shards() {
            return Err(SweepError::Usage(format!(
                "shard {i} does not exist: {} has shards 0 to {} (from its manifest.toml)",
                self.dir.display(),
                self.shards() - 1
            )));
        }
        Ok(())
    }

    /// The tables of shard `i`, if it is a complete shard of this plan.
    pub fn read_shard(&self, i: usize) -> Result<Tables, ShardState> {
        let path = self.shard_path(i);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ShardState::Missing),
            Err(e) => return Err(ShardState::Invalid(format!("cannot read: {e}"))),
        };
        let invalid = |m: String| Err(ShardState::Invalid(m));
        let Some(nl) = bytes.iter().position(|&b| b == b'\n') else {
            return invalid("no header line".into());
        };
        let first = String::from_utf8_lossy(&bytes[..nl]);
        let Some(h) = ShardHeader::parse(&first) else {
            return invalid("not a shard file (bad first line)".into());
        };
        if h.plan != self.manifest.plan_hash {
            return invalid(format!(
                "from another plan ({}, not {})",
                short(&h.plan),
                short(&self.manifest.plan_hash)
            ));
        }
        let rows = self.shard_rows(i);
        if h.shard != i
            || h.shards != self.shards()
            || h.first_row != rows.start
            || h.runs != rows.len()
        {
            return invalid(format!(
                "header says shard {} of {}, rows {}+{}; expected shard {i} of {}, rows {}+{}",
                h.shard,
                h.shards,
                h.first_row,
                h.runs,
                self.shards(),
                rows.start,
                rows.len()
            ));
        }
        let body = &bytes[nl + 1..];
        if blake3::hash(body).to_hex().as_str() != h.body {
            return invalid("contents do not match their hash (truncated or edited)".into());
        }
        if h.tables.iter().sum::<usize>() != body.len() {
            return invalid(format!(
                "tables of {} bytes in all, found {}",
                h.tables.iter().sum::<usize>(),
                body.len()
            ));
        }
        let mut at = 0;
        let mut tables = Vec::with_capacity(NAMES.len());
        for (name, size) in NAMES.iter().zip(h.tables) {
            let t = parquet::read(body[at..at + size].to_vec())
                .map_err(|e| ShardState::Invalid(format!("table {name}: {e}")))?;
            tables.push(t);
            at += size;
        }
        let tables = Tables {
            tables: tables.try_into().expect("four tables"),
        };
        if let Err(m) = tables.check(rows) {
            return invalid(m);
        }
        Ok(tables)
    }

    /// The first line of shard `i`'s file, if it has one.
    pub fn shard_header(&self, i: usize) -> Option<ShardHeader> {
        use std::io::BufRead as _;
        let f = std::fs::File::open(self.shard_path(i)).ok()?;
        let mut line = String::new();
        std::io::BufReader::new(f).read_line(&mut line).ok()?;
        ShardHeader::parse(line.trim_end())
    }

    /// The state of shard `i`.
    pub fn shard_state(&self, i: usize) -> ShardState {
        match self.read_shard(i) {
            Ok(_) => ShardState::Complete,
            Err(s) => s,
        }
    }

    /// The state of every shard.
    pub fn status(&self) -> Status {
        let states: Vec<ShardState> = (0..self.shards())
            .into_par_iter()
            .map(|i| self.shard_state(i))
            .collect();
        let mut s = Status::default();
        for (i, st) in states.into_iter().enumerate() {
            match st {
                ShardState::Complete => s.complete.push(i),
                ShardState::Missing => s.missing.push(i),
                ShardState::Invalid(why) => s.invalid.push((i, why)),
            }
        }
        s
    }
}

/// Shard indices as Slurm writes array ranges: `2,5,7-9`.
pub fn compress(ids: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let start = ids[i];
        let mut end = start;
        while i + 1 < ids.len() && ids[i + 1] == end + 1 {
            i += 1;
            end = ids[i];
        }
        out.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_writes_slurm_ranges() {
        assert_eq!(compress(&[]), "");
        assert_eq!(compress(&[3]), "3");
        assert_eq!(compress(&[2, 5, 7, 8, 9]), "2,5,7-9");
        assert_eq!(compress(&[0, 1, 2, 3]), "0-3");
        assert_eq!(compress(&[0, 2, 3, 10]), "0,2-3,10");
    }

    #[test]
    fn shard_header_round_trips() {
        let h = ShardHeader {
            shard: 3,
            shards: 10,
            first_row: 300,
            runs: 100,
            plan: "ab12".into(),
            body: "cd34".into(),
            version: "0.1.0".into(),
            tables: [1, 22, 0, 333],
        };
        let line = h.line();
        assert!(line.ends_with('\n'));
        assert_eq!(ShardHeader::parse(line.trim_end()), Some(h));
        assert_eq!(ShardHeader::parse("row,point"), None);
        let no_series = line.trim_end().replace(",series:333", "");
        assert_eq!(ShardHeader::parse(&no_series), None);
    }
}
