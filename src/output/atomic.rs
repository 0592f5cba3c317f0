//! Atomic file writes: write a temporary file in the same folder, flush it to disk, rename.
//! A reader (or a crash) sees either the old file, the complete new one, or nothing.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes)).map(|_| ())
}

/// Writes `path` atomically from what `fill` streams into a buffered temporary file (for
/// outputs too large to hold in memory); returns the size written.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut file = AtomicFile::create(path)?;
    fill(file.writer())?;
    file.commit()
}

/// A file written under a temporary name in its folder and renamed to its path by
/// [`AtomicFile::commit`] (after an fsync); dropped uncommitted, the temporary file is removed.
/// Several can be open at once, e.g. the tables of a sweep's merge, filled shard by shard.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file of `path`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
            .to_string_lossy();
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let writer = BufWriter::new(File::create(&tmp)?);
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            writer: Some(writer),
        })
    }

    /// Where to write.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("open until committed")
    }

    /// Flushes, syncs and renames the file into place; returns its size.
    pub fn commit(mut self) -> io::Result<u64> {
        let writer = self.writer.take().expect("open until committed");
        let f = writer.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        let len = f.metadata()?.len();
        fs::rename(&self.tmp, &self.path)?;
        Ok(len)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // After a commit the temporary name no longer exists.
        let _ = fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_dropped_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.writer().write_all(b"new").unwrap();
        drop(f);
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
