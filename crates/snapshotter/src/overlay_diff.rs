//! Diff of an overlay snapshot: the upper directory *is* the change set, so only what
//! changed is walked (cost grows with the change, not with the image).

use std::path::{Path, PathBuf};

use crate::change::{Change, ChangeKind};
use crate::diff_error::DiffError;
use crate::overlay_format::{is_opaque_dir, is_whiteout};

/// Lists the changes recorded in an overlay upper directory, in sorted depth-first order.
///
/// Whiteouts (0/0 character devices) become [`ChangeKind::Whiteout`], opaque directories
/// [`ChangeKind::OpaqueDir`]; every other entry, directories included (their own
/// metadata may have changed, and they carry changed children), is a [`ChangeKind::Entry`].
pub fn overlay_changes(upper: &Path) -> Result<Vec<Change>, DiffError> {
    let mut out = Vec::new();
    walk(upper, PathBuf::new(), &mut out)?;
    Ok(out)
}

fn walk(upper: &Path, rel: PathBuf, out: &mut Vec<Change>) -> Result<(), DiffError> {
    let dir = upper.join(&rel);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| DiffError::io("read directory", &dir, e))? {
        let entry = entry.map_err(|e| DiffError::io("read directory", &dir, e))?;
        names.push(entry.file_name());
    }
    names.sort();
    for name in names {
        let child_rel = rel.join(&name);
        let path = upper.join(&child_rel);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| DiffError::io("stat", &path, e))?;
        if is_whiteout(&meta) {
            out.push(Change::new(child_rel, ChangeKind::Whiteout));
        } else if meta.is_dir() {
            let opaque =
                is_opaque_dir(&path).map_err(|e| DiffError::io("read xattrs", &path, e))?;
            let kind = if opaque {
                ChangeKind::OpaqueDir
            } else {
                ChangeKind::Entry
            };
            out.push(Change::new(child_rel.clone(), kind));
            walk(upper, child_rel, out)?;
        } else {
            out.push(Change::new(child_rel, ChangeKind::Entry));
        }
    }
    Ok(())
}
