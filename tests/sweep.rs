//! `diaspora sweep` on real files: planning is deterministic, sharding and thread counts never
//! change results, a row is exactly the `diaspora run` it stands for, Slurm array tasks are
//! simulated through the environment, unfinished shards are named with the `--array` that
//! resubmits them, and bad designs are refused (exit 2) before anything is written.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use diaspora::compare::{self, Band, SimTable};
use diaspora::observed::{self, SeriesKey};
use diaspora::output::fmt_value;
use diaspora::output::parquet::{self, Values};
use diaspora::sweep::{SweepDir, results};

const SMALL: &str = "tests/fixtures/sweeps/small.toml";

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root())
        .env_remove("RUST_BACKTRACE")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("RAYON_NUM_THREADS");
    c
}

fn plan(design: &str, dir: &Path, shards: usize) {
    diaspora()
        .args([
            "sweep",
            "plan",
            design,
            "--shards",
            &shards.to_string(),
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).unwrap()
}

/// Runs `c`, expecting exit code `code`; returns stderr.
fn fails(c: &mut Command, code: i32) -> String {
    String::from_utf8(c.assert().code(code).get_output().stderr.clone()).unwrap()
}

#[test]
fn planning_is_deterministic_and_independent_of_the_shard_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    plan(SMALL, &a, 1);
    plan(SMALL, &b, 1);
    plan(SMALL, &c, 4);
    let plan_a = fs::read(a.join("plan.csv")).unwrap();
    assert_eq!(plan_a, fs::read(b.join("plan.csv")).unwrap());
    assert_eq!(plan_a, fs::read(c.join("plan.csv")).unwrap());
    let manifest = |d: &Path| -> toml::Table {
        toml::from_str(&fs::read_to_string(d.join("manifest.toml")).unwrap()).unwrap()
    };
    let (ma, mb, mc) = (manifest(&a), manifest(&b), manifest(&c));
    assert_eq!(ma["plan_hash"], mb["plan_hash"]);
    assert_eq!(ma["plan_hash"], mc["plan_hash"]);
    assert_eq!(mc["shards"].as_integer(), Some(4));
    assert_eq!(ma["runs"].as_integer(), Some(12));

    let text = String::from_utf8(plan_a).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "row,point,replicate,seed,exit.base_rate.value,hosts.GBR.recognition,events.covid_border_closure.enabled"
    );
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let (point, rep): (u64, u32) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        assert_eq!(f[0], i.to_string());
        assert_eq!((point, rep), ((i / 2) as u64, (i % 2) as u32));
        assert_eq!(
            f[3],
            diaspora::sweep::run_seed(11, point, rep).to_string(),
            "seed from (master, point, replicate)"
        );
        let rate: f64 = f[4].parse().unwrap();
        assert!((4e-6..9e-6).contains(&rate));
        assert!(["0.5", "0.8"].contains(&f[5]));
        assert!(["true", "false"].contains(&f[6]));
    }

    // Planning again into the same folder is a no-op; a different plan is refused.
    let again = stdout(diaspora().args(["sweep", "plan", SMALL, "--out"]).arg(&a));
    assert!(again.contains("(unchanged)"), "{again}");
    let e = fails(
        diaspora()
            .args(["sweep", "plan", SMALL, "--shards", "3", "--out"])
            .arg(&a),
        2,
    );
    assert!(
        e.contains("already holds the same plan in 1 shards, not 3"),
        "{e}"
    );
}

/// The whole life of a sweep: 1 shard on 1 thread and 5 shards on 2 threads (run as simulated
/// Slurm array tasks) merge to the same bytes; a lost shard is named with its `--array`, rerun
/// alone, and the merge is identical again.
#[test]
fn sharded_threaded_and_resubmitted_sweeps_merge_to_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let five = tmp.path().join("five");
    plan(SMALL, &one, 1);
    plan(SMALL, &five, 5);

    diaspora()
        .args(["sweep", "run", "--all", "--threads", "1"])
        .arg(&one)
        .assert()
        .success();
    diaspora()
        .args(["sweep", "merge"])
        .arg(&one)
        .assert()
        .success();
    let reference = fs::read(one.join("results.csv")).unwrap();

    // Array tasks: the index from SLURM_ARRAY_TASK_ID, the count from the manifest even when
    // SLURM_ARRAY_TASK_COUNT says otherwise (as it does when one task is resubmitted).
    for task in [4, 0, 2, 1, 3] {
        let out = stdout(
            diaspora()
                .args(["sweep", "run", "--threads", "2"])
                .arg(&five)
                .env("SLURM_ARRAY_TASK_ID", task.to_string())
                .env("SLURM_ARRAY_TASK_COUNT", "1"),
        );
        assert!(out.contains(&format!("shard {task} of 5: rows")), "{out}");
    }
    let mut names: Vec<String> = fs::read_dir(five.join("shards"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".shard"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        (0..5)
            .map(|i| format!("shard-0000{i}-of-00005.shard"))
            .collect::<Vec<_>>()
    );
    diaspora()
        .args(["sweep", "merge"])
        .arg(&five)
        .assert()
        .success();
    let merged = fs::read(five.join("results.csv")).unwrap();
    assert!(
        merged == reference,
        "5 shards on 2 threads differ from 1 shard on 1 thread"
    );
    // So do the Parquet tables, but for the measured run times.
    let tables = |dir: &Path| -> Vec<parquet::Table> {
        diaspora()
            .args(["sweep", "merge", "--format", "parquet"])
            .arg(dir)
            .assert()
            .success();
        ["runs", "fit", "series"]
            .iter()
            .map(|n| {
                let mut t = parquet::read_file(&dir.join(format!("results/{n}.parquet"))).unwrap();
                if let Some(i) = t.columns.iter().position(|c| c.name == "seconds") {
                    match &t.columns[i].values {
                        Values::Float64(s) => assert!(s.iter().all(|&s| s > 0.0), "{s:?}"),
                        other => panic!("seconds: {other:?}"),
                    }
                    t.columns.remove(i);
                }
                t
            })
            .collect()
    };
    let (a, b) = (tables(&one), tables(&five));
    assert_eq!(a[0].rows(), 12);
    assert!(
        a == b,
        "the Parquet tables of 5 shards differ from those of 1"
    );
    diaspora()
        .args(["sweep", "merge"])
        .arg(&five)
        .assert()
        .success();

    // A finished shard is skipped unless --force.
    let skip = stdout(diaspora().args(["sweep", "run", "--shard", "3"]).arg(&five));
    assert!(skip.contains("already complete"), "{skip}");

    // Lose shards 1 and 3: status and merge name them, and the --array that reruns them.
    fs::remove_file(five.join("shards/shard-00001-of-00005.shard")).unwrap();
    fs::remove_file(five.join("shards/shard-00003-of-00005.shard")).unwrap();
    fs::remove_file(five.join("results.csv")).unwrap();
    let status = stdout(diaspora().args(["sweep", "status"]).arg(&five));
    assert!(status.contains("finished: 3 of 5 shard(s)"), "{status}");
    assert!(status.contains("not started: 2 (1,3)"), "{status}");
    assert!(status.contains("sbatch --array=1,3 "), "{status}");
    assert_eq!(
        stdout(diaspora().args(["sweep", "status", "--missing"]).arg(&five)),
        "1,3\n"
    );
    diaspora()
        .args(["sweep", "slurm", "--max-parallel", "2"])
        .arg(&five)
        .assert()
        .success();
    let e = fails(diaspora().args(["sweep", "merge"]).arg(&five), 1);
    let script = five.canonicalize().unwrap().join("slurm/run.sbatch");
    assert_eq!(
        e,
        format!(
            "error: cannot merge: 2 of 5 shard(s) not finished (1,3); resubmit them with: sbatch --array=1,3 {}\n",
            script.display()
        )
    );
    assert!(!five.join("results.csv").exists(), "nothing merged");

    // A shard of the right name but edited contents is not merged either.
    let path = five.join("shards/shard-00004-of-00005.shard");
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'1' { b'2' } else { b'1' };
    fs::write(&path, bytes).unwrap();
    let status = stdout(diaspora().args(["sweep", "status"]).arg(&five));
    assert!(
        status.contains("invalid:  shard 4: contents do not match their hash"),
        "{status}"
    );
    assert!(status.contains("sbatch --array=1,3-4 "), "{status}");

    // Rerun only those (as `sbatch --array=1,3-4` would), and the merge is identical again.
    for task in [1, 3, 4] {
        diaspora()
            .args(["sweep", "run"])
            .arg(&five)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .assert()
            .success();
    }
    diaspora()
        .args(["sweep", "merge"])
        .arg(&five)
        .assert()
        .success();
    assert!(fs::read(five.join("results.csv")).unwrap() == reference);

    // Shards of different diaspora versions are not mixed.
    let path = five.join("shards/shard-00000-of-00005.shard");
    let bytes = fs::read(&path).unwrap();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let first = String::from_utf8(bytes[..nl].to_vec()).unwrap();
    let version = format!(" version={} ", env!("CARGO_PKG_VERSION"));
    assert!(first.contains(&version), "{first}");
    let mut edited = first
        .replacen(&version, " version=0.0.0-old ", 1)
        .into_bytes();
    edited.extend_from_slice(&bytes[nl..]);
    fs::write(&path, edited).unwrap();
    let e = fails(diaspora().args(["sweep", "merge"]).arg(&five), 2);
    assert!(
        e.contains("shards were run by different diaspora versions (0.0.0-old ran 0; "),
        "{e}"
    );
}

/// A row of results.csv is `diaspora run SCENARIO --seed S --replicates 1 --set p=v…`: its
/// simulated series equal that run's series.csv, and its fit metrics are that run's — in
/// `results.csv` and, every metric of `fit.csv`, in the Parquet `fit` table.
#[test]
fn each_row_is_exactly_the_run_it_stands_for() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    plan(SMALL, &dir, 3);
    for args in [
        vec!["sweep", "run", "--all"],
        vec!["sweep", "merge", "--format", "parquet"],
    ] {
        diaspora().args(args).arg(&dir).assert().success();
    }
    let fit_table = parquet::read_file(&dir.join("results/fit.parquet")).unwrap();
    let sweep = SweepDir::open(&dir).unwrap();
    let from_parquet = results::runs(&sweep).unwrap();
    diaspora()
        .args(["sweep", "merge"])
        .arg(&dir)
        .assert()
        .success();
    // Runs read back whatever the format: the same but for the run times only Parquet keeps.
    let from_csv = results::runs(&sweep).unwrap();
    assert_eq!(from_csv.runs.len(), 12);
    for (a, b) in from_csv.runs.iter().zip(&from_parquet.runs) {
        assert_eq!(
            (a.seconds, b.seconds.is_some_and(|s| s > 0.0)),
            (None, true)
        );
        assert_eq!(a.distance, b.distance);
        assert!(a.distance.is_some());
        assert_eq!(a.values, b.values);
    }
    let mut reader = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let observed = observed::load(&common::path("data/observed")).unwrap();

    for row in ["8", "11"] {
        let mine: Vec<&csv::StringRecord> = records.iter().filter(|r| &r[0] == row).collect();
        let first = mine[0];
        let seed = &first[col("seed")];
        let out = tmp.path().join(format!("run-{row}"));
        let mut run = diaspora();
        run.args([
            "run",
            "tests/fixtures/sweeps/baseline-small.toml",
            "--seed",
            seed,
            "--replicates",
            "1",
            "--out",
        ])
        .arg(&out);
        for p in [
            "exit.base_rate.value",
            "hosts.GBR.recognition",
            "events.covid_border_closure.enabled",
        ] {
            run.args(["--set", &format!("{p}={}", &first[col(p)])]);
        }
        run.assert().success();

        // The run's series, as the sweep would see them.
        let mut table = SimTable::new();
        let mut series_csv = BTreeMap::new();
        let mut r = csv::Reader::from_path(out.join("series.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let key = SeriesKey {
                series: rec[2].into(),
                place: rec[3].into(),
                sex: rec[4].into(),
            };
            let year: i32 = rec[1].parse().unwrap();
            let v: f64 = rec[5].parse().unwrap();
            table.entry(key.clone()).or_default().insert(
                year,
                Band {
                    p05: v,
                    p50: v,
                    p95: v,
                },
            );
            series_csv.insert((key, year), rec[5].to_string());
        }
        let fits = compare::fit(&table, &observed, None);
        let fmt = |v: Option<f64>| {
            let mut s = String::new();
            if let Some(v) = v {
                fmt_value(&mut s, v);
            }
            s
        };

        let measure = |m: &'static str| mine.iter().filter(move |r| &r[col("measure")] == m);
        let distance: Vec<_> = measure("distance").collect();
        assert_eq!(distance.len(), 1);
        assert_eq!(&distance[0][col("value")], fmt(compare::distance(&fits)));
        let run = &from_csv.runs[row.parse::<usize>().unwrap()];
        assert_eq!(run.distance, compare::distance(&fits));
        let switch = if &first[col("events.covid_border_closure.enabled")] == "true" {
            1.0
        } else {
            0.0
        };
        assert_eq!(run.values[2], switch);
        assert_eq!(run.seed.to_string(), seed);
        let rmse: Vec<_> = measure("log1p_rmse").collect();
        assert_eq!(rmse.len(), fits.len());
        assert!(fits.len() > 20, "the baseline has many observed units");
        for (rec, fit) in rmse.iter().zip(&fits) {
            assert_eq!(&rec[col("series")], fit.key.series);
            assert_eq!(&rec[col("place")], fit.key.place);
            assert_eq!(&rec[col("sex")], fit.key.sex);
            assert_eq!(&rec[col("value")], fmt(fit.log1p_rmse));
        }
        let simulated: Vec<_> = measure("simulated").collect();
        assert!(!simulated.is_empty());
        for rec in simulated {
            let key = SeriesKey {
                series: rec[col("series")].into(),
                place: rec[col("place")].into(),
                sex: rec[col("sex")].into(),
            };
            let year: i32 = rec[col("year")].parse().unwrap();
            assert_eq!(series_csv[&(key, year)], &rec[col("value")]);
        }

        // The Parquet fit table: every metric of fit.csv, exactly.
        let row: i64 = row.parse().unwrap();
        let at: Vec<usize> = match fit_table.column("row") {
            Some(Values::Int64(rows)) => (0..rows.len()).filter(|&i| rows[i] == row).collect(),
            other => panic!("row column: {other:?}"),
        };
        assert_eq!(at.len(), fits.len());
        let text = |name: &str, i: usize| match fit_table.column(name) {
            Some(Values::Text(v)) => v[i].clone(),
            other => panic!("{name}: {other:?}"),
        };
        let int = |name: &str, i: usize| match fit_table.column(name) {
            Some(Values::Int32(v)) => v[i],
            other => panic!("{name}: {other:?}"),
        };
        let stat = |name: &str, i: usize| match fit_table.column(name) {
            Some(Values::OptFloat64(v)) => v[i],
            Some(Values::Float64(v)) => Some(v[i]),
            other => panic!("{name}: {other:?}"),
        };
        for (&i, fit) in at.iter().zip(&fits) {
            let key = (text("series", i), text("place", i), text("sex", i));
            assert_eq!(
                key,
                (
                    fit.key.series.clone(),
                    fit.key.place.clone(),
                    fit.key.sex.clone()
                )
            );
            assert_eq!(int("years", i), fit.pairs.len() as i32);
            assert_eq!(int("first_year", i), fit.pairs[0].year);
            assert_eq!(int("last_year", i), fit.pairs.last().unwrap().year);
            let masked = fit.pairs.iter().filter(|p| p.obs_lower < p.obs).count();
            assert_eq!(int("masked_years", i), masked as i32);
            assert_eq!(stat("log1p_rmse", i), fit.log1p_rmse);
            assert_eq!(stat("mean_abs_log_ratio", i), fit.mean_abs_log_ratio);
            assert_eq!(stat("mase", i), fit.mase);
            assert_eq!(stat("bias", i), Some(fit.bias));
            assert_eq!(stat("coverage_90", i), fit.coverage);
            let m = text("measure", i);
            assert!(m == "stock" || m == "flow", "{m}");
        }
    }
}

fn write_design(dir: &Path, body: &str) -> PathBuf {
    let scenario = common::path("tests/fixtures/sweeps/baseline-small.toml");
    let observed = common::path("data/observed");
    let text = format!(
        "scenario = \"{}\"\nobserved = \"{}\"\n{body}",
        scenario.display(),
        observed.display()
    );
    let p = dir.join("bad.toml");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_designs_are_exit_2_with_one_line_and_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "method = \"lhs\"\npoints = 4\n[[parameters]]\npath = \"hosts.GBR.recogniton\"\nmin = 0.1\nmax = 0.9\n",
            "bad.toml:6:8: parameters.0.path: hosts.GBR.recogniton: unknown key `recogniton` in `hosts.GBR` (expected one of:",
            "recognition, removal",
        ),
        (
            "method = \"lhs\"\npoints = 4\n[[parameters]]\npath = \"exit.base_rate\"\nmin = 2e-6\nmax = 2e-6\n",
            "bad.toml:8:7: parameters.0.max: empty range: expected max > min = 0.000002, found 0.000002",
            "",
        ),
        (
            "method = \"sobol\"\npoints = 0\n[[parameters]]\npath = \"exit.base_rate\"\nmin = 1e-6\nmax = 2e-6\n",
            "bad.toml:4:10: points: expected at least 1 point, found 0",
            "",
        ),
        (
            "method = \"grid\"\n[[parameters]]\npath = \"hosts.GBR.recognition\"\nvalues = [0.5, 1.3]\n",
            "bad.toml:5:8: parameters.0.path: point 1 (hosts.GBR.recognition=1.3): hosts.GBR.recognition: expected a probability in [0, 1], found 1.3",
            "",
        ),
        (
            "name = \"..\"\nmethod = \"lhs\"\npoints = 4\n[[parameters]]\npath = \"exit.base_rate\"\nmin = 1e-6\nmax = 2e-6\n",
            "bad.toml:3:8: name: expected a name of 1 to 100 letters, digits, '-', '_' or '.', not starting with '.' (it names the output folder), found \"..\"",
            "",
        ),
    ];
    for (i, (body, start, contains)) in cases.into_iter().enumerate() {
        let design = write_design(tmp.path(), body);
        let out = tmp.path().join(format!("out-{i}"));
        let e = fails(
            diaspora()
                .args(["sweep", "plan"])
                .arg(&design)
                .arg("--out")
                .arg(&out),
            2,
        );
        let e = e.replace(&format!("{}/", tmp.path().display()), "");
        assert!(e.starts_with(&format!("error: {start}")), "{e}");
        assert!(e.contains(contains), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(!out.exists(), "nothing written for case {i}");
    }
}

#[test]
fn shard_arguments_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    plan(SMALL, &dir, 2);
    let e = fails(diaspora().args(["sweep", "run"]).arg(&dir), 2);
    assert!(e.contains("give --shard I or --all"), "{e}");
    let e = fails(
        diaspora()
            .args(["sweep", "run"])
            .arg(&dir)
            .env("SLURM_ARRAY_TASK_ID", "2")
            .env("SLURM_ARRAY_TASK_COUNT", "3"),
        2,
    );
    assert!(
        e.contains("shard 2 does not exist") && e.contains("shards 0 to 1"),
        "{e}"
    );
    let e = fails(
        diaspora()
            .args(["sweep", "run", "--shard", "0", "--all"])
            .arg(&dir),
        2,
    );
    assert!(e.contains("cannot be used with"), "{e}");
    let e = fails(
        diaspora()
            .args(["sweep", "plan", SMALL, "--shards", "13", "--out"])
            .arg(tmp.path().join("t")),
        2,
    );
    assert!(e.contains("--shards: expected 1 to 12"), "{e}");
    let e = fails(
        diaspora()
            .args(["sweep", "status"])
            .arg(tmp.path().join("nowhere")),
        2,
    );
    assert!(e.contains("not a planned sweep"), "{e}");

    // A plan edited after planning is refused.
    let plan_csv = dir.join("plan.csv");
    let text = fs::read_to_string(&plan_csv)
        .unwrap()
        .replace(",0.5,", ",0.6,");
    fs::write(&plan_csv, text).unwrap();
    let e = fails(diaspora().args(["sweep", "run", "--all"]).arg(&dir), 2);
    assert!(e.contains("changed since planning"), "{e}");
}

#[test]
fn slurm_scripts_are_valid_bash_with_the_array_and_afterany() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    plan(SMALL, &dir, 4);
    let out = stdout(
        diaspora()
            .args([
                "sweep",
                "slurm",
                "--partition",
                "short",
                "--time",
                "00:20:00",
                "--cpus",
                "8",
                "--max-parallel",
                "2",
                "--mem",
                "4G",
            ])
            .arg(&dir),
    );
    assert!(
        out.contains("an array of 4 task(s), at most 2 at once"),
        "{out}"
    );
    let abs = dir.canonicalize().unwrap();
    let run = fs::read_to_string(abs.join("slurm/run.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-3%2",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --partition=short",
        "#SBATCH --time=00:20:00",
        "#SBATCH --mem=4G",
        &format!(
            "#SBATCH --output={}/slurm/logs/run-%A_%a.out",
            abs.display()
        ),
        "export RAYON_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-8}\"",
        &format!(
            "exec \"$DIASPORA\" sweep run '{}' --shard \"$SLURM_ARRAY_TASK_ID\" --threads \"$RAYON_NUM_THREADS\"",
            abs.display()
        ),
    ] {
        assert!(run.lines().any(|l| l == line), "{line}\n{run}");
    }
    let submit = fs::read_to_string(abs.join("slurm/submit.sh")).unwrap();
    assert!(
        submit.contains("--dependency=afterany:\"$array\""),
        "{submit}"
    );
    let merge = fs::read_to_string(abs.join("slurm/merge.sbatch")).unwrap();
    assert!(merge.contains("sweep merge"), "{merge}");
    assert!(abs.join("slurm/logs").is_dir());
    for f in ["run.sbatch", "merge.sbatch", "submit.sh"] {
        std::process::Command::new("bash")
            .arg("-n")
            .arg(abs.join("slurm").join(f))
            .status()
            .map(|s| assert!(s.success(), "{f} is not valid bash"))
            .unwrap();
    }
}

/// The text of a shard's progress file, read as TOML.
fn progress_of(dir: &Path, shard: usize, shards: usize) -> Option<toml::Table> {
    let p = dir.join(format!(
        "shards/shard-{shard:05}-of-{shards:05}.progress.toml"
    ));
    toml::from_str(&fs::read_to_string(p).ok()?).ok()
}

/// `sweep status` tells apart a shard done, one running (with its progress and an ETA), one
/// killed outright, one failed (with its error), one whose host went silent and one never
/// started; a shard run off a terminal writes progress lines on stderr.
#[test]
fn status_tells_each_state_of_a_shard_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let design = write_design(
        tmp.path(),
        "method = \"lhs\"\npoints = 400\nseed = 4\n\
         [[parameters]]\npath = \"exit.base_rate.value\"\nmin = 4e-6\nmax = 9e-6\n",
    );
    let dir = tmp.path().join("s");
    plan(design.to_str().unwrap(), &dir, 5);

    // Shard 0 runs to the end, a heartbeat every 0.1 s: its progress lines go to stderr.
    let out = diaspora()
        .args(["sweep", "run", "--shard", "0", "--progress-every", "0.1"])
        .arg(&dir)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "no progress line");
    for l in &lines {
        assert!(
            l.starts_with("shard 0 of 5: ")
                && l.contains(" of 80 runs, ")
                && l.contains(" runs/s, ETA "),
            "{l}"
        );
    }
    let last = progress_of(&dir, 0, 5).unwrap();
    assert_eq!(last["state"].as_str(), Some("done"));
    assert_eq!(last["done"].as_integer(), Some(80));

    // Shard 1 is seen running, then killed.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("diaspora"))
        .current_dir(common::root())
        .args([
            "sweep",
            "run",
            "--shard",
            "1",
            "--threads",
            "1",
            "--progress-every",
            "0.1",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while progress_of(&dir, 1, 5)
        .and_then(|p| p["done"].as_integer())
        .is_none_or(|d| d < 2)
    {
        assert!(started.elapsed().as_secs() < 60, "shard 1 made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let running = stdout(diaspora().args(["sweep", "status"]).arg(&dir));
    child.kill().unwrap(); // SIGKILL: no word from the process
    child.wait().unwrap();
    let pid = child.id();
    let line = running
        .lines()
        .find(|l| l.starts_with("running:"))
        .unwrap_or_default();
    assert!(line.starts_with("running:  shard 1 of 5: "), "{running}");
    assert!(
        line.contains(" of 80 runs, ") && line.contains(" runs/s, ETA "),
        "{line}"
    );
    assert!(line.contains(&format!(", pid {pid}, heartbeat ")), "{line}");
    assert!(running.contains("\nETA:      "), "{running}");
    assert!(
        running.contains("sbatch --array=2-4 "),
        "not shard 1, which runs: {running}"
    );

    // Shard 2 fails: a folder where its file should go.
    fs::create_dir(dir.join("shards/shard-00002-of-00005.shard")).unwrap();
    let e = fails(
        diaspora().args(["sweep", "run", "--shard", "2"]).arg(&dir),
        1,
    );
    assert!(e.contains("Is a directory"), "{e}");

    // Shard 4's runner on another machine went silent 1,000 s ago; shard 3 never started.
    let plan_hash =
        toml::from_str::<toml::Table>(&fs::read_to_string(dir.join("manifest.toml")).unwrap())
            .unwrap()["plan_hash"]
            .as_str()
            .unwrap()
            .to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    fs::write(
        dir.join("shards/shard-00004-of-00005.progress.toml"),
        format!(
            "state = \"running\"\nplan = \"{plan_hash}\"\nhost = \"elsewhere\"\npid = 1\n\
             started = {}\nupdated = {}\nevery = 30.0\nruns = 80\ndone = 7\n",
            now - 2000.0,
            now - 1000.0
        ),
    )
    .unwrap();

    let status = stdout(diaspora().args(["sweep", "status"]).arg(&dir));
    let said = |prefix: &str| -> String {
        status
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{status}"))
            .to_string()
    };
    assert_eq!(
        said("finished:"),
        "finished: 1 of 5 shard(s), 80 of 400 runs (0)"
    );
    let killed = said("killed:");
    assert!(
        killed.starts_with(&format!("killed:   shard 1: process {pid} on ")),
        "{killed}"
    );
    assert!(
        killed.contains(" of 80 runs done when last seen"),
        "{killed}"
    );
    let failed = said("failed:");
    assert!(failed.starts_with("failed:   shard 2: "), "{failed}");
    assert!(
        failed.contains("Is a directory") && failed.ends_with("after 80 of 80 runs)"),
        "{failed}"
    );
    let stalled = said("stalled:");
    assert!(
        stalled.starts_with("stalled:  shard 4: no heartbeat from elsewhere (pid 1) for 16 min 4"),
        "{stalled}"
    );
    assert_eq!(said("not started:"), "not started: 1 (3)");
    assert_eq!(
        said("ETA:"),
        "ETA:      unknown (320 run(s) left, no shard running)"
    );
    assert!(said("resubmit:").starts_with("resubmit: sbatch --array=1-4 "));
    assert_eq!(
        stdout(diaspora().args(["sweep", "status", "--missing"]).arg(&dir)),
        "1-4\n"
    );
}
