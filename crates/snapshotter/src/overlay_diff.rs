//! Diff of an overlay snapshot: the upper directory *is* the change set, so only what
//! changed is walked (cost grows with the change, not with the image).

use std::os::unix::fs::FileTypeExt;
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
    // The directory's own listing says each entry's type (no stat per entry: a COPY of
    // 50,000 files makes 50,000 entries here); only character devices, which may be
    // whiteouts, are looked at more closely.
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| DiffError::io("read directory", &dir, e))? {
        let entry = entry.map_err(|e| DiffError::io("read directory", &dir, e))?;
        let file_type = entry
            .file_type()
            .map_err(|e| DiffError::io("stat", entry.path(), e))?;
        names.push((entry.file_name(), file_type));
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, file_type) in names {
        let child_rel = rel.join(&name);
        let path = upper.join(&child_rel);
        let whiteout = file_type.is_char_device()
            && is_whiteout(
                &std::fs::symlink_metadata(&path).map_err(|e| DiffError::io("stat", &path, e))?,
            );
        if whiteout {
            out.push(Change::new(child_rel, ChangeKind::Whiteout));
        } else if file_type.is_dir() {
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
