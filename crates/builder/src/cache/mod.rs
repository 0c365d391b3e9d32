//! The build cache: content-derived keys for every step, a persistent index from key to
//! result, and explanations of why a step missed.
//!
//! A step's key is a digest over its parent's key, the expanded instruction, the platform,
//! only the build args and environment variables the step uses, and for COPY/ADD the
//! content digest of its sources — never timestamps. The same inputs, kept per step
//! identity, let rbuild say which input changed since the last build of that step.

mod entry_digests;
mod explain;
mod index;
mod key;

pub use entry_digests::{EntryDigests, EntryDigestsBuilder};
pub use explain::{MissReason, explain_miss};
pub use index::{CacheIndex, CacheIndexError, CacheRecord, CachedLayer};
pub use key::{CacheKey, SourceInputs, StepInputs};
