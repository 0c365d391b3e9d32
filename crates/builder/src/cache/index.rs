//! The persistent cache index: step key → recorded result, and step identity → the inputs
//! of its last build (for explaining misses).
//!
//! Records are small JSON files written atomically (temporary file, fsync, rename), so a
//! killed build leaves either the old record or the new one, never a torn file; a record
//! that cannot be parsed is treated as absent (a miss), not as an error.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::key::{CacheKey, StepInputs};

/// What a cached step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// The key this record answers.
    pub key: String,
    /// The layer the step added, if it added one.
    #[serde(default)]
    pub layer: Option<CachedLayer>,
    /// The history `created_by` text of the step.
    #[serde(default)]
    pub created_by: String,
    /// When the step was first built (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// For a COPY that wrote its destination as a fresh tree: that directory (`/app`).
    /// The next build of the step may link the files that did not change from this
    /// record's layer (see `copy/reuse.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_tree: Option<String>,
}

/// A layer produced by a cached step: enough to put it in a manifest and config again
/// without recomputing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLayer {
    /// sha256 of the uncompressed tar (the config's diffID).
    pub diff_id: String,
    /// The compressed blob in the content store.
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// The cache index could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the build cache under {path}: {source}")]
pub struct CacheIndexError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// The cache index under a store root (`<root>/cache`).
#[derive(Debug, Clone)]
pub struct CacheIndex {
    dir: PathBuf,
}

impl CacheIndex {
    /// Opens (creating if needed) the index under `store_root/cache`.
    pub fn open(store_root: &Path) -> Result<CacheIndex, CacheIndexError> {
        let dir = store_root.join("cache");
        for sub in ["records", "steps"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| CacheIndexError {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(CacheIndex { dir })
    }

    fn record_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join("records").join(format!("{}.json", key.hex()))
    }

    fn step_path(&self, step_identity: &str) -> PathBuf {
        let id = hex::encode(Sha256::digest(step_identity.as_bytes()));
        self.dir.join("steps").join(format!("{id}.json"))
    }

    /// The recorded result for a key, if any.
    pub fn get(&self, key: &CacheKey) -> Option<CacheRecord> {
        read_json(&self.record_path(key)).filter(|r: &CacheRecord| r.key == key.to_string())
    }

    /// Records a step's result.
    pub fn put(&self, key: &CacheKey, record: &CacheRecord) -> Result<(), CacheIndexError> {
        write_json(&self.record_path(key), record)
    }

    /// Forgets a key (e.g. when its layer was pruned).
    pub fn remove(&self, key: &CacheKey) {
        let _ = std::fs::remove_file(self.record_path(key));
    }

    /// The inputs of the last build of a step, identified by a stable text such as
    /// `<dockerfile path>#<stage>#<instruction index>`.
    pub fn last_inputs(&self, step_identity: &str) -> Option<StepInputs> {
        read_json(&self.step_path(step_identity))
    }

    /// The inputs of the last build of a step with the key they had, when the key recorded
    /// beside them is theirs (a build killed between writing the two leaves a pair that
    /// does not match, which is not trusted).
    pub fn last_build(&self, step_identity: &str) -> Option<(StepInputs, CacheKey)> {
        let path = self.step_path(step_identity);
        let recorded = std::fs::read_to_string(path.with_extension("key")).ok()?;
        let inputs: StepInputs = read_json(&path)?;
        let key = inputs.key();
        (key.to_string() == recorded).then_some((inputs, key))
    }

    /// Remembers the inputs of this build of a step, whose key is `key`. Skipped when the
    /// inputs recorded last already have that key: for a COPY of a large context they are
    /// megabytes of per-file digests, which a fully cached build should not rewrite.
    pub fn set_last_inputs(
        &self,
        step_identity: &str,
        inputs: &StepInputs,
        key: &CacheKey,
    ) -> Result<(), CacheIndexError> {
        let path = self.step_path(step_identity);
        let key_path = path.with_extension("key");
        let key_text = key.to_string();
        if path.exists()
            && std::fs::read_to_string(&key_path).is_ok_and(|recorded| recorded == key_text)
        {
            return Ok(());
        }
        // The inputs first, then the key naming them: a crash in between leaves a key
        // that does not match, so the next build writes both again.
        write_json(&path, inputs)?;
        write_atomic(&key_path, key_text.as_bytes())
    }

    /// Every recorded result (for prune: which layers are still referenced).
    pub fn records(&self) -> Vec<CacheRecord> {
        let Ok(dir) = std::fs::read_dir(self.dir.join("records")) else {
            return Vec::new();
        };
        dir.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| read_json(&e.path()))
            .collect()
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CacheIndexError> {
    let err = |source| CacheIndexError {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    // Streamed: step inputs can be megabytes, never held whole as JSON text.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, tmp);
    serde_json::to_writer(&mut out, value).map_err(|e| err(std::io::Error::other(e)))?;
    let tmp = out.into_inner().map_err(|e| err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheIndexError> {
    let err = |source| CacheIndexError {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_last_inputs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let index = CacheIndex::open(dir.path()).unwrap();
        let inputs = StepInputs {
            parent: "p".into(),
            instruction: "RUN true".into(),
            ..Default::default()
        };
        let key = inputs.key();
        assert!(index.get(&key).is_none());
        let record = CacheRecord {
            key: key.to_string(),
            layer: Some(CachedLayer {
                diff_id: "sha256:00".into(),
                digest: "sha256:01".into(),
                size: 3,
                media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            }),
            created_by: "RUN true".into(),
            created: "2026-01-01T00:00:00Z".into(),
            fresh_tree: None,
        };
        index.put(&key, &record).unwrap();
        index
            .set_last_inputs("Dockerfile#0#1", &inputs, &inputs.key())
            .unwrap();
        let reopened = CacheIndex::open(dir.path()).unwrap();
        assert_eq!(reopened.get(&key), Some(record));
        assert_eq!(reopened.last_inputs("Dockerfile#0#1"), Some(inputs.clone()));
        assert_eq!(
            reopened.last_build("Dockerfile#0#1"),
            Some((inputs.clone(), inputs.key()))
        );
        // Inputs whose recorded key is another's (a build killed between the two writes)
        // are not the last build of anything.
        write_atomic(
            &reopened.step_path("Dockerfile#0#1").with_extension("key"),
            b"sha256:ff",
        )
        .unwrap();
        assert_eq!(reopened.last_build("Dockerfile#0#1"), None);
        assert_eq!(reopened.last_inputs("Dockerfile#0#1"), Some(inputs));
        assert_eq!(reopened.records().len(), 1);
        reopened.remove(&key);
        assert!(reopened.get(&key).is_none());
    }

    #[test]
    fn a_torn_record_is_a_miss_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let index = CacheIndex::open(dir.path()).unwrap();
        let key = StepInputs::default().key();
        std::fs::write(index.record_path(&key), b"{\"key\": \"sha").unwrap();
        assert!(index.get(&key).is_none());
        assert!(index.records().is_empty());
    }
}
