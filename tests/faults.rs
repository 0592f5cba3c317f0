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

/// Runs `test` on a fresh tmpfs of `size` (a small disk to fill), unmounting it afterwards;
/// skipped (with a note) when no tmpfs can be mounted, e.g. not as root.
fn on_small_disk(size: &str, test: impl FnOnce(&Path) + std::panic::UnwindSafe) {
    if unsafe_not_root() {
        eprintln!("note: not root, so no tmpfs can be mounted: full-disk test skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let ok = Std::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: cannot mount a tmpfs here: full-disk test skipped");
        return;
    }
    let result = std::panic::catch_unwind(|| test(&mnt));
    let _ = Std::new("umount").arg(&mnt).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_full_disk_leaves_the_old_folder_intact() {
    on_small_disk("3m", |mnt| {
        let out = mnt.join("run");
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
        assert_eq!(entries(mnt), ["run"], "no partial folder left");
    });
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
        (file.join("below"), "cannot be used"),
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

/// `compare` with `--observed` sources: exit status and the bytes of `fit.csv` it wrote.
fn compare_fit(out: &Path, observed: &str) -> Vec<u8> {
    diaspora()
        .arg("compare")
        .arg(out)
        .args(["--observed", observed])
        .assert()
        .success();
    fs::read(out.join("fit.csv")).unwrap()
}

/// The project's observed data: a fit of 71 units (about 8 kB).
const PROJECT: &str = "data/observed";
/// One UNHCR table: a fit of 20 units (about 2 kB).
const ONE_TABLE: &str = "tests/fixtures/unhcr-layout/population_prk.csv";

/// `compare` writes `fit.csv` whole: killed the moment its temporary file appears (or at fixed
/// delays), the folder holds the previous fit.csv or the new one, never part of one, and the
/// next `compare` removes the killed one's temporary file.
#[test]
fn a_killed_compare_leaves_the_old_fit_or_the_new_one_and_no_debris() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&out, 1, 2);
    let new = compare_fit(&out, ONE_TABLE);
    let old = compare_fit(&out, PROJECT);
    assert_ne!(old, new);
    let (mut saw_old, mut saw_new, mut debris) = (0, 0, 0);
    for attempt in 0..12 {
        fs::write(out.join("fit.csv"), &old).unwrap();
        let mut child = bin()
            .arg("compare")
            .arg(&out)
            .args(["--observed", ONE_TABLE])
            .spawn()
            .unwrap();
        let start = Instant::now();
        if attempt < 6 {
            // Timed from the moment the temporary file appears.
            while child.try_wait().unwrap().is_none()
                && !entries(&out).iter().any(|n| n.starts_with(".fit.csv.tmp-"))
                && start.elapsed() < Duration::from_secs(20)
            {}
        } else {
            // Spread over the ~0.1 s a compare takes, to catch it after the rename too.
            std::thread::sleep(Duration::from_millis(20 * (attempt - 6)));
        }
        let _ = child.kill();
        child.wait().unwrap();
        let now = fs::read(out.join("fit.csv")).unwrap();
        assert!(
            now == old || now == new,
            "killed after {:?}: fit.csv is neither the old nor the new one",
            start.elapsed()
        );
        if now == old {
            saw_old += 1;
        } else {
            saw_new += 1;
        }
        debris += entries(&out).iter().filter(|n| n.contains(".tmp-")).count();
    }
    eprintln!(
        "kills: {saw_old} left the old fit.csv, {saw_new} the new one; {debris} temporary file(s) left"
    );
    assert_eq!(compare_fit(&out, ONE_TABLE), new);
    assert_eq!(
        entries(&out),
        [
            "fit.csv",
            "manifest.toml",
            "scenario.toml",
            "series.csv",
            "summary.csv"
        ],
        "no debris after the next compare"
    );
    assert_eq!(complete_seed(&out), Ok(1));
}

/// On a full disk (a tmpfs, when run as root) `compare` fails to write a larger `fit.csv` and
/// the previous one stays as it was, with no temporary file left.
#[test]
fn a_full_disk_keeps_the_old_fit() {
    on_small_disk("2m", |mnt| {
        let out = mnt.join("run");
        run(&out, 1, 1);
        let old = compare_fit(&out, ONE_TABLE);
        // Fill what is left of the disk.
        let mut filler = fs::File::create(mnt.join("filler")).unwrap();
        let block = vec![7u8; 4096];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        drop(filler);
        let failed = diaspora()
            .arg("compare")
            .arg(&out)
            .args(["--observed", PROJECT])
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
        assert!(stderr.contains("cannot write"), "{stderr}");
        assert_eq!(
            fs::read(out.join("fit.csv")).unwrap(),
            old,
            "the old fit.csv, whole"
        );
        assert!(
            !entries(&out).iter().any(|n| n.contains(".tmp-")),
            "no temporary file left"
        );
    });
}
