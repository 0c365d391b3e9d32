//! Deciding whether a COPY destination names a directory or a file.

/// How the destination of a COPY is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    /// Sources are copied *into* this directory.
    Directory,
    /// The single source file is copied *as* this path.
    File,
}

/// A COPY whose sources and destination do not fit together.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CopyPlanError {
    #[error(
        "when using COPY with more than one source file, the destination must be a directory and end with a /: use \"{dest}/\""
    )]
    MultipleSourcesNeedDirectory { dest: String },
}

/// Docker's rule: a destination ending in `/` (or `/.`) is a directory; so is one that
/// already exists as a directory, or one that receives several sources or a directory's
/// contents. Several explicit sources with a destination not ending in `/` is an error.
pub fn destination_kind(
    dest: &str,
    explicit_sources: usize,
    matched_entries: usize,
    any_source_is_dir: bool,
    dest_is_existing_dir: bool,
) -> Result<DestinationKind, CopyPlanError> {
    let slash = dest.ends_with('/') || dest.ends_with("/.") || dest == "." || dest == "/";
    if explicit_sources > 1 && !slash {
        return Err(CopyPlanError::MultipleSourcesNeedDirectory {
            dest: dest.to_string(),
        });
    }
    if slash || dest_is_existing_dir || any_source_is_dir || matched_entries > 1 {
        Ok(DestinationKind::Directory)
    } else {
        Ok(DestinationKind::File)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rules() {
        use DestinationKind::*;
        assert_eq!(destination_kind("/app/", 1, 1, false, false), Ok(Directory));
        assert_eq!(destination_kind("/app", 1, 1, false, false), Ok(File));
        assert_eq!(destination_kind("/app", 1, 1, false, true), Ok(Directory));
        assert_eq!(destination_kind("/app", 1, 1, true, false), Ok(Directory));
        assert_eq!(destination_kind("/app", 1, 3, false, false), Ok(Directory));
        assert_eq!(destination_kind(".", 1, 1, false, false), Ok(Directory));
        assert!(destination_kind("/app", 2, 2, false, false).is_err());
    }
}
