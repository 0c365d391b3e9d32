//! How overlayfs records deletions and opaque directories in a layer directory, and which
//! extended attributes are overlay bookkeeping rather than file content.
//!
//! - A deleted name is a character device with device number 0/0 (a "whiteout").
//! - A directory that hides everything below it has `trusted.overlay.opaque` (or, for
//!   overlays mounted with `userxattr`, `user.overlay.opaque`) set to `y`.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The opaque-directory attribute overlayfs uses when mounted by real root.
pub const TRUSTED_OPAQUE: &str = "trusted.overlay.opaque";
/// The opaque-directory attribute overlayfs uses with the `userxattr` option (rootless).
pub const USER_OPAQUE: &str = "user.overlay.opaque";

/// OCI whiteout file name prefix.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// OCI opaque directory marker file name.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Whether `meta` describes an overlay whiteout (a 0/0 character device).
pub fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Whether the directory at `path` is marked opaque by either overlay attribute.
pub fn is_opaque_dir(path: &Path) -> io::Result<bool> {
    for name in [TRUSTED_OPAQUE, USER_OPAQUE] {
        match xattr::get(path, name) {
            Ok(Some(v)) if v == b"y" => return Ok(true),
            Ok(_) => {}
            // A file system without xattr support cannot hold opaque markers.
            Err(e) if is_unsupported(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Whether an extended attribute is overlay (or host labelling) bookkeeping that must not
/// travel inside a layer: it would change how another host's overlay interprets the files.
pub fn is_private_xattr(name: &str) -> bool {
    name.starts_with("trusted.overlay.")
        || name.starts_with("user.overlay.")
        || name == "security.selinux"
}

/// The extended attributes that belong to the file's content, sorted by name.
pub fn content_xattrs(path: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(e) if is_unsupported(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in names {
        let Some(name) = name.to_str() else {
            continue; // PAX keys must be UTF-8; such names cannot be carried in a layer
        };
        if is_private_xattr(name) {
            continue;
        }
        if let Some(value) = xattr::get(path, name)? {
            out.push((name.to_string(), value));
        }
    }
    out.sort();
    Ok(out)
}

/// Errors meaning "this file system or file type has no extended attributes".
pub(crate) fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOTSUP) | Some(libc::ENODATA) | Some(libc::EPERM)
    )
}
