//! COPY/ADD file semantics: where each selected entry lands in the image's filesystem, with
//! which owner and mode, following Docker's rules.
//!
//! The destination is a root filesystem directory (the mounted snapshot); every destination
//! path is resolved inside it, symlinks included, so a symlink in the image cannot redirect
//! a write to the host.

mod destination;
mod open_dirs;
mod parallel;
mod reuse;
mod write;

pub use destination::{CopyPlanError, DestinationKind, destination_kind};
pub use reuse::{PreviousTree, fresh_in_layers};
pub use write::{
    CopyError, CopyOptions, CopyStats, copy_selection, copy_selection_reusing, mkdir_all,
};
