//! Whole-folder outputs. A folder of results (a run, a calibration, a sweep plan) is written
//! into a fresh sibling directory and swapped in at the end by one atomic exchange of names, so
//! a reader, a killed process or a full disk sees either the previous folder intact or the new
//! one complete, never a mixture of the two. A lock file beside the folder (`.NAME.lock`, an
//! advisory `flock`) keeps a second writer out while one is at work, and the leftovers of a
//! killed writer (`.NAME.new-PID`, `.NAME.old-PID`) are recognised by their names and removed
//! by the next. Every file is hashed (BLAKE3) as it is written, for the folder's manifest, and
//! [`verify`] refuses a folder whose files no longer match it.

use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};

/// A problem with an output folder.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The path cannot be a folder of this kind (an existing file, another kind of folder, a
    /// parent that cannot be created): bad input, found before any work is done.
    #[error("{path}: {message}")]
    Unusable {
        /// The path as given.
        path: String,
        /// Why.
        message: String,
    },
    /// Another process holds the folder's lock.
    #[error(
        "{path}: another diaspora process is using this folder (it holds {lock}); wait for it to finish, or choose another folder"
    )]
    Busy {
        /// The folder.
        path: String,
        /// The lock file.
        lock: String,
    },
    /// A file does not match the folder's manifest.
    #[error("{path}: {message}")]
    Mismatch {
        /// The file (or folder).
        path: String,
        /// What differs.
        message: String,
    },
    /// Writing failed (a full disk, a vanished folder).
    #[error("{path}: cannot write: {source}")]
    Io {
        /// File or folder.
        path: String,
        /// Cause.
        source: io::Error,
    },
}

impl FolderError {
    /// Whether the user's input is at fault (exit code 2) rather than the disk.
    pub fn is_input(&self) -> bool {
        !matches!(self, FolderError::Io { .. })
    }

    fn io(path: &Path, source: io::Error) -> FolderError {
        FolderError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn unusable(path: &Path, message: impl Into<String>) -> FolderError {
        FolderError::Unusable {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// What a kind of output folder holds: how a previous folder of this kind (which may be
/// replaced) is told from anything else (which is never touched).
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// "a run folder".
    pub what: &'static str,
    /// Files that mark the kind: `(file, key)`; the file must be a TOML table with that key
    /// (or merely exist, when the key is empty). One match is enough.
    pub markers: &'static [(&'static str, &'static str)],
}

/// The output folder of `diaspora run` (and a calibration's `predictive/`).
pub const RUN: Kind = Kind {
    what: "a run folder",
    markers: &[("manifest.toml", "agents_created")],
};

/// The output folder of `diaspora calibrate`.
pub const CALIBRATION: Kind = Kind {
    what: "a calibration folder",
    markers: &[("calibration.toml", "particles"), ("checkpoint.json", "")],
};

/// The output folder of `diaspora sbc`.
pub const SBC: Kind = Kind {
    what: "a simulation-based calibration folder",
    markers: &[("sbc.toml", "replications")],
};

/// The output folder of `diaspora contrast`.
pub const CONTRAST: Kind = Kind {
    what: "a contrast folder",
    markers: &[("manifest.toml", "run_a")],
};

/// The folder of `diaspora sweep plan`.
pub const SWEEP: Kind = Kind {
    what: "a sweep folder",
    markers: &[("manifest.toml", "plan_hash")],
};

impl Kind {
    /// Whether `dir` is a folder of this kind.
    fn holds(&self, dir: &Path) -> bool {
        self.markers.iter().any(|(file, key)| {
            let path = dir.join(file);
            if key.is_empty() {
                return path.is_file();
            }
            fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|t| t.contains_key(*key))
        })
    }
}

/// The lock file of `folder`: `.NAME.lock` beside it (the folder itself is replaced whole, so
/// a lock inside it would not survive the swap).
pub fn lock_path(folder: &Path) -> Option<PathBuf> {
    let name = folder.file_name()?.to_string_lossy().into_owned();
    Some(parent_of(folder).join(format!(".{name}.lock")))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An advisory lock on a folder, held until dropped. The lock file is removed when the last
/// holder lets go, so a finished run leaves nothing beside its folder.
#[derive(Debug)]
pub struct Lock {
    held: Option<(File, PathBuf, bool)>,
}

/// How a lock is taken.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exclusive,
    Shared,
}

impl Lock {
    /// Takes the folder's lock for writing; refuses if another process holds it. On a file
    /// system without locks (some network file systems) the folder is used unlocked.
    pub fn exclusive(folder: &Path) -> Result<Lock, FolderError> {
        Lock::take(folder, Mode::Exclusive)
    }

    /// Takes the folder's lock for reading: refuses while a writer holds it, lets other readers
    /// in. Where no lock file can be made (a read-only folder, which nobody can be writing),
    /// the folder is read unlocked.
    pub fn shared(folder: &Path) -> Result<Lock, FolderError> {
        Lock::take(folder, Mode::Shared)
    }

    fn take(folder: &Path, mode: Mode) -> Result<Lock, FolderError> {
        let unlocked = Lock { held: None };
        let Some(path) = lock_path(folder) else {
            return match mode {
                Mode::Exclusive => Err(FolderError::unusable(folder, "expected a folder name")),
                Mode::Shared => Ok(unlocked),
            };
        };
        // A holder removes the file as it lets go; if that happened between opening and
        // locking, the lock is on a file nobody else will see: open again.
        for _ in 0..100 {
            let file = match File::options()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(_) if mode == Mode::Shared => return Ok(unlocked),
                Err(e) => {
                    return Err(FolderError::unusable(
                        folder,
                        format!("cannot create its lock file: {e}"),
                    ));
                }
            };
            let locked = match mode {
                Mode::Exclusive => file.try_lock(),
                Mode::Shared => file.try_lock_shared(),
            };
            match locked {
                Ok(()) if same_file(&file, &path) => {
                    return Ok(Lock {
                        held: Some((file, path, mode == Mode::Exclusive)),
                    });
                }
                Ok(()) => continue,
                Err(TryLockError::WouldBlock) => {
                    return Err(FolderError::Busy {
                        path: folder.display().to_string(),
                        lock: path.display().to_string(),
                    });
                }
                Err(TryLockError::Error(e))
                    if e.kind() == io::ErrorKind::Unsupported || mode == Mode::Shared =>
                {
                    return Ok(unlocked);
                }
                Err(TryLockError::Error(e)) => {
                    return Err(FolderError::unusable(folder, format!("cannot lock: {e}")));
                }
            }
        }
        Err(FolderError::Busy {
            path: folder.display().to_string(),
            lock: path.display().to_string(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some((file, path, exclusive)) = self.held.take() {
            // Only the last holder (an exclusive one, or a reader that can upgrade) removes it.
            if (exclusive || file.try_lock().is_ok()) && same_file(&file, &path) {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// Whether `path` still names the open `file`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Whether `path` may be (re)written as a folder of `kind`: absent, empty, or of that kind.
fn check_replaceable(shown: &Path, path: &Path, kind: &Kind) -> Result<(), FolderError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(FolderError::unusable(shown, format!("cannot be used: {e}"))),
        Ok(m) if !m.is_dir() => Err(FolderError::unusable(
            shown,
            format!(
                "exists and is not a folder: expected a new or empty folder, or {} to replace",
                kind.what
            ),
        )),
        Ok(_) => {
            let empty = fs::read_dir(path)
                .map_err(|e| FolderError::unusable(shown, format!("cannot be read: {e}")))?
                .next()
                .is_none();
            if empty || kind.holds(path) {
                Ok(())
            } else {
                Err(FolderError::unusable(
                    shown,
                    format!(
                        "exists and is not {}: it would be replaced whole, so choose a new or empty folder",
                        kind.what
                    ),
                ))
            }
        }
    }
}

/// A folder about to be (re)written: checked, locked and cleared of debris. Nothing in it
/// changes until [`Staging::commit`].
#[derive(Debug)]
pub struct Target {
    /// The folder as given (for messages).
    shown: PathBuf,
    /// The folder, with symbolic links resolved.
    path: PathBuf,
    parent: PathBuf,
    name: String,
    _lock: Lock,
}

impl Target {
    /// Checks that `folder` can hold output of `kind` (it does not exist, is empty, or holds a
    /// previous output of that kind), creates its parent, takes its lock and removes what killed
    /// writers left beside it. Call it before any work, so a bad path costs nothing.
    pub fn claim(folder: &Path, kind: &Kind) -> Result<Target, FolderError> {
        let shown = folder.to_path_buf();
        let mut path = folder.to_path_buf();
        if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            path = fs::canonicalize(&path).map_err(|e| {
                FolderError::unusable(
                    folder,
                    format!("is a symbolic link that cannot be followed: {e}"),
                )
            })?;
        }
        let name = match path.components().next_back() {
            Some(Component::Normal(n)) => n.to_string_lossy().into_owned(),
            _ => {
                return Err(FolderError::unusable(
                    folder,
                    format!(
                        "expected the path of a folder to write {} to, like output/name",
                        kind.what
                    ),
                ));
            }
        };
        let parent = parent_of(&path);
        // Checked before anything is created, and again once the lock is held.
        check_replaceable(&shown, &path, kind)?;
        fs::create_dir_all(&parent).map_err(|e| {
            FolderError::unusable(folder, format!("cannot create {}: {e}", parent.display()))
        })?;
        let lock = Lock::exclusive(&path)?;
        let target = Target {
            shown,
            path,
            parent,
            name,
            _lock: lock,
        };
        target.recover()?;
        check_replaceable(&target.shown, &target.path, kind)?;
        Ok(target)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path beside the folder for work in progress that must survive a kill (a calibration's
    /// checkpoints): `.NAME.SUFFIX`. It is not debris and is left alone.
    pub fn sibling(&self, suffix: &str) -> PathBuf {
        self.parent.join(format!(".{}.{suffix}", self.name))
    }

    /// Entries beside the folder that a killed writer left: `(path, is the displaced old one)`.
    fn debris(&self) -> Result<Vec<(PathBuf, bool)>, FolderError> {
        let new = format!(".{}.new-", self.name);
        let old = format!(".{}.old-", self.name);
        let mut found = Vec::new();
        let entries = fs::read_dir(&self.parent)
            .map_err(|e| FolderError::unusable(&self.parent, format!("cannot be read: {e}")))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&new) {
                found.push((entry.path(), false));
            } else if name.starts_with(&old) {
                found.push((entry.path(), true));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Puts back a previous folder moved aside by a writer killed between its two renames (only
    /// where names cannot be exchanged atomically), then removes every leftover.
    fn recover(&self) -> Result<(), FolderError> {
        let debris = self.debris()?;
        if fs::symlink_metadata(&self.path).is_err()
            && let Some((old, _)) = debris.iter().find(|d| d.1)
        {
            fs::rename(old, &self.path).map_err(|e| FolderError::io(old, e))?;
        }
        for (path, _) in self.debris()? {
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(|e| FolderError::io(&path, e))?;
        }
        Ok(())
    }

    /// A fresh, empty folder beside the target to write the new output into.
    pub fn stage(&self) -> Result<Staging<'_>, FolderError> {
        let dir = self
            .parent
            .join(format!(".{}.new-{}", self.name, std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| FolderError::io(&dir, e))?;
        }
        fs::create_dir(&dir).map_err(|e| FolderError::io(&dir, e))?;
        Ok(Staging {
            target: self,
            dir,
            hashes: BTreeMap::new(),
            committed: false,
        })
    }
}

/// The new output, being written beside its target; removed if dropped before
/// [`commit`](Staging::commit).
#[derive(Debug)]
pub struct Staging<'t> {
    target: &'t Target,
    dir: PathBuf,
    hashes: BTreeMap<String, String>,
    committed: bool,
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Staging<'_> {
    /// The folder this one will replace.
    pub fn target(&self) -> &Path {
        &self.target.path
    }

    /// The folder being written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `rel` (a relative path; folders are created) and returns its BLAKE3 hash.
    pub fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<String, FolderError> {
        self.write_with(rel, |w| w.write_all(bytes))
            .map(|(hash, _)| hash)
    }

    /// Writes `rel` from what `fill` streams into it; returns its hash and size.
    pub fn write_with(
        &mut self,
        rel: &str,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(String, u64), FolderError> {
        let path = self.dir.join(rel);
        let result = (|| {
            if let Some(p) = path.parent() {
                fs::create_dir_all(p)?;
            }
            let mut w = Hashing {
                inner: BufWriter::new(File::create(&path)?),
                hasher: blake3::Hasher::new(),
            };
            fill(&mut w)?;
            let hash = w.hasher.finalize().to_hex().to_string();
            let file = w.inner.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok((hash, file.metadata()?.len()))
        })();
        let (hash, len) = result.map_err(|e| FolderError::io(&self.target.path.join(rel), e))?;
        self.hashes.insert(rel.to_string(), hash.clone());
        Ok((hash, len))
    }

    /// The hash of every file written so far, by relative path.
    pub fn hashes(&self) -> &BTreeMap<String, String> {
        &self.hashes
    }

    /// Makes the new folder durable and swaps it in for the target; the previous folder is
    /// removed only once the new one is in place.
    pub fn commit(mut self) -> Result<(), FolderError> {
        let t = self.target;
        sync_tree(&self.dir).map_err(|e| FolderError::io(&self.dir, e))?;
        swap(&self.dir, &t.path, &t.parent, &t.name).map_err(|e| FolderError::io(&t.path, e))?;
        self.committed = true;
        // After an exchange the staging name holds the previous folder.
        if self.dir.exists() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        let _ = File::open(&t.parent).and_then(|d| d.sync_all());
        Ok(())
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Flushes every file's directory entry in `dir` and its subfolders to disk.
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    File::open(dir)?.sync_all()
}

/// Puts `new` in place of `target`. Where the system can exchange two names atomically
/// (Linux's `renameat2`), `new` then holds the previous folder; elsewhere the previous folder
/// is moved aside first (and put back by the next writer if this one is killed in between).
fn swap(new: &Path, target: &Path, parent: &Path, name: &str) -> io::Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(new, target);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, new, CWD, target, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::NOTSUP => {}
            Err(e) => return Err(e.into()),
        }
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    fs::rename(target, &old)?;
    if let Err(e) = fs::rename(new, target) {
        let _ = fs::rename(&old, target);
        return Err(e);
    }
    fs::remove_dir_all(&old)
}

/// BLAKE3 of a file, hex.
pub fn file_hash(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// The first 12 hex digits of a hash, for messages.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// The `files` table of the TOML manifest at `path`: relative path → BLAKE3.
fn listed(path: &Path) -> Result<Option<BTreeMap<String, String>>, FolderError> {
    let text = fs::read_to_string(path).map_err(|e| FolderError::Mismatch {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| FolderError::Mismatch {
            path: path.display().to_string(),
            message: format!("not a manifest: {}", e.message()),
        })?;
    let Some(files) = table.get("files") else {
        return Ok(None);
    };
    let bad = || FolderError::Mismatch {
        path: path.display().to_string(),
        message: "files: expected a table of file names and BLAKE3 hashes".into(),
    };
    let files = files.as_table().ok_or_else(bad)?;
    files
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(bad)?.to_string())))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Checks that every file the manifest `dir/manifest` lists under `[files]` is present and has
/// the hash recorded; files it does not list (a later `fit.csv`, `figures/`) are not checked.
pub fn verify(dir: &Path, manifest: &str) -> Result<(), FolderError> {
    let manifest_path = dir.join(manifest);
    let Some(files) = listed(&manifest_path)? else {
        return Err(FolderError::Mismatch {
            path: manifest_path.display().to_string(),
            message: "lists no file hashes ([files]): written by diaspora 0.2.0 or earlier, or edited; run again to regenerate the folder".into(),
        });
    };
    check_listed(
        dir,
        &files,
        &Listed {
            record: manifest,
            made: "written",
            again: "run again to regenerate the folder",
        },
    )
}

/// How [`check_listed`] words a refusal: the record that lists the files, what made them, and
/// what makes them again.
#[derive(Clone, Copy, Debug)]
pub struct Listed<'a> {
    /// The record's file name (`manifest.toml`, `results.toml`).
    pub record: &'a str,
    /// What made the files (`written`, `merged`).
    pub made: &'a str,
    /// The advice, e.g. `run again to regenerate the folder`.
    pub again: &'a str,
}

/// Checks that every file of `files` (a path relative to `dir` → its BLAKE3) is inside `dir`,
/// present and unchanged.
pub fn check_listed(
    dir: &Path,
    files: &BTreeMap<String, String>,
    how: &Listed<'_>,
) -> Result<(), FolderError> {
    let Listed {
        record,
        made,
        again,
    } = *how;
    for (rel, hash) in files {
        let path = dir.join(rel);
        if Path::new(rel)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(FolderError::Mismatch {
                path: dir.join(record).display().to_string(),
                message: format!("files: `{rel}` is not a path inside the folder"),
            });
        }
        let now = file_hash(&path).map_err(|e| FolderError::Mismatch {
            path: path.display().to_string(),
            message: if e.kind() == io::ErrorKind::NotFound {
                format!("listed in {record} but missing: {again}")
            } else {
                format!("cannot read: {e}")
            },
        })?;
        if now != *hash {
            return Err(FolderError::Mismatch {
                path: path.display().to_string(),
                message: format!(
                    "changed since it was {made} (BLAKE3 {} in {record}, {} now): {again}",
                    short(hash),
                    short(&now)
                ),
            });
        }
    }
    Ok(())
}

/// Checks one file against the `manifest.toml` beside it, if that manifest lists it (a run's
/// `series.csv` used as observed data); files without such a manifest are not checked.
pub fn verify_listed(file: &Path) -> Result<(), FolderError> {
    let dir = parent_of(file);
    let manifest = dir.join("manifest.toml");
    let (Some(name), true) = (file.file_name(), manifest.is_file()) else {
        return Ok(());
    };
    let Ok(Some(files)) = listed(&manifest) else {
        return Ok(());
    };
    let Some(hash) = files.get(name.to_string_lossy().as_ref()) else {
        return Ok(());
    };
    let now = file_hash(file).map_err(|e| FolderError::Mismatch {
        path: file.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    if now != *hash {
        return Err(FolderError::Mismatch {
            path: file.display().to_string(),
            message: format!(
                "changed since it was written (BLAKE3 {} in manifest.toml, {} now)",
                short(hash),
                short(&now)
            ),
        });
    }
    Ok(())
}

/// Removes temporary files (`.NAME.tmp-PID`) that a killed single-file write left in `dir`;
/// call it only while holding the folder's lock.
pub fn remove_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") && entry.path().is_file() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn manifest(stage: &mut Staging<'_>) {
        let mut text = String::from("agents_created = 1\n[files]\n");
        for (k, v) in stage.hashes().clone() {
            text.push_str(&format!("\"{k}\" = \"{v}\"\n"));
        }
        stage.write("manifest.toml", text.as_bytes()).unwrap();
    }

    #[test]
    fn a_folder_is_replaced_whole_and_its_files_verified() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        for (i, body) in ["one", "two"].into_iter().enumerate() {
            let t = Target::claim(&out, &RUN).unwrap();
            let mut s = t.stage().unwrap();
            s.write("a.csv", body.as_bytes()).unwrap();
            s.write("sub/b.csv", b"b").unwrap();
            if i == 0 {
                s.write("only-first.csv", b"x").unwrap();
            }
            manifest(&mut s);
            s.commit().unwrap();
        }
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "two");
        assert!(
            !out.join("only-first.csv").exists(),
            "nothing of the first is left"
        );
        assert_eq!(names(tmp.path()), ["run"], "no lock file or debris is left");
        verify(&out, "manifest.toml").unwrap();
        fs::write(out.join("sub/b.csv"), "edited").unwrap();
        let e = verify(&out, "manifest.toml").unwrap_err().to_string();
        assert!(e.contains("sub/b.csv: changed since it was written"), "{e}");
        fs::remove_file(out.join("sub/b.csv")).unwrap();
        let e = verify(&out, "manifest.toml").unwrap_err().to_string();
        assert!(e.contains("listed in manifest.toml but missing"), "{e}");
    }

    #[test]
    fn an_abandoned_stage_leaves_the_previous_folder_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let t = Target::claim(&out, &RUN).unwrap();
        let mut s = t.stage().unwrap();
        s.write("a.csv", b"old").unwrap();
        manifest(&mut s);
        s.commit().unwrap();
        drop(t);
        let t = Target::claim(&out, &RUN).unwrap();
        let mut s = t.stage().unwrap();
        s.write("a.csv", b"new").unwrap();
        drop(s); // e.g. the disk filled up before the manifest
        assert_eq!(fs::read_to_string(out.join("a.csv")).unwrap(), "old");
        assert_eq!(
            names(tmp.path()),
            [".run.lock", "run"],
            "locked while claimed"
        );
        drop(t);
        assert_eq!(names(tmp.path()), ["run"]);
    }

    #[test]
    fn debris_of_a_killed_writer_is_removed_and_a_moved_folder_restored() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        fs::create_dir_all(tmp.path().join(".run.new-99999/x")).unwrap();
        fs::create_dir(tmp.path().join(".run.old-99998")).unwrap();
        fs::write(
            tmp.path().join(".run.old-99998/manifest.toml"),
            "agents_created = 3",
        )
        .unwrap();
        fs::write(tmp.path().join(".other.new-1"), "not ours").unwrap();
        let t = Target::claim(&out, &RUN).unwrap();
        assert_eq!(
            fs::read_to_string(out.join("manifest.toml")).unwrap(),
            "agents_created = 3",
            "the folder moved aside is put back"
        );
        assert_eq!(names(tmp.path()), [".other.new-1", ".run.lock", "run"]);
        drop(t);
    }

    #[test]
    fn paths_that_cannot_be_run_folders_are_refused_before_any_work() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        let e = Target::claim(&file, &RUN).unwrap_err();
        assert!(
            e.is_input() && e.to_string().contains("exists and is not a folder"),
            "{e}"
        );
        let other = tmp.path().join("mine");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("notes.txt"), "keep me").unwrap();
        let e = Target::claim(&other, &RUN).unwrap_err().to_string();
        assert!(e.contains("exists and is not a run folder"), "{e}");
        let sweep = tmp.path().join("sweep");
        fs::create_dir(&sweep).unwrap();
        fs::write(sweep.join("manifest.toml"), "plan_hash = \"ab\"").unwrap();
        assert!(
            Target::claim(&sweep, &RUN).is_err(),
            "a sweep folder is not a run folder"
        );
        assert!(Target::claim(&sweep, &SWEEP).is_ok());
        let e = Target::claim(&file.join("below"), &RUN)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot be used"), "{e}");
        assert!(Target::claim(Path::new("/"), &RUN).is_err());
        assert_eq!(
            fs::read_to_string(other.join("notes.txt")).unwrap(),
            "keep me"
        );
        let mut left = names(tmp.path());
        left.retain(|n| n.starts_with('.'));
        assert!(left.is_empty(), "refusals create nothing: {left:?}");
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("run");
        let first = Target::claim(&out, &RUN).unwrap();
        let e = Target::claim(&out, &RUN).unwrap_err();
        assert!(matches!(e, FolderError::Busy { .. }), "{e}");
        assert!(Lock::shared(&out).is_err(), "readers wait for the writer");
        drop(first);
        let r1 = Lock::shared(&out).unwrap();
        let _r2 = Lock::shared(&out).unwrap();
        assert!(
            Target::claim(&out, &RUN).is_err(),
            "writers wait for readers"
        );
        drop((r1, _r2));
        assert!(Target::claim(&out, &RUN).is_ok());
    }
}
