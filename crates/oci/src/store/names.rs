//! The name index: `<root>/images/names.json`, mapping references (`registry/repo:tag` and
//! `registry/repo@digest`) to manifest digests.
//!
//! Every update takes an exclusive flock on `names.lock`, re-reads the file, changes it and
//! replaces it by an atomic rename, so concurrent rbuild processes never lose each other's
//! tags and readers never see a half-written file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rbuild_snapshotter::{Digest, FileLock, LockMode};
use serde::{Deserialize, Serialize};

use crate::error::{IoContext, OciError, json_err};

/// The on-disk form of the index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameIndex {
    /// Full reference → manifest digest.
    pub names: BTreeMap<String, Digest>,
}

/// The name index file and its lock.
#[derive(Debug, Clone)]
pub struct NameFile {
    dir: PathBuf,
}

impl NameFile {
    /// Uses `<root>/images`, creating it if needed.
    pub fn open(root: &Path) -> Result<Self, OciError> {
        let dir = root.join("images");
        std::fs::create_dir_all(&dir).ctx("create directory", &dir)?;
        Ok(NameFile { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.join("names.json")
    }

    /// Reads the current index (empty if there is none yet).
    pub fn read(&self) -> Result<NameIndex, OciError> {
        let path = self.path();
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(json_err(path.display().to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NameIndex::default()),
            Err(e) => Err(e).ctx("read", path),
        }
    }

    /// Applies `change` under the lock and saves the result; returns what `change` returned.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut NameIndex) -> Result<T, OciError>,
    ) -> Result<T, OciError> {
        let _lock = FileLock::acquire(&self.dir.join("names.lock"), LockMode::Exclusive)?;
        let mut index = self.read()?;
        let result = change(&mut index)?;
        let bytes = serde_json::to_vec_pretty(&index).map_err(json_err("name index"))?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)
            .ctx("create temporary file in", &self.dir)?;
        temp.write_all(&bytes)
            .ctx("write", temp.path().to_path_buf())?;
        temp.as_file()
            .sync_all()
            .ctx("fsync", temp.path().to_path_buf())?;
        temp.persist(self.path())
            .map_err(|e| e.error)
            .ctx("replace", self.path())?;
        Ok(result)
    }
}
