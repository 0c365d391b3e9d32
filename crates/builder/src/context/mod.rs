//! The build context: which files a build may see, and what they contain.

mod ignore_file;
mod pattern;

pub use ignore_file::{IgnoreFileError, IgnoreRules, find_ignore_file};
pub use pattern::{Pattern, PatternError};
