//! Unpacking an image archive into a staging directory, safely: only regular files are
//! written (under sanitised paths), symbolic links are recorded and resolved inside the
//! archive, everything else is ignored. Nothing can land outside the staging directory.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::{IoContext, OciError};

/// An archive's files, readable by their path inside the archive.
pub struct Staged {
    root: PathBuf,
    symlinks: BTreeMap<String, String>,
    archive: PathBuf,
}

impl Staged {
    /// Uses an existing directory (an OCI layout directory) as is.
    pub fn directory(dir: &Path) -> Self {
        Staged {
            root: dir.to_path_buf(),
            symlinks: BTreeMap::new(),
            archive: dir.to_path_buf(),
        }
    }

    /// Unpacks the tar `input` (named `archive` in errors) into `staging`.
    pub fn unpack<R: Read>(input: R, archive: &Path, staging: &Path) -> Result<Self, OciError> {
        let bad = |reason: String| OciError::Archive {
            path: archive.to_path_buf(),
            reason,
        };
        let mut symlinks = BTreeMap::new();
        let mut tar = tar::Archive::new(input);
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let raw = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
            let Some(name) = clean(&raw) else {
                return Err(bad(format!(
                    "entry {} leaves the archive root",
                    raw.display()
                )));
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let target = staging.join(&name);
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).ctx("create directory", parent)?;
                    }
                    let mut file = std::fs::File::create(&target).ctx("create", &target)?;
                    std::io::copy(&mut entry, &mut file)
                        .map_err(|e| bad(format!("reading {name}: {e}")))?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let Some(target) = entry.link_name().map_err(|e| bad(e.to_string()))? else {
                        continue;
                    };
                    let is_hard = entry.header().entry_type() == tar::EntryType::Link;
                    let base = if is_hard {
                        PathBuf::new()
                    } else {
                        Path::new(&name)
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default()
                    };
                    if let Some(resolved) = clean(&base.join(&*target)).filter(|r| !r.is_empty()) {
                        symlinks.insert(name, resolved);
                    }
                }
                _ => {}
            }
        }
        Ok(Staged {
            root: staging.to_path_buf(),
            symlinks,
            archive: archive.to_path_buf(),
        })
    }

    /// The real path of the archive file `name`, following the archive's links.
    pub fn path(&self, name: &str) -> Result<PathBuf, OciError> {
        let mut current = clean(Path::new(name)).ok_or_else(|| self.missing(name))?;
        for _ in 0..16 {
            match self.symlinks.get(&current) {
                Some(next) => current = next.clone(),
                None => {
                    let path = self.root.join(&current);
                    return if path.is_file() {
                        Ok(path)
                    } else {
                        Err(self.missing(name))
                    };
                }
            }
        }
        Err(self.missing(name))
    }

    /// Whether the archive has the file `name`.
    pub fn has(&self, name: &str) -> bool {
        self.path(name).is_ok()
    }

    /// Reads the archive file `name`.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, OciError> {
        let path = self.path(name)?;
        std::fs::read(&path).ctx("read", path)
    }

    /// The archive, for error messages.
    pub fn archive(&self) -> &Path {
        &self.archive
    }

    fn missing(&self, name: &str) -> OciError {
        OciError::Archive {
            path: self.archive.clone(),
            reason: format!("it has no file {name:?}"),
        }
    }
}

/// A relative path without `.`/`..`/root components (empty for the root itself), or None
/// if it would leave the root.
fn clean(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_string()),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}
