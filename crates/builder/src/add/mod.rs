//! ADD's extra powers over COPY: local archives are unpacked, URLs are fetched, and git
//! repositories are checked out.

mod archive;
mod git;
mod url;

pub use archive::{Compression, detect_compression, open_archive, open_decompressed};
pub use git::{FetchedRepository, fetch_repository, is_git_source, resolve_repository};
pub use url::{
    Download, DownloadError, download, is_url, parse_checksum, parse_http_date, url_file_name,
};
