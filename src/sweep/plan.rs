//! Planning: a design becomes points, points × replicates become rows with their seeds, and
//! the sweep folder gets everything a run needs, so that shards can run anywhere the folder is
//! visible (a login node plans, compute nodes run).
//!
//! | file | what |
//! |---|---|
//! | `plan.csv` | one row per run: `row,point,replicate,seed,<parameter paths…>` |
//! | `manifest.toml` | the design's settings, shard count, plan hash, version, command |
//! | `scenario.toml` | the design's scenario, resolved (every default written out) |
//! | `design.toml` | a copy of the design file |
//! | `observed/` | copies of the observed files the fit metrics use |
//! | `points.csv` | methods `morris` and `saltelli`: every point's coordinates in the unit cube |
//!
//! Every point is instantiated (overrides applied and the scenario validated) while planning,
//! so an unknown parameter path or a value out of bounds is an error before anything runs.
//! The **plan hash** is BLAKE3 over `plan.csv`, `scenario.toml`, the observed files and the
//! settings that shape results (`outputs`, `years`, and `keep` and `points.csv` where a design
//! has them, so the hash of a design without them is what it was before they existed); it is
//! independent of the shard count.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use toml::Value;

use super::SweepError;
use super::design::{Design, Domain, Format, ListSource, Method, Outputs};
use super::keep::{KeepSpec, Keeper};
use super::morris::{self, MorrisSettings};
use super::saltelli::{self, SaltelliSettings};
use super::sample;
use crate::engine::rng::mix64;
use crate::observe::Plan as ObservePlan;
use crate::observed;
use crate::output::write_atomic;
use crate::scenario::{Location, Override, ScenarioError, Template};

/// Seeds are masked to 63 bits: scenario seeds are TOML integers.
const SEED_MASK: u64 = (1 << 63) - 1;

/// The seed of replicate `replicate` of point `point`:
/// `mix64(mix64(master ^ mix64(point)) ^ replicate)`, masked to 63 bits (SplitMix64 finaliser).
/// It depends on nothing else: not the shard layout, the thread count or the method.
pub fn run_seed(master: u64, point: u64, replicate: u32) -> u64 {
    mix64(mix64(master ^ mix64(point)) ^ u64::from(replicate)) & SEED_MASK
}

/// The seed of a run: [`run_seed`] of its point, or with common random numbers the seed of
/// point 0 for every point (replicate `r` of every point then draws the same numbers).
pub fn seed_of(master: u64, point: u64, replicate: u32, common: bool) -> u64 {
    run_seed(master, if common { 0 } else { point }, replicate)
}

/// The text of a parameter value in `plan.csv`, read back exactly as `--set path=<text>` reads
/// it: whole numbers as integers (as `Override::number` writes them), other numbers in shortest
/// round-trip form with an exponent where needed, booleans as `true`/`false`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        Value::Float(x) => format!("{x:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// One run of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRow {
    /// 0-based row index.
    pub row: usize,
    /// 0-based point index.
    pub point: usize,
    /// 0-based replicate index within the point.
    pub replicate: u32,
    /// The run's seed (`run.seed`, replicate 0).
    pub seed: u64,
    /// Parameter values, as `--set` reads them, in column order.
    pub cells: Vec<String>,
}

impl PlanRow {
    /// The row as `plan.csv` writes it: `row, point, replicate, seed`, then the cells.
    pub fn record(&self) -> Vec<String> {
        let mut rec = vec![
            self.row.to_string(),
            self.point.to_string(),
            self.replicate.to_string(),
            self.seed.to_string(),
        ];
        rec.extend(self.cells.iter().cloned());
        rec
    }

    /// The run's overrides: `path=cell` for every parameter, then `run.seed` and
    /// `run.replicates = 1`; exactly `diaspora run SCENARIO --seed S --replicates 1 --set …`.
    pub fn overrides(&self, parameters: &[String]) -> Result<Vec<Override>, ScenarioError> {
        let mut o = parameters
            .iter()
            .zip(&self.cells)
            .map(|(p, c)| Override::parse(&format!("{p}={c}")))
            .collect::<Result<Vec<_>, _>>()?;
        o.push(Override::integer("run.seed", self.seed as i64));
        o.push(Override::integer("run.replicates", 1));
        Ok(o)
    }
}

/// Points and rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Parameter paths, in column order.
    pub parameters: Vec<String>,
    /// Runs, in row order (point-major, replicates adjacent).
    pub rows: Vec<PlanRow>,
}

impl Plan {
    /// Rows for `points` (cells per point) × `replicates`, seeded from `master` (with common
    /// random numbers if `common`).
    pub fn new(
        parameters: Vec<String>,
        points: &[Vec<String>],
        replicates: u32,
        master: u64,
        common: bool,
    ) -> Plan {
        let mut rows = Vec::with_capacity(points.len() * replicates as usize);
        for (point, cells) in points.iter().enumerate() {
            for replicate in 0..replicates {
                rows.push(PlanRow {
                    row: rows.len(),
                    point,
                    replicate,
                    seed: seed_of(master, point as u64, replicate, common),
                    cells: cells.clone(),
                });
            }
        }
        Plan { parameters, rows }
    }

    /// Number of points.
    pub fn points(&self) -> usize {
        self.rows.last().map_or(0, |r| r.point + 1)
    }

    /// `plan.csv`.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::with_capacity(64 * self.rows.len() + 64));
        let mut header = vec!["row", "point", "replicate", "seed"];
        header.extend(self.parameters.iter().map(String::as_str));
        w.write_record(&header).expect("writes to memory");
        for r in &self.rows {
            w.write_record(r.record()).expect("writes to memory");
        }
        w.into_inner().expect("writes to memory")
    }

    /// Reads `plan.csv` (as written by [`Plan::to_csv`]).
    pub fn from_csv(bytes: &[u8], name: &str) -> Result<Plan, SweepError> {
        let bad = |line: u64, message: String| SweepError::Dir {
            path: format!("{name}:{line}"),
            message,
        };
        let mut r = csv::Reader::from_reader(bytes);
        let header = r
            .headers()
            .map_err(|e| bad(1, format!("cannot read the header: {e}")))?
            .clone();
        let fixed = ["row", "point", "replicate", "seed"];
        if header.len() < fixed.len() || header.iter().take(4).ne(fixed) {
            return Err(bad(
                1,
                format!("expected columns {} first", fixed.join(",")),
            ));
        }
        let parameters: Vec<String> = header.iter().skip(4).map(String::from).collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| bad(line, e.to_string()))?;
            let num = |k: usize| -> Result<u64, SweepError> {
                rec.get(k).unwrap_or("").parse::<u64>().map_err(|_| {
                    bad(
                        line,
                        format!(
                            "column `{}`: expected an integer, found \"{}\"",
                            fixed[k],
                            rec.get(k).unwrap_or("")
                        ),
                    )
                })
            };
            let row = PlanRow {
                row: num(0)? as usize,
                point: num(1)? as usize,
                replicate: num(2)? as u32,
                seed: num(3)?,
                cells: rec.iter().skip(4).map(String::from).collect(),
            };
            if row.row != i {
                return Err(bad(
                    line,
                    format!("expected row {i}, found row {}", row.row),
                ));
            }
            rows.push(row);
        }
        Ok(Plan { parameters, rows })
    }
}

/// The first row and the number of rows of shard `shard` of `shards`: contiguous blocks
/// `[n·i/k, n·(i+1)/k)`.
pub fn shard_range(runs: usize, shard: usize, shards: usize) -> std::ops::Range<usize> {
    let at = |i: usize| ((runs as u128 * i as u128) / shards as u128) as usize;
    at(shard)..at(shard + 1)
}

/// `manifest.toml` of a sweep folder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepManifest {
    /// diaspora version that planned the sweep.
    pub crate_version: String,
    /// Sweep name.
    pub name: String,
    /// One line.
    pub description: String,
    /// Design file, as named when planning (copied to `design.toml`).
    pub design_file: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, as named when planning (resolved copy in `scenario.toml`).
    pub scenario_file: String,
    /// BLAKE3 of `scenario.toml`.
    pub scenario_hash: String,
    /// `grid`, `list`, `lhs` or `sobol`.
    pub method: String,
    /// Swept parameter paths, in column order.
    pub parameters: Vec<String>,
    /// Points.
    pub points: usize,
    /// Replicates per point.
    pub replicates: u32,
    /// Runs (rows of `plan.csv`).
    pub runs: usize,
    /// Master seed.
    pub seed: u64,
    /// `fit` or `series`.
    pub outputs: String,
    /// How a merge writes the results by default: `csv` or `parquet` (not in the plan hash:
    /// shards hold the same tables whatever the format).
    #[serde(default)]
    pub format: Format,
    /// Compared years, if restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<[i32; 2]>,
    /// `keep` entries (one output each in `results.csv`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    /// Whether every point has the same replicate seeds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub common_random_numbers: bool,
    /// Method `morris`: its settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub morris: Option<MorrisSettings>,
    /// Method `saltelli`: its settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saltelli: Option<SaltelliSettings>,
    /// Observed data folder, as named when planning (copies in `observed/`).
    pub observed_dir: String,
    /// Observed files copied to `observed/`.
    pub observed_files: Vec<String>,
    /// Number of shards.
    pub shards: usize,
    /// BLAKE3 over plan, scenario, observed files and result settings.
    pub plan_hash: String,
    /// The command that planned the sweep.
    pub command: String,
}

impl SweepManifest {
    /// Points per block of a sensitivity design (Morris: a trajectory; Saltelli: a base
    /// point), `None` for other designs.
    pub fn block(&self) -> Option<usize> {
        let d = self.parameters.len();
        match (self.morris, self.saltelli) {
            (Some(_), _) => Some(d + 1),
            (_, Some(s)) => Some(s.block(d)),
            _ => None,
        }
    }

    /// The results setting.
    pub fn outputs(&self) -> Outputs {
        if self.outputs == "series" {
            Outputs::Series
        } else {
            Outputs::Fit
        }
    }
}

/// What a sweep's plan hash covers.
#[derive(Clone, Copy, Debug)]
pub struct HashInputs<'a> {
    /// `plan.csv`.
    pub plan_csv: &'a [u8],
    /// `scenario.toml`.
    pub scenario: &'a [u8],
    /// The observed files, by name.
    pub observed: &'a [(String, Vec<u8>)],
    /// `outputs`.
    pub outputs: &'a str,
    /// `years`.
    pub years: Option<[i32; 2]>,
    /// `keep` entries.
    pub keep: &'a [String],
    /// `points.csv`, for the designs that have one.
    pub points_csv: Option<&'a [u8]>,
}

/// The plan hash of a sweep's inputs. `keep` and `points.csv` enter only when present, so a
/// design without them hashes as it did before they existed.
pub fn plan_hash(x: &HashInputs<'_>) -> String {
    let mut h = blake3::Hasher::new();
    let mut part = |label: &str, bytes: &[u8]| {
        h.update(label.as_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part("diaspora-sweep-plan-v1", b"");
    part("plan.csv", x.plan_csv);
    part("scenario.toml", x.scenario);
    part("outputs", x.outputs.as_bytes());
    part("years", format!("{:?}", x.years).as_bytes());
    let mut files: Vec<&(String, Vec<u8>)> = x.observed.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, bytes) in files {
        part(&format!("observed/{name}"), bytes);
    }
    if !x.keep.is_empty() {
        part("keep", x.keep.join("\n").as_bytes());
    }
    if let Some(p) = x.points_csv {
        part("points.csv", p);
    }
    h.finalize().to_hex().to_string()
}

/// What planning wrote.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The manifest written.
    pub manifest: SweepManifest,
    /// The plan written.
    pub plan: Plan,
    /// Whether the folder already held this very plan.
    pub unchanged: bool,
    /// Advice that is not an error (e.g. a Sobol design of a size other than a power of two).
    pub notes: Vec<String>,
}

/// Expands `design` into `dir` with `shards` shards. `force` replaces a different plan already
/// in `dir` (its shards are then stale and rerun). `command` is recorded in the manifest.
pub fn plan(
    design: &Design,
    dir: &Path,
    shards: usize,
    force: bool,
    command: &str,
) -> Result<Planned, SweepError> {
    let template = Template::read(&design.scenario).map_err(|e| match e.location {
        // The design names a file that cannot be read: say so at the design's `scenario` key.
        Location::FileOnly(ref f) if *f == design.scenario.display().to_string() => {
            SweepError::Design(design.error("scenario", format!("{f}: {}", e.message)))
        }
        _ => SweepError::Scenario(e),
    })?;
    let Points {
        parameters,
        cells: points,
        origin,
        unit,
    } = points(design)?;
    let runs = points.len() * design.replicates as usize;
    if shards == 0 || shards > runs {
        return Err(SweepError::Usage(format!(
            "--shards: expected 1 to {runs} (the number of runs), found {shards}"
        )));
    }
    check_points(&template, &parameters, &points, &origin, design)?;
    let base = template.instantiate(&[]).map_err(SweepError::Scenario)?;
    check_keep(design, &base)?;

    let observed = observed::load(&design.observed).map_err(|e| {
        let hint = if design.sources.files[0].position("observed").is_none() {
            " (run from the project folder, or set `observed` in the design)"
        } else {
            ""
        };
        SweepError::Design(design.error("observed", format!("{e}{hint}")))
    })?;
    let mut observed_files = Vec::new();
    for f in &observed.files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(f).map_err(|e| SweepError::io(f, e))?;
        observed_files.push((name, bytes));
    }
    check_keep_fits(design, &observed)?;

    let plan = Plan::new(
        parameters,
        &points,
        design.replicates,
        design.seed,
        design.common_random_numbers,
    );
    let plan_csv = plan.to_csv();
    let points_csv = unit.as_ref().map(|u| points_csv(&plan.parameters, u));
    let years = design.years;
    let keep: Vec<String> = design.keep.iter().map(|k| k.text.clone()).collect();
    let hash = plan_hash(&HashInputs {
        plan_csv: &plan_csv,
        scenario: base.resolved.as_bytes(),
        observed: &observed_files,
        outputs: design.outputs.name(),
        years,
        keep: &keep,
        points_csv: points_csv.as_deref(),
    });

    let mut notes = Vec::new();
    if design.method == Method::Sobol && !points.len().is_power_of_two() {
        notes.push(format!(
            "Sobol points are balanced in powers of two; {} is not (nearest: {} or {})",
            points.len(),
            points.len().next_power_of_two() / 2,
            points.len().next_power_of_two()
        ));
    }

    let manifest = SweepManifest {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        name: design.name.clone(),
        description: design.description.clone(),
        design_file: design.file.display().to_string(),
        scenario: base.name.clone(),
        scenario_file: design.scenario.display().to_string(),
        scenario_hash: base.hash.clone(),
        method: design.method.name().to_string(),
        parameters: plan.parameters.clone(),
        points: points.len(),
        replicates: design.replicates,
        runs,
        seed: design.seed,
        outputs: design.outputs.name().to_string(),
        format: design.format,
        years,
        keep,
        common_random_numbers: design.common_random_numbers,
        morris: design.morris,
        saltelli: design.saltelli,
        observed_dir: design.observed.display().to_string(),
        observed_files: observed_files.iter().map(|f| f.0.clone()).collect(),
        shards,
        plan_hash: hash.clone(),
        command: command.to_string(),
    };

    let manifest_path = dir.join("manifest.toml");
    let mut unchanged = false;
    if let Ok(text) = std::fs::read_to_string(&manifest_path) {
        let old: Option<SweepManifest> = toml::from_str(&text).ok();
        match old {
            Some(old) if old.plan_hash == hash && old.shards == shards => unchanged = true,
            Some(old) if !force => {
                let what = if old.plan_hash == hash {
                    format!("the same plan in {} shards, not {shards}", old.shards)
                } else {
                    format!("a different plan ({})", short(&old.plan_hash))
                };
                return Err(SweepError::Usage(format!(
                    "{} already holds {what}: choose another --out, or --force to replace it (finished shards of another plan are then rerun)",
                    dir.display()
                )));
            }
            None if !force => {
                return Err(SweepError::Usage(format!(
                    "{} has a manifest.toml that is not a sweep's: choose another --out",
                    dir.display()
                )));
            }
            _ => {}
        }
    }

    let design_copy = std::fs::read(&design.file).map_err(|e| SweepError::io(&design.file, e))?;
    let obs_dir = dir.join("observed");
    for d in [dir.to_path_buf(), obs_dir.clone(), dir.join("shards")] {
        std::fs::create_dir_all(&d).map_err(|e| SweepError::io(&d, e))?;
    }
    let write = |path: PathBuf, bytes: &[u8]| -> Result<(), SweepError> {
        write_atomic(&path, bytes).map_err(|e| SweepError::io(&path, e))
    };
    for (name, bytes) in &observed_files {
        write(obs_dir.join(name), bytes)?;
    }
    write(dir.join("scenario.toml"), base.resolved.as_bytes())?;
    write(dir.join("design.toml"), &design_copy)?;
    write(dir.join("plan.csv"), &plan_csv)?;
    if let Some(p) = &points_csv {
        write(dir.join(POINTS_CSV), p)?;
    }
    // The manifest last: a folder with a manifest is a complete plan.
    let text = toml::to_string(&manifest).map_err(|e| SweepError::Usage(e.to_string()))?;
    write(manifest_path, text.as_bytes())?;
    Ok(Planned {
        manifest,
        plan,
        unchanged,
        notes,
    })
}

/// The first 12 hex digits of a hash, for messages.
pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// The expanded points of a design.
struct Points {
    /// Parameter paths, in column order.
    parameters: Vec<String>,
    /// Cells of every point.
    cells: Vec<Vec<String>>,
    /// Where they came from.
    origin: Origin,
    /// Their coordinates in the unit cube, for the designs whose analysis needs them.
    unit: Option<UnitPoints>,
}

/// A sensitivity design's points in the unit cube, with the block each belongs to (Morris: its
/// trajectory; Saltelli: its base point).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitPoints {
    /// Points per block.
    pub block: usize,
    /// Coordinates, point-major.
    pub points: Vec<Vec<f64>>,
}

/// Name of the unit-cube coordinates file in a sweep folder.
pub const POINTS_CSV: &str = "points.csv";

/// `points.csv`: `point,block,<parameter paths…>`, coordinates in shortest round-trip form.
pub fn points_csv(parameters: &[String], unit: &UnitPoints) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(24 * unit.points.len() + 64));
    let mut header = vec!["point", "block"];
    header.extend(parameters.iter().map(String::as_str));
    w.write_record(&header).expect("writes to memory");
    for (i, p) in unit.points.iter().enumerate() {
        let mut rec = vec![i.to_string(), (i / unit.block).to_string()];
        rec.extend(p.iter().map(|x| format!("{x:?}")));
        w.write_record(&rec).expect("writes to memory");
    }
    w.into_inner().expect("writes to memory")
}

/// Reads `points.csv` of a sweep folder (as [`points_csv`] writes it) for `parameters`, in
/// blocks of `block` points.
pub fn read_points(
    path: &Path,
    parameters: &[String],
    block: usize,
) -> Result<UnitPoints, SweepError> {
    let name = path.display().to_string();
    let bad = |line: u64, message: String| SweepError::Dir {
        path: format!("{name}:{line}"),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| SweepError::io(path, e))?;
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let header = r.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let mut expected = vec!["point".to_string(), "block".to_string()];
    expected.extend(parameters.iter().cloned());
    if header.iter().ne(expected.iter()) {
        return Err(bad(
            1,
            format!("expected the header `{}`", expected.join(",")),
        ));
    }
    let mut points = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| bad(line, e.to_string()))?;
        let num = |k: usize| -> Result<f64, SweepError> {
            rec.get(k)
                .unwrap_or("")
                .parse::<f64>()
                .map_err(|_| bad(line, format!("column {}: expected a number", k + 1)))
        };
        if num(0)? != i as f64 || num(1)? != (i / block) as f64 {
            return Err(bad(
                line,
                format!("expected point {i} of block {}", i / block),
            ));
        }
        points.push(
            (2..expected.len())
                .map(num)
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    Ok(UnitPoints { block, points })
}

/// Checks the design's `keep` entries against the scenario's series, places and years.
fn check_keep(design: &Design, base: &crate::scenario::Scenario) -> Result<(), SweepError> {
    let plan = ObservePlan::new(base.observation.clone());
    Keeper::new(
        &design.keep,
        &plan,
        (base.run.start_year, base.run.end_year),
    )
    .map(|_| ())
    .map_err(|u| SweepError::Design(design.error(&format!("keep.{}", u.entry), u.message)))
}

/// A kept unit fit needs an observed twin.
fn check_keep_fits(design: &Design, observed: &observed::Observed) -> Result<(), SweepError> {
    for (i, k) in design.keep.iter().enumerate() {
        if let KeepSpec::UnitFit { series, place, sex } = &k.spec
            && observed.get(series, place, sex.name()).is_none()
        {
            return Err(SweepError::Design(design.error(
                &format!("keep.{i}"),
                format!(
                    "expected a unit with observed data in {}, found none for {series} at {place} ({})",
                    design.observed.display(),
                    sex.name()
                ),
            )));
        }
    }
    Ok(())
}

/// Where each point came from, for error messages.
enum Origin {
    /// Generated from the design's parameters.
    Design,
    /// Point `i` is the row of a CSV file at line `lines[i]`.
    File {
        name: String,
        text: String,
        lines: Vec<u64>,
    },
}

/// Parameter paths and the cells of every point.
fn points(design: &Design) -> Result<Points, SweepError> {
    if let Some(ListSource::File(path)) = &design.list {
        return points_file(design, path);
    }
    let params = &design.parameters;
    let paths: Vec<String> = params.iter().map(|p| p.path.clone()).collect();
    let d = params.len();
    let unit = match (design.morris, design.saltelli) {
        (Some(m), _) => Some(UnitPoints {
            block: d + 1,
            points: morris::points(&m, d, design.seed),
        }),
        (_, Some(s)) => Some(UnitPoints {
            block: s.block(d),
            points: saltelli::points(&s, d, design.seed),
        }),
        _ => None,
    };
    let values: Vec<Vec<Value>> = match design.method {
        Method::Grid => {
            let levels: Vec<Vec<Value>> = params.iter().map(|p| p.domain.levels()).collect();
            let n: usize = levels.iter().map(Vec::len).product();
            (0..n)
                .map(|mut k| {
                    // Row-major: the last parameter varies fastest.
                    let mut point = vec![Value::Boolean(false); d];
                    for j in (0..d).rev() {
                        point[j] = levels[j][k % levels[j].len()].clone();
                        k /= levels[j].len();
                    }
                    point
                })
                .collect()
        }
        Method::List => {
            let n = params[0].domain.len();
            (0..n)
                .map(|i| {
                    params
                        .iter()
                        .map(|p| match &p.domain {
                            Domain::Values(v) => v[i].clone(),
                            Domain::Range { .. } => unreachable!("validated: list has values"),
                        })
                        .collect()
                })
                .collect()
        }
        Method::Lhs | Method::Sobol => {
            let n = design.points.unwrap_or(0);
            let unit = if design.method == Method::Lhs {
                sample::latin_hypercube(n, d, design.seed)
            } else {
                sample::sobol(n, d, design.seed)
            };
            unit.iter()
                .map(|u| params.iter().zip(u).map(|(p, &x)| p.domain.at(x)).collect())
                .collect()
        }
        Method::Morris | Method::Saltelli => unit
            .as_ref()
            .expect("settings of a validated design")
            .points
            .iter()
            .map(|u| params.iter().zip(u).map(|(p, &x)| p.domain.at(x)).collect())
            .collect(),
    };
    let cells = values
        .iter()
        .map(|p| p.iter().map(cell).collect())
        .collect();
    Ok(Points {
        parameters: paths,
        cells,
        origin: Origin::Design,
        unit,
    })
}

/// Points from a CSV file: the header names the parameter paths, each row is one point.
fn points_file(design: &Design, path: &Path) -> Result<Points, SweepError> {
    let name = path.display().to_string();
    let at = |line: u64, col: usize, key: &str, message: String| {
        SweepError::Design(ScenarioError {
            location: Location::File {
                file: name.clone(),
                line: line as usize,
                col,
            },
            path: key.to_string(),
            message,
        })
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        SweepError::Design(design.error(
            "points_file",
            format!("cannot read {}: {e}", path.display()),
        ))
    })?;
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = r
        .headers()
        .map_err(|e| at(1, 1, "", format!("invalid CSV: {e}")))?
        .clone();
    let paths: Vec<String> = header.iter().map(String::from).collect();
    if paths.is_empty() || paths.iter().all(String::is_empty) {
        return Err(at(
            1,
            1,
            "",
            "expected a header naming the parameter paths, found an empty line".into(),
        ));
    }
    for (j, p) in paths.iter().enumerate() {
        if p.is_empty() || p.split('.').any(str::is_empty) {
            return Err(at(
                1,
                csv_col(&text, 1, j),
                "",
                format!(
                    "column {}: expected a dotted scenario key path, found \"{p}\"",
                    j + 1
                ),
            ));
        }
        if paths[..j].contains(p) {
            return Err(at(
                1,
                csv_col(&text, 1, j),
                p,
                "this column appears twice".into(),
            ));
        }
        if p == "run.seed" || p == "run.replicates" {
            return Err(at(
                1,
                csv_col(&text, 1, j),
                p,
                "set by the sweep itself (from `seed` and `replicates`): it cannot be swept".into(),
            ));
        }
    }
    let mut points = Vec::new();
    let mut lines = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at(line, 1, "", format!("invalid CSV: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let mut cells = Vec::with_capacity(paths.len());
        for (j, (p, raw)) in paths.iter().zip(rec.iter()).enumerate() {
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"));
            match value {
                Some(v @ (Value::Integer(_) | Value::Boolean(_))) => cells.push(cell(&v)),
                Some(Value::Float(x)) if x.is_finite() => cells.push(cell(&Value::Float(x))),
                _ => {
                    return Err(at(
                        line,
                        csv_col(&text, line, j),
                        p,
                        format!("expected a finite number or true/false, found \"{raw}\""),
                    ));
                }
            }
        }
        points.push(cells);
        lines.push(line);
    }
    if points.is_empty() {
        return Err(at(
            2,
            1,
            "",
            "expected at least one point (a row after the header), found none".into(),
        ));
    }
    let runs = points.len() as u64 * u64::from(design.replicates);
    if runs > super::design::MAX_RUNS {
        return Err(SweepError::Design(design.error(
            "points_file",
            format!(
                "expected at most {} runs (points × replicates), found {runs}",
                super::design::MAX_RUNS
            ),
        )));
    }
    Ok(Points {
        parameters: paths,
        cells: points,
        origin: Origin::File { name, text, lines },
        unit: None,
    })
}

/// The character column where field `j` of line `line` starts (fields split at commas).
fn csv_col(text: &str, line: u64, j: usize) -> usize {
    let Some(l) = text.lines().nth((line as usize).saturating_sub(1)) else {
        return 1;
    };
    let mut col = 1;
    for (k, field) in l.split(',').enumerate() {
        if k == j {
            return col + field.chars().take_while(|c| c.is_whitespace()).count();
        }
        col += field.chars().count() + 1;
    }
    col
}

/// Instantiates every point (in parallel); the first failing point, in point order, is the
/// error, located in the design (or the points file) rather than in a `--set`.
fn check_points(
    template: &Template,
    parameters: &[String],
    points: &[Vec<String>],
    origin: &Origin,
    design: &Design,
) -> Result<(), SweepError> {
    let first_error = points
        .par_iter()
        .enumerate()
        .map(|(i, cells)| {
            let row = PlanRow {
                row: 0,
                point: i,
                replicate: 0,
                seed: 0,
                cells: cells.clone(),
            };
            row.overrides(parameters)
                .and_then(|o| template.instantiate(&o))
                .err()
                .map(|e| (i, e))
        })
        .find_first(Option::is_some)
        .flatten();
    let Some((point, e)) = first_error else {
        return Ok(());
    };
    let cells = &points[point];
    let settings: Vec<String> = parameters
        .iter()
        .zip(cells)
        .map(|(p, c)| format!("{p}={c}"))
        .collect();
    let culprit = match &e.location {
        Location::Set(arg) => settings.iter().position(|s| s == arg),
        _ => None,
    };
    // A path the scenario does not have is about the parameter, whatever its value.
    let structural = e.message.starts_with("unknown key")
        || e.message.contains("is an array of")
        || e.message.contains("is a single value");
    let what = if e.path.is_empty() {
        e.message.clone()
    } else {
        format!("{}: {}", e.path, e.message)
    };
    let at_point = format!("point {point} ({})", settings.join(", "));
    let error = match (culprit, origin) {
        (Some(j), Origin::Design) => ScenarioError {
            location: design.sources.locate(&format!("parameters.{j}.path")),
            path: format!("parameters.{j}.path"),
            message: if structural {
                what
            } else {
                format!("{at_point}: {what}")
            },
        },
        (Some(j), Origin::File { name, text, lines }) => ScenarioError {
            location: Location::File {
                file: name.clone(),
                line: if structural { 1 } else { lines[point] as usize },
                col: csv_col(text, if structural { 1 } else { lines[point] }, j),
            },
            path: parameters[j].clone(),
            message: if structural {
                e.message.clone()
            } else {
                format!("{at_point}: {}", e.message)
            },
        },
        (None, _) => {
            let mut message = String::new();
            let _ = write!(message, "{at_point}: {e}");
            ScenarioError {
                location: Location::FileOnly(design.file.display().to_string()),
                path: String::new(),
                message,
            }
        }
    };
    Err(SweepError::Design(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_follow_the_documented_formula_and_fit_in_63_bits() {
        let s = run_seed(2024, 3, 1);
        assert_eq!(s, mix64(mix64(2024 ^ mix64(3)) ^ 1) & SEED_MASK);
        assert!(s <= i64::MAX as u64);
        assert_ne!(run_seed(2024, 3, 0), run_seed(2024, 3, 1));
        assert_ne!(run_seed(2024, 3, 0), run_seed(2024, 4, 0));
        assert_ne!(run_seed(2024, 3, 0), run_seed(2025, 3, 0));
        for p in 0..1000 {
            assert!(run_seed(u64::MAX, p, 7) <= i64::MAX as u64);
        }
    }

    #[test]
    fn cells_read_back_as_the_same_toml_value() {
        for v in [
            Value::Float(0.1),
            Value::Float(7.234567891234e-6),
            Value::Float(1e20),
            Value::Float(-2.5),
            Value::Float(3.0),
            Value::Integer(12),
            Value::Boolean(true),
        ] {
            let text = cell(&v);
            let o = Override::parse(&format!("a.b={text}")).unwrap();
            let expected = match v {
                Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => Value::Integer(x as i64),
                other => other,
            };
            assert_eq!(o.value, expected, "{text}");
        }
        // Whole numbers are written as integers, exactly as `Override::number` does.
        assert_eq!(
            Override::parse(&format!("a.b={}", cell(&Value::Float(3.0))))
                .unwrap()
                .value,
            Override::number("a.b", 3.0).value
        );
    }

    #[test]
    fn shard_ranges_are_contiguous_and_balanced() {
        for (runs, shards) in [(10, 1), (10, 3), (128, 4), (7, 7), (1001, 10)] {
            let mut next = 0;
            for i in 0..shards {
                let r = shard_range(runs, i, shards);
                assert_eq!(r.start, next);
                assert!(r.len() == runs / shards || r.len() == runs / shards + 1);
                next = r.end;
            }
            assert_eq!(next, runs);
        }
    }

    #[test]
    fn plan_csv_round_trips() {
        let plan = Plan::new(
            vec!["a.b".into(), "c".into()],
            &[
                vec!["1".into(), "true".into()],
                vec!["0.5".into(), "false".into()],
            ],
            2,
            9,
            false,
        );
        assert_eq!(plan.rows.len(), 4);
        assert_eq!(plan.rows[3].point, 1);
        assert_eq!(plan.rows[3].replicate, 1);
        let bytes = plan.to_csv();
        assert!(bytes.starts_with(b"row,point,replicate,seed,a.b,c\n0,0,0,"));
        assert_eq!(Plan::from_csv(&bytes, "plan.csv").unwrap(), plan);
    }
}
