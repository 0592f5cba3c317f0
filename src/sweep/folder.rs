//! An opened sweep folder: its manifest and plan (checked against the plan hash), where each
//! shard's file lives, what a shard file holds, and which shards are finished.
//!
//! A shard file is written atomically (temporary file, fsync, rename) and holds one comment
//! line, then the results columns and rows of its block of runs:
//!
//! ```text
//! # diaspora-sweep-shard shard=3 shards=10 first_row=300 runs=100 plan=<hex> body=<hex> version=0.1.0
//! row,point,replicate,seed,<parameters…>,measure,series,place,sex,year,value
//! 300,150,0,…
//! ```
//!
//! `plan` is the plan hash and `body` the BLAKE3 of everything after the first line, so a shard
//! of another plan, a truncated copy or an edited file is never merged.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::SweepError;
use super::plan::{HashInputs, POINTS_CSV, Plan, SweepManifest, plan_hash, shard_range, short};

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
}

impl ShardHeader {
    /// The comment line (with its newline).
    pub fn line(&self) -> String {
        format!(
            "{MAGIC} shard={} shards={} first_row={} runs={} plan={} body={} version={}\n",
            self.shard, self.shards, self.first_row, self.runs, self.plan, self.body, self.version
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
        })
    }
}

/// The columns of `results.csv` and of every shard, as a CSV line.
pub fn results_header(parameters: &[String]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut cols: Vec<&str> = vec!["row", "point", "replicate", "seed"];
    cols.extend(parameters.iter().map(String::as_str));
    cols.extend(["measure", "series", "place", "sex", "year", "value"]);
    w.write_record(&cols).expect("writes to memory");
    w.into_inner().expect("writes to memory")
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
            .join(format!("shard-{i:05}-of-{:05}.csv", self.manifest.shards))
    }

    /// `results.csv`.
    pub fn results_path(&self) -> PathBuf {
        self.dir.join("results.csv")
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

    /// The rows of shard `i` (after its column header), if it is a complete shard of this plan.
    pub fn read_shard(&self, i: usize) -> Result<Vec<u8>, ShardState> {
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
        let header = results_header(&self.manifest.parameters);
        let Some(data) = body.strip_prefix(header.as_slice()) else {
            return invalid("columns differ from the plan's".into());
        };
        if let Err(m) = check_rows(data, rows) {
            return invalid(m);
        }
        Ok(data.to_vec())
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

/// Every line's `row` is in `rows`, non-decreasing, and every row of `rows` appears.
fn check_rows(data: &[u8], rows: Range<usize>) -> Result<(), String> {
    let mut expected = rows.start;
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let field = line.split(|&b| b == b',').next().unwrap_or_default();
        let row: usize = std::str::from_utf8(field)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "a line without a row number".to_string())?;
        if row == expected {
            expected += 1;
        } else if row + 1 != expected {
            return Err(format!(
                "row {row} out of place (expected {})",
                expected.min(rows.end)
            ));
        }
    }
    if expected != rows.end {
        return Err(format!(
            "holds rows {}..{}, expected {}..{}",
            rows.start, expected, rows.start, rows.end
        ));
    }
    Ok(())
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
        };
        let line = h.line();
        assert!(line.ends_with('\n'));
        assert_eq!(ShardHeader::parse(line.trim_end()), Some(h));
        assert_eq!(ShardHeader::parse("row,point"), None);
    }

    #[test]
    fn row_checks() {
        assert!(check_rows(b"3,a\n3,b\n4,a\n", 3..5).is_ok());
        assert!(check_rows(b"3,a\n5,a\n", 3..6).is_err());
        assert!(check_rows(b"3,a\n", 3..5).is_err());
        assert!(check_rows(b"3,a\n4,a\n5,a\n", 3..5).is_err());
        assert!(check_rows(b"4,a\n3,a\n", 3..5).is_err());
        assert!(check_rows(b"x,a\n", 3..4).is_err());
    }
}
