//! ADD's extra powers over COPY: local archives are unpacked.

mod archive;

pub use archive::{Compression, detect_compression, open_archive};
