//! ADD's extra powers over COPY: local archives are unpacked, and URLs are fetched.

mod archive;
mod url;

pub use archive::{Compression, detect_compression, open_archive};
pub use url::{
    Download, DownloadError, download, is_url, parse_checksum, parse_http_date, url_file_name,
};
