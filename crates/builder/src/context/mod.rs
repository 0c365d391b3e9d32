//! The build context: which files a build may see, and what they contain.
//!
//! - [`IgnoreRules`]: `.dockerignore` with Docker's matching rules.
//! - [`resolve_in_root`]: paths from a Dockerfile resolved inside the context, symlinks
//!   included, so nothing outside it can be named.
//! - [`expand_source`]: COPY/ADD wildcards.
//! - [`walk_source`]: the entries a source selects, metadata only.
//! - [`digest_entries`] with a persistent [`StatCache`]: the content digest of a selection,
//!   reading no file whose stat data is unchanged.

mod glob;
mod ignore_file;
mod pattern;
mod resolve;
mod source_digest;
mod stat_cache;
mod walk;

pub use glob::{expand_source, has_wildcard, match_element};
pub use ignore_file::{IgnoreFileError, IgnoreRules, find_ignore_file};
pub use pattern::{Pattern, PatternError, clean_path};
pub use resolve::{ResolveError, resolve_in_root};
pub use source_digest::{SourceDigest, digest_entries};
pub use stat_cache::{StatCache, StatKey};
pub use walk::{ContextEntry, EntryKind, WalkError, walk_source};
