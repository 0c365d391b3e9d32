//! What a layer changes, as a list of paths relative to the layer root.

use std::path::PathBuf;

/// One changed path of a snapshot, relative to its root (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// The path, relative to the snapshot root.
    pub path: PathBuf,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// The kind of a [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Added or modified: the entry (file, directory, link, device...) is written as it is
    /// in the source tree.
    Entry,
    /// A directory that replaces the lower one entirely: written as it is, followed by an
    /// opaque marker (`.wh..wh..opq`).
    OpaqueDir,
    /// Deleted: written as a whiteout (`.wh.NAME`).
    Whiteout,
}

impl Change {
    pub(crate) fn new(path: PathBuf, kind: ChangeKind) -> Self {
        Change { path, kind }
    }
}
