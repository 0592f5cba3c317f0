//! A starting point for a new country of origin (`diaspora init`): a small, commented scenario
//! (the origin, direct routes to a few hosts, UNHCR's refugee and application series observed
//! there) and a calibration file that matches it (priors on the exit rate and the hosts'
//! attractions, one target per host).
//!
//! The observed data are looked for under a data folder (`data/` of the project): every
//! sub-folder in the project's layout and every CSV file in UNHCR's layout is read for rows of
//! the origin ([`find_observed`]); the sources that have some are named in the scenario's
//! `observed` key, the hosts default to the origin's largest refugee populations in them, and
//! the run's scale follows their stocks. Without any, the scenario says where to put them, and
//! the calibration file is written all the same (its targets name the hosts): `diaspora
//! calibrate` then refuses it, saying that it has no observed sources.
//!
//! Nothing is written here: [`scaffold`] returns the two texts and the caller writes them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::observed::{Observed, load_source};

/// What to scaffold.
#[derive(Clone, Debug)]
pub struct Request {
    /// Scenario name (also the file stem).
    pub name: String,
    /// Origin, ISO3.
    pub origin: String,
    /// Hosts, ISO3 (default: chosen from the observed data).
    pub hosts: Option<Vec<String>>,
    /// The data folder to search.
    pub data: PathBuf,
    /// The folder the scenario is written to (the calibration goes to `dir/calibration/`).
    pub dir: PathBuf,
}

/// The two files, and what they were built from.
#[derive(Clone, Debug)]
pub struct Scaffold {
    /// `DIR/NAME.toml`.
    pub scenario_path: PathBuf,
    /// Its text.
    pub scenario: String,
    /// `DIR/calibration/NAME.toml`.
    pub calibration_path: PathBuf,
    /// Its text.
    pub calibration: String,
    /// The hosts.
    pub hosts: Vec<String>,
    /// The observed sources found for the origin (as found under the data folder).
    pub sources: Vec<PathBuf>,
    /// Hosts with observed refugee stocks in the run's years.
    pub observed_hosts: Vec<String>,
}

/// A request that cannot be scaffolded (a usage error).
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// A name that is not a plain file stem.
    #[error("NAME: expected letters, digits, `-` or `_` (it names the files), found \"{0}\"")]
    Name(String),
    /// Not an ISO3 code.
    #[error("{what}: expected a three-letter ISO3 code, found \"{found}\"")]
    Iso3 {
        /// `--origin` or `--hosts`.
        what: &'static str,
        /// The text.
        found: String,
    },
    /// A host that is the origin, or named twice.
    #[error("--hosts: {0}")]
    Hosts(String),
    /// No hosts given and no data to choose them from.
    #[error(
        "--hosts: no observed data for origin {origin} under {data} to choose hosts from: give them, e.g. --hosts DEU,FRA"
    )]
    NoHosts {
        /// Origin.
        origin: String,
        /// Data folder.
        data: String,
    },
}

/// Hosts chosen from the data when none are given.
const DEFAULT_HOSTS: usize = 5;

/// Most agents wanted in a run (sets the persons per agent).
const AGENTS: f64 = 20_000.0;

/// The run's first year (later if the data start later).
const FIRST_YEAR: i32 = 2000;

/// The run's last year without data.
const LAST_YEAR: i32 = 2024;

/// The sources under `data` with rows of `origin`: each sub-folder read in the project's layout,
/// else each CSV file in it read in UNHCR's layout, in name order. Files of other shapes are
/// skipped.
pub fn find_observed(data: &Path, origin: &str) -> Vec<(PathBuf, Observed)> {
    let mut found = Vec::new();
    for dir in sorted(data).into_iter().filter(|p| p.is_dir()) {
        if let Ok(o) = load_source(&dir, origin)
            && !o.series.is_empty()
        {
            found.push((dir, o));
            continue;
        }
        for file in sorted(&dir) {
            let csv = file.extension().is_some_and(|e| e == "csv");
            if csv
                && let Ok(o) = load_source(&file, origin)
                && !o.series.is_empty()
            {
                found.push((file, o));
            }
        }
    }
    found
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn iso3(what: &'static str, s: &str) -> Result<String, ScaffoldError> {
    let up = s.trim().to_ascii_uppercase();
    if up.len() == 3 && up.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(up)
    } else {
        Err(ScaffoldError::Iso3 {
            what,
            found: s.to_string(),
        })
    }
}

/// Refugee stocks (sex `total`) by host and year.
fn refugees(obs: &Observed) -> BTreeMap<&str, BTreeMap<i32, f64>> {
    let mut by: BTreeMap<&str, BTreeMap<i32, f64>> = BTreeMap::new();
    for (k, years) in &obs.series {
        if k.series == "unhcr_refugees" && k.sex == "total" {
            let e = by.entry(k.place.as_str()).or_default();
            for (&y, p) in years {
                e.insert(y, p.value);
            }
        }
    }
    by
}

/// One significant digit and a half: 1, 2 or 5 times a power of ten.
fn round_125(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    let m = x / p;
    let m = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// Builds the two files for `req`.
pub fn scaffold(req: &Request) -> Result<Scaffold, ScaffoldError> {
    let name = req.name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ScaffoldError::Name(req.name.clone()));
    }
    let origin = iso3("--origin", &req.origin)?;
    let found = find_observed(&req.data, &origin);
    let mut obs = Observed::default();
    for (_, o) in &found {
        obs.extend(o.clone());
    }
    let stocks = refugees(&obs);
    let hosts = match &req.hosts {
        Some(h) => {
            let hosts = h
                .iter()
                .map(|s| iso3("--hosts", s))
                .collect::<Result<Vec<_>, _>>()?;
            check_hosts(&hosts, &origin)?;
            hosts
        }
        None => choose_hosts(&stocks, &origin).ok_or_else(|| ScaffoldError::NoHosts {
            origin: origin.clone(),
            data: req.data.display().to_string(),
        })?,
    };
    let last = stocks
        .values()
        .filter_map(|y| y.keys().next_back())
        .max()
        .copied()
        .unwrap_or(LAST_YEAR);
    let years = (FIRST_YEAR.min(last - 5), last);
    let in_run = |y: &i32| (years.0..=years.1).contains(y);
    let observed_hosts: Vec<String> = hosts
        .iter()
        .filter(|h| stocks.get(h.as_str()).is_some_and(|y| y.keys().any(in_run)))
        .cloned()
        .collect();
    // The largest total of refugees in the chosen hosts in any year of the run.
    let mut totals: BTreeMap<i32, f64> = BTreeMap::new();
    for h in &observed_hosts {
        for (y, v) in stocks[h.as_str()].iter().filter(|(y, _)| in_run(y)) {
            *totals.entry(*y).or_default() += v;
        }
    }
    let peak = totals.values().copied().fold(0.0, f64::max);
    let scale = Scale::new(peak, years);
    let scenario_path = req.dir.join(format!("{name}.toml"));
    let calibration_path = req.dir.join("calibration").join(format!("{name}.toml"));
    let relative = |from: &Path, p: &Path| -> String {
        let base = absolute(from);
        pathdiff::diff_paths(absolute(p), &base)
            .unwrap_or_else(|| absolute(p))
            .display()
            .to_string()
    };
    let sources: Vec<String> = found.iter().map(|(p, _)| relative(&req.dir, p)).collect();
    let text = Texts {
        name,
        origin: &origin,
        hosts: &hosts,
        observed_hosts: &observed_hosts,
        sources: &sources,
        data: &req.data,
        years,
        peak,
        scale,
    };
    Ok(Scaffold {
        scenario: text.scenario(),
        calibration: text.calibration(&relative(
            calibration_path.parent().unwrap_or(Path::new(".")),
            &scenario_path,
        )),
        scenario_path,
        calibration_path,
        hosts,
        sources: found.into_iter().map(|(p, _)| p).collect(),
        observed_hosts,
    })
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn check_hosts(hosts: &[String], origin: &str) -> Result<(), ScaffoldError> {
    if hosts.is_empty() {
        return Err(ScaffoldError::Hosts("expected at least one host".into()));
    }
    for (i, h) in hosts.iter().enumerate() {
        if h == origin {
            return Err(ScaffoldError::Hosts(format!(
                "{h} is the origin: a host is where people arrive"
            )));
        }
        if hosts[..i].contains(h) {
            return Err(ScaffoldError::Hosts(format!("{h} is named twice")));
        }
    }
    Ok(())
}

/// The hosts with the largest peak refugee stocks, at most [`DEFAULT_HOSTS`].
fn choose_hosts(stocks: &BTreeMap<&str, BTreeMap<i32, f64>>, origin: &str) -> Option<Vec<String>> {
    let mut peaks: Vec<(&str, f64)> = stocks
        .iter()
        .filter(|(h, _)| **h != origin && h.len() == 3)
        .map(|(h, y)| (*h, y.values().copied().fold(0.0, f64::max)))
        .filter(|(_, p)| *p > 0.0)
        .collect();
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let hosts: Vec<String> = peaks
        .iter()
        .take(DEFAULT_HOSTS)
        .map(|(h, _)| h.to_string())
        .collect();
    (!hosts.is_empty()).then_some(hosts)
}

/// The run's scale: persons per agent and the exit rate that brings about the observed peak.
#[derive(Clone, Copy, Debug)]
struct Scale {
    persons_per_agent: u32,
    base_rate: f64,
}

/// The origin population the scenario uses: only population × exit rate matters.
const POPULATION: f64 = 1e6;

impl Scale {
    /// Leavers over the run about equal to `peak` refugees (a guess: arrivals stay), or 10,000
    /// without data.
    fn new(peak: f64, years: (i32, i32)) -> Scale {
        let people = if peak > 0.0 { peak } else { 10_000.0 };
        let months = 12.0 * f64::from(years.1 - years.0 + 1);
        let ppa = round_125((people / AGENTS).max(1.0)).max(1.0);
        Scale {
            persons_per_agent: ppa as u32,
            base_rate: round_125(people / months / POPULATION),
        }
    }
}

/// What the texts are written from.
struct Texts<'a> {
    name: &'a str,
    origin: &'a str,
    hosts: &'a [String],
    observed_hosts: &'a [String],
    sources: &'a [String],
    data: &'a Path,
    years: (i32, i32),
    peak: f64,
    scale: Scale,
}

impl Texts<'_> {
    fn scenario(&self) -> String {
        let (o, s) = (self.origin, &self.scale);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# {name}: people leaving {o}, a starting point written by `diaspora init`.\n\
             #\n\
             # Every value is a guess to replace with a sourced one (docs/MODEL.md describes each\n\
             # submodel; scenarios/baseline.toml and scenarios/eritrea.toml show sourced scenarios).\n\
             # Probabilities are per month unless a comment says \"per decision\" or \"per trip\";\n\
             # durations are in months. Check it with `diaspora validate {name}.toml`, run it with\n\
             # `diaspora run`, list every settable value with `diaspora keys`, and calibrate the\n\
             # free values with the calibration file written beside it (calibration/{name}.toml).\n",
            name = self.name
        );
        let _ = writeln!(t, "name = \"{}\"", self.name);
        let _ = writeln!(
            t,
            "description = \"People leaving {o} for {}\"",
            self.hosts.join(", ")
        );
        self.observed_key(&mut t);
        let _ = writeln!(
            t,
            "\n[run]\n\
             start_year = {}\n\
             end_year = {}           # the last year of the observed data{}\n\
             seed = 1\n\
             replicates = 5\n\
             # one agent stands for this many persons: counts are multiples of it (a guess that\n\
             # keeps a run small: about {} people leave in all)\n\
             persons_per_agent = {}",
            self.years.0,
            self.years.1,
            if self.sources.is_empty() {
                " (none yet: a guess)"
            } else {
                ""
            },
            self.people(),
            s.persons_per_agent
        );
        let _ = writeln!(
            t,
            "\n# Places: ids are ISO3 codes; give each its country's name.\n\
             [places.{o}]\nkind = \"origin\"\nname = \"{o}\"\niso3 = \"{o}\""
        );
        for h in self.hosts {
            let _ = writeln!(
                t,
                "\n[places.{h}]\nkind = \"host\"\nname = \"{h}\"\niso3 = \"{h}\""
            );
        }
        let _ = writeln!(
            t,
            "\n# Leaving {o}: attempts per person per month = base_rate × push; only population ×\n\
             # base_rate matters. The rate is chosen so that about {} people leave over the run{}\n\
             # (a guess, calibrated in calibration/{}.toml).\n\
             [exit]\n\
             origin = \"{o}\"\n\
             population = {POPULATION:e}\n\
             base_rate = {:e}\n\
             female_share = 0.5         # guess\n\
             \n\
             # Caught at the border: arrested and punished, some try again (guesses).\n\
             [deterrence]\n\
             border_enforcement = 0.05\n\
             punishment = {{ dist = \"fixed\", months = 6 }}\n\
             reattempt = 0.5",
            self.people(),
            if self.peak > 0.0 {
                format!(
                    ",\n# about the most refugees the observed data count in these hosts in one year ({:.0})",
                    self.peak
                )
            } else {
                String::new()
            },
            self.name,
            s.base_rate
        );
        let _ = writeln!(
            t,
            "\n# Routes from {o} straight to each host; the choice among them follows the\n\
             # hosts' attractions ([hosts.*] attraction, calibrated) and their weights.\n\
             # duration in months; death per trip (guesses)."
        );
        for h in self.hosts {
            let _ = writeln!(
                t,
                "\n[routes.{o}-{h}]\nfrom = \"{o}\"\nto = \"{h}\"\nduration = {{ dist = \"uniform\", min = 1, max = 3 }}\ndeath = 0.002"
            );
        }
        let _ = writeln!(
            t,
            "\n# Hosts: claims decided after `processing` months; recognition, complementary and\n\
             # closed are shares per decision; the rest are monthly (all guesses)."
        );
        for (i, h) in self.hosts.iter().enumerate() {
            let _ = writeln!(
                t,
                "\n[hosts.{h}]\n\
                 attraction = 1.0{}\n\
                 recognition = 0.5\n\
                 complementary = 0.1\n\
                 closed = 0.1\n\
                 processing = {{ dist = \"gamma\", mean = 12, sd = 6 }}\n\
                 naturalisation = 0.005\n\
                 naturalisation_min_years = 5\n\
                 death = 0.0003",
                if i == 0 {
                    "            # the reference: the others' attractions are relative to it"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(
            t,
            "\n# What is observed, named as in UNHCR's tables so that `diaspora compare` pairs them:\n\
             # refugees at year end and claims lodged in the year; UNHCR shows 5 for any count\n\
             # from 1 to 5.\n\
             [observation.masking]\nbelow = 5\nshown_as = 5\n\n\
             [[observation.series]]\nname = \"unhcr_refugees\"\ncount = \"refugees\"\nplaces = \"reporting_hosts\"\nmask = true\n\n\
             [[observation.series]]\nname = \"unhcr_asylum_applications\"\ncount = \"applications\"\nplaces = \"hosts\"\nmask = true"
        );
        t
    }

    fn people(&self) -> String {
        let p =
            self.scale.base_rate * POPULATION * 12.0 * f64::from(self.years.1 - self.years.0 + 1);
        format!("{p:.0}")
    }

    /// The `observed` key, or where to put the data.
    fn observed_key(&self, t: &mut String) {
        if self.sources.is_empty() {
            let _ = writeln!(
                t,
                "# No observed data for {o} were found under {data}/. Download UNHCR's tables for\n\
                 # origin {o} (https://www.unhcr.org/refugee-statistics/download, or the `refugees` R\n\
                 # package: population, asylum_applications, asylum_decisions; coo_iso = \"{o}\"),\n\
                 # save them unchanged as CSV in {data}/unhcr-layout/ (see its README.md) and name\n\
                 # them here, relative to this file, e.g.\n\
                 # observed = [\"../{data}/unhcr-layout/population_{lower}.csv\"]",
                o = self.origin,
                data = self.data.display(),
                lower = self.origin.to_ascii_lowercase()
            );
            return;
        }
        let _ = writeln!(
            t,
            "# The observed record of origin {} (found under {}/ by `diaspora init`), relative to\n\
             # this file.",
            self.origin,
            self.data.display()
        );
        let list: Vec<String> = self.sources.iter().map(|s| format!("\"{s}\"")).collect();
        let _ = writeln!(t, "observed = [{}]", list.join(", "));
    }

    fn calibration(&self, scenario: &str) -> String {
        let (o, s) = (self.origin, &self.scale);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# Calibration of {name}.toml against UNHCR's refugee stocks of origin {o}: the exit\n\
             # rate and the hosts' attractions are free (the first host's is the reference), every\n\
             # other value stays as in the scenario. Run with\n\
             #\n\
             #     diaspora calibrate calibration/{name}.toml\n\
             #\n\
             # Paths are `--set` key paths; priors are wide around the scenario's values.",
            name = self.name,
        );
        if self.sources.is_empty() {
            let _ = writeln!(
                t,
                "#\n# The scenario names no observed data yet (see its `observed` key): `diaspora\n\
                 # calibrate` refuses this file until it does, or until `observed` here names the\n\
                 # files, relative to this file."
            );
        }
        let _ = writeln!(
            t,
            "scenario = \"{scenario}\"\n\
             name = \"{name}-calibration\"\n\
             description = \"{name}: exit rate and destination choice against UNHCR's refugee stocks\"\n\
             \n\
             [algorithm]\n\
             particles = 200\n\
             max_generations = 5\n\
             min_acceptance_rate = 0.01\n\
             max_simulations = 20000\n\
             max_minutes = 30\n\
             batch = 64\n\
             seed = 1\n\
             predictive_draws = 20\n\
             \n\
             [[prior]]\n\
             path = \"exit.base_rate\"           # attempts per person per month\n\
             dist = \"loguniform\"\n\
             min = {:e}\n\
             max = {:e}",
            s.base_rate / 10.0,
            s.base_rate * 10.0,
            name = self.name,
        );
        for h in self.hosts.iter().skip(1) {
            let _ = writeln!(
                t,
                "\n[[prior]]\npath = \"hosts.{h}.attraction\"       # relative to {}\ndist = \"loguniform\"\nmin = 0.1\nmax = 10",
                self.hosts[0]
            );
        }
        let _ = writeln!(
            t,
            "\n# Targets: log1p RMSE of the refugee stock at each host over the run's observed years."
        );
        for h in self.hosts {
            let note = if self.observed_hosts.contains(h) {
                ""
            } else {
                "  # no observed stock found yet: remove it or add the data"
            };
            let _ = writeln!(
                t,
                "\n[[target]]\nseries = \"unhcr_refugees\"\nplace = \"{h}\"{note}"
            );
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_to_one_two_five() {
        assert_eq!(round_125(0.9), 1.0);
        assert_eq!(round_125(3.0), 2.0);
        assert_eq!(round_125(3.6), 5.0);
        assert_eq!(round_125(80.0), 100.0);
        assert_eq!(round_125(2.3e-6), 2e-6);
        // 360,000 refugees over 25 years: 1,200 leavers a month from a million people, 20
        // persons per agent (18,000 agents).
        let s = Scale::new(360_000.0, (2000, 2024));
        assert_eq!(s.persons_per_agent, 20);
        assert_eq!(s.base_rate, 1e-3);
    }

    #[test]
    fn bad_requests_are_refused() {
        let req = |name: &str, origin: &str, hosts: Option<&[&str]>| Request {
            name: name.into(),
            origin: origin.into(),
            hosts: hosts.map(|h| h.iter().map(|s| s.to_string()).collect()),
            data: PathBuf::from("/nonexistent"),
            dir: PathBuf::from("/tmp"),
        };
        let e = |r: Request| scaffold(&r).unwrap_err().to_string();
        assert_eq!(
            e(req("a b", "SYR", Some(&["DEU"]))),
            "NAME: expected letters, digits, `-` or `_` (it names the files), found \"a b\""
        );
        assert_eq!(
            e(req("x", "SYRIA", Some(&["DEU"]))),
            "--origin: expected a three-letter ISO3 code, found \"SYRIA\""
        );
        assert_eq!(
            e(req("x", "syr", Some(&["deu", "SYR"]))),
            "--hosts: SYR is the origin: a host is where people arrive"
        );
        assert_eq!(
            e(req("x", "SYR", Some(&["DEU", "deu"]))),
            "--hosts: DEU is named twice"
        );
        assert_eq!(
            e(req("x", "SYR", None)),
            "--hosts: no observed data for origin SYR under /nonexistent to choose hosts from: give them, e.g. --hosts DEU,FRA"
        );
    }
}
