//! Output folders under faults: a run killed at any moment leaves the previous folder intact or
//! the new one complete (never a mixture) and the next run leaves no debris; a second writer is
//! refused; a full disk leaves the previous folder intact; a folder edited by hand is refused;
//! an unusable `--out` is refused before anything is simulated.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn diaspora() -> Command {
    let mut c = Command::cargo_bin("diaspora").unwrap();
    c.current_dir(common::root()).env_remove("RUST_BACKTRACE");
    c
}

fn bin() -> Std {
    let mut c = Std::new(assert_cmd::cargo::cargo_bin("diaspora"));
    c.current_dir(common::root())
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

const SCENARIO: &str = "scenarios/baseline.toml";

fn run(out: &Path, seed: u64, replicates: u32) {
    diaspora()
        .args(["run", SCENARIO, "--seed", &seed.to_string()])
        .args(["--replicates", &replicates.to_string(), "--out"])
        .arg(out)
        .assert()
        .success();
}

/// The seed of a complete folder: every file its manifest lists is present with its hash.
fn complete_seed(out: &Path) -> Result<u64, String> {
    let text = fs::read_to_string(out.join("manifest.toml")).map_err(|e| e.to_string())?;
    let m: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let files = m["files"].as_table().ok_or("no [files]")?;
    if files.is_empty() {
        return Err("no files listed".into());
    }
    for (name, hash) in files {
        let bytes = fs::read(out.join(name)).map_err(|e| format!("{name}: {e}"))?;
        if blake3::hash(&bytes).to_hex().as_str() != hash.as_str().unwrap() {
            return Err(format!("{name}: hash differs from the manifest"));
        }
    }
    Ok(m["seed"].as_integer().unwrap() as u64)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_old_folder_or_the_new_one_and_no_debris() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&out, 1, 2);
    let mut seen = BTreeMap::new();
    let mut seed = 1;
    // Kills at fixed delays (during the simulation or the output), and kills timed from the
    // moment output starts (a staging folder appears, or a file of the folder changes).
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let plan: Vec<(bool, u64)> = [50u64, 700, 1300, 1900, 2800]
        .into_iter()
        .map(|d| (false, d))
        .chain((0..10).map(|i| (true, i * 4)))
        .collect();
    for (from_output, delay_ms) in plan {
        seed += 1;
        let before = mtime(&out.join("series.csv"));
        let mut child = bin()
            .args(["run", SCENARIO, "--seed", &seed.to_string()])
            .args(["--replicates", "50", "--out"])
            .arg(&out)
            .spawn()
            .unwrap();
        if from_output {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                let staging = entries(tmp.path()).iter().any(|n| n.contains(".new-"));
                if staging || mtime(&out.join("series.csv")) != before {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let found = complete_seed(&out)
            .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: a mixed folder: {e}"));
        assert!(found <= seed, "killed after {delay_ms} ms: seed {found}");
        *seen.entry(found == seed).or_insert(0) += 1;
        eprintln!("killed after {delay_ms} ms ({status}): folder of seed {found}");
    }
    // The next run removes whatever the killed ones left beside the folder.
    run(&out, 99, 1);
    assert_eq!(complete_seed(&out).unwrap(), 99);
    assert_eq!(entries(tmp.path()), ["run"], "no debris after the next run");
    eprintln!("kept old / had new: {seen:?}");
}

#[test]
fn a_second_concurrent_writer_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut first = bin()
        .args(["run", SCENARIO, "--replicates", "40", "--out"])
        .arg(&out)
        .spawn()
        .unwrap();
    let lock = tmp.path().join(".run.lock");
    let start = Instant::now();
    while !lock.exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = diaspora()
        .args(["run", SCENARIO, "--replicates", "1", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&second.get_output().stderr).into_owned();
    assert!(
        stderr.contains("another diaspora process is using this folder"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(first.wait().unwrap().success());
    complete_seed(&out).unwrap();
    assert_eq!(entries(tmp.path()), ["run"]);
}

#[test]
fn a_full_disk_leaves_the_old_folder_intact() {
    if unsafe_not_root() {
        eprintln!("note: not root, so no tmpfs can be mounted: full-disk test skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let ok = Std::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: cannot mount a tmpfs here: full-disk test skipped");
        return;
    }
    let out = mnt.join("run");
    let result = std::panic::catch_unwind(|| {
        run(&out, 1, 1);
        let before = fs::read(out.join("manifest.toml")).unwrap();
        let failed = diaspora()
            .args([
                "run",
                SCENARIO,
                "--seed",
                "2",
                "--replicates",
                "30",
                "--out",
            ])
            .arg(&out)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
        assert!(stderr.contains("cannot write"), "{stderr}");
        assert_eq!(fs::read(out.join("manifest.toml")).unwrap(), before);
        assert_eq!(complete_seed(&out).unwrap(), 1, "the old folder, whole");
        assert_eq!(entries(&mnt), ["run"], "no partial folder left");
    });
    let _ = Std::new("umount").arg(&mnt).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn unsafe_not_root() -> bool {
    Std::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() != "0")
        .unwrap_or(true)
}

#[test]
fn a_folder_edited_by_hand_is_refused_by_compare_and_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&out, 1, 1);
    let summary = out.join("summary.csv");
    let mut text = fs::read_to_string(&summary).unwrap();
    text.push('\n');
    fs::write(&summary, text).unwrap();
    let mut commands = vec!["compare"];
    if cfg!(feature = "plot") {
        commands.push("plot");
    }
    for cmd in commands {
        let a = diaspora().arg(cmd).arg(&out).assert().code(2);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            stderr.contains("summary.csv: changed since it was written"),
            "{cmd}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert!(!out.join("fit.csv").exists());
}

#[test]
fn an_unusable_out_path_is_refused_before_any_simulation() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, "mine").unwrap();
    let mine = tmp.path().join("notes");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "keep").unwrap();
    for (out, expected) in [
        (file.clone(), "exists and is not a folder"),
        (file.join("below"), "cannot be used"),
        (mine.clone(), "exists and is not a run folder"),
    ] {
        let start = Instant::now();
        let a = diaspora()
            .args(["run", SCENARIO, "--replicates", "200", "--out"])
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(stderr.contains(expected), "{}: {stderr}", out.display());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "refused before simulating 200 replicates"
        );
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep");
    assert_eq!(entries(tmp.path()), ["file", "notes"]);
}

/// stderr of a refused command: exit 2 and one line containing `expected`.
fn refused(cmd: &mut Command, expected: &str) {
    let a = cmd.assert().code(2);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(stderr.contains(expected), "{expected:?} not in: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

const BUSY: &str = "another diaspora process is using this folder";

#[test]
fn every_writer_refuses_a_folder_another_process_holds() {
    use diaspora::output::Lock;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&out, 1, 1);
    let held = Lock::exclusive(&out).unwrap();
    refused(diaspora().arg("compare").arg(&out), BUSY);
    if cfg!(feature = "plot") {
        refused(diaspora().arg("plot").arg(&out), BUSY);
    }
    let b = tmp.path().join("b");
    run(&b, 2, 1);
    refused(
        diaspora()
            .arg("contrast")
            .args([&b, &out])
            .arg("--out")
            .arg(&out),
        BUSY,
    );
    drop(held);
    assert!(!out.join("fit.csv").exists() && !out.join("figures").exists());

    let calibration = tmp.path().join("calibration");
    let held = Lock::exclusive(&calibration).unwrap();
    refused(
        diaspora()
            .args(["calibrate", "scenarios/calibration/baseline.toml", "--out"])
            .arg(&calibration),
        BUSY,
    );
    drop(held);
    assert!(!calibration.exists());

    let sweep = tmp.path().join("sweep");
    let design = "tests/fixtures/sensitivity/morris.toml";
    diaspora()
        .args(["sweep", "plan", design, "--out"])
        .arg(&sweep)
        .assert()
        .success();
    // A shard at work (a shared hold): the folder is neither replanned nor merged under it.
    let held = Lock::shared(&sweep).unwrap();
    refused(
        diaspora()
            .args(["sweep", "plan", design, "--force", "--out"])
            .arg(&sweep),
        BUSY,
    );
    refused(diaspora().args(["sweep", "merge"]).arg(&sweep), BUSY);
    // Another shard may run beside it.
    diaspora()
        .args(["sweep", "run", "--all"])
        .arg(&sweep)
        .assert()
        .success();
    drop(held);
    diaspora()
        .args(["sweep", "merge"])
        .arg(&sweep)
        .assert()
        .success();
    assert_eq!(entries(tmp.path()), ["b", "run", "sweep"]);
}

#[test]
fn a_calibration_out_that_cannot_be_used_is_refused_before_any_simulation() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, "mine").unwrap();
    let run_dir = tmp.path().join("run");
    run(&run_dir, 1, 1);
    for (out, expected) in [
        (file.clone(), "exists and is not a folder"),
        (run_dir.clone(), "exists and is not a calibration folder"),
    ] {
        let start = Instant::now();
        refused(
            diaspora()
                .args(["calibrate", "scenarios/calibration/baseline.toml", "--out"])
                .arg(&out),
            expected,
        );
        assert!(start.elapsed() < Duration::from_secs(5), "refused at once");
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    assert_eq!(complete_seed(&run_dir), Ok(1));
}

/// Appends a newline to `path`: the table still parses, its hash does not match.
fn touch(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes.push(b'\n');
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_contrast_folder_is_replaced_whole_and_refused_once_edited() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    run(&a, 1, 2);
    run(&b, 2, 2);
    let contrast = |out: &Path| {
        let mut cmd = diaspora();
        cmd.arg("contrast").args([&a, &b]).arg("--out").arg(out);
        cmd
    };
    contrast(&c).assert().success();
    let listed = |dir: &Path| {
        let m: toml::Table = fs::read_to_string(dir.join("manifest.toml"))
            .unwrap()
            .parse()
            .unwrap();
        let files = m["files"].as_table().unwrap().clone();
        for (name, hash) in &files {
            let bytes = fs::read(dir.join(name)).unwrap();
            assert_eq!(
                blake3::hash(&bytes).to_hex().as_str(),
                hash.as_str().unwrap()
            );
        }
        files.keys().cloned().collect::<Vec<_>>()
    };
    assert_eq!(listed(&c), ["contrast.csv", "contrast_totals.csv"]);
    // Not over a run folder, a file or a folder of something else.
    refused(&mut contrast(&a), "exists and is not a contrast folder");
    assert_eq!(complete_seed(&a), Ok(1));
    let file = tmp.path().join("file");
    fs::write(&file, "mine").unwrap();
    refused(&mut contrast(&file), "exists and is not a folder");
    if cfg!(feature = "plot") {
        touch(&c.join("contrast_totals.csv"));
        refused(
            diaspora().arg("plot").arg(&c),
            "contrast_totals.csv: changed since it was written",
        );
    }
    // Written again, whole.
    contrast(&c).assert().success();
    listed(&c);
    assert_eq!(entries(tmp.path()), ["a", "b", "c", "file"]);
}

#[test]
fn a_sweep_whose_results_changed_or_whose_merge_did_not_finish_is_not_analysed() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    for args in [
        vec![
            "sweep",
            "plan",
            "tests/fixtures/sensitivity/morris.toml",
            "--out",
        ],
        vec!["sweep", "run", "--all"],
        vec!["sweep", "merge"],
    ] {
        diaspora().args(args).arg(&sweep).assert().success();
    }
    let analyse = || {
        let mut cmd = diaspora();
        cmd.args(["sensitivity", "--resamples", "0"]).arg(&sweep);
        cmd
    };
    analyse().assert().success();
    let results = sweep.join("results.csv");
    touch(&results);
    refused(&mut analyse(), "results.csv: changed since it was merged");
    diaspora()
        .args(["sweep", "merge"])
        .arg(&sweep)
        .assert()
        .success();
    analyse().assert().success();
    let from_csv = fs::read(sweep.join("sensitivity.csv")).unwrap();
    if cfg!(feature = "plot") {
        touch(&sweep.join("sensitivity.csv"));
        refused(
            diaspora().arg("plot").arg(&sweep),
            "sensitivity.csv: changed since it was written",
        );
    }
    // The Parquet tables are checked the same way.
    diaspora()
        .args(["sweep", "merge", "--format", "parquet"])
        .arg(&sweep)
        .assert()
        .success();
    assert!(!results.exists(), "the CSV of the earlier merge is removed");
    analyse().assert().success();
    assert!(
        fs::read(sweep.join("sensitivity.csv")).unwrap() == from_csv,
        "the analysis of the Parquet tables differs from that of results.csv"
    );
    touch(&sweep.join("results/kept.parquet"));
    refused(
        &mut analyse(),
        "results/kept.parquet: changed since it was merged",
    );
    // A merge killed after writing the results leaves no record.
    fs::remove_file(sweep.join("results.toml")).unwrap();
    refused(
        &mut analyse(),
        "results.toml: missing: no results from a merge that finished",
    );
}
