//! `ADD <URL>`: the file is fetched over HTTP(S) and streamed to a file on disk (never held
//! in memory), hashed while it is written, checked against `--checksum`, and given Docker's
//! attributes: mode 0600 and the server's `Last-Modified` as its modification time. The file
//! name is the URL path's last segment, else `__unnamed__` (BuildKit's rule; the server's
//! `Content-Disposition` is ignored). Downloads are never unpacked, whatever their content.
//! `--checksum` takes sha256, sha384 or sha512 (BuildKit's algorithms). URLs in messages
//! are redacted of credentials.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::Digest as _;

use crate::remote::{redact_text, redact_url};

/// Why a URL could not be added.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot fetch {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("cannot fetch {url}: the server answered {status}")]
    Status { url: String, status: u16 },
    #[error("cannot write the download of {url} to {path}: {source}")]
    Write {
        url: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "invalid --checksum={0}: expected sha256:<64 hex digits>, sha384:<96 hex digits> or sha512:<128 hex digits>"
    )]
    ChecksumSyntax(String),
    #[error("checksum mismatch for {url}: expected {expected}, got {actual}")]
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
    },
}

/// A fetched file.
#[derive(Debug, Clone)]
pub struct Download {
    /// Where the content is (a file named [`Download::file_name`] in the directory given).
    pub path: PathBuf,
    /// The name the file gets when ADD's destination is a directory.
    pub file_name: String,
    /// `sha256:<hex>` of the content.
    pub digest: String,
    /// The server's `Last-Modified`, when it sent one.
    pub last_modified: Option<SystemTime>,
}

/// Is this ADD source a URL to fetch (rather than a context path)?
pub fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The digest algorithms `--checksum` accepts, with their hex lengths.
const CHECKSUM_ALGORITHMS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// Checks the syntax of a `--checksum` value and returns it normalised (lower-case hex).
pub fn parse_checksum(checksum: &str) -> Result<String, DownloadError> {
    let syntax = || DownloadError::ChecksumSyntax(checksum.to_string());
    let (algorithm, hex) = checksum.split_once(':').ok_or_else(syntax)?;
    let algorithm = algorithm.to_ascii_lowercase();
    let (_, len) = CHECKSUM_ALGORITHMS
        .iter()
        .find(|(name, _)| *name == algorithm)
        .ok_or_else(syntax)?;
    if hex.len() != *len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(syntax());
    }
    Ok(format!("{algorithm}:{}", hex.to_ascii_lowercase()))
}

/// Hashes a download as it streams: sha256 always (the content digest), plus the
/// `--checksum` algorithm when it is another one.
struct StreamHasher {
    sha256: sha2::Sha256,
    extra: Option<(&'static str, Box<dyn sha2::digest::DynDigest>)>,
}

impl StreamHasher {
    fn new(expected: Option<&str>) -> StreamHasher {
        let extra: Option<(&'static str, Box<dyn sha2::digest::DynDigest>)> =
            match expected.and_then(|e| e.split_once(':')).map(|(a, _)| a) {
                Some("sha384") => Some(("sha384", Box::new(sha2::Sha384::new()))),
                Some("sha512") => Some(("sha512", Box::new(sha2::Sha512::new()))),
                _ => None,
            };
        StreamHasher {
            sha256: sha2::Sha256::new(),
            extra,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        if let Some((_, hasher)) = &mut self.extra {
            hasher.update(bytes);
        }
    }

    /// The sha256 digest, and the digest in the checksum's algorithm.
    fn finish(self) -> (String, String) {
        let sha256 = format!("sha256:{}", hex::encode(self.sha256.finalize()));
        match self.extra {
            Some((name, hasher)) => {
                let other = format!("{name}:{}", hex::encode(hasher.finalize()));
                (sha256, other)
            }
            None => (sha256.clone(), sha256),
        }
    }
}

/// Fetches `url` into a new file in `dir` (which must exist and be private to this step).
pub fn download(url: &str, dir: &Path, checksum: Option<&str>) -> Result<Download, DownloadError> {
    let expected = checksum.map(parse_checksum).transpose()?;
    let shown = redact_url(url);
    // reqwest's messages quote the URL: drop it, ours is redacted.
    let fetch_error = |e: reqwest::Error| DownloadError::Fetch {
        url: shown.clone(),
        message: error_chain(&e.without_url()),
    };
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        // A large download may take long; only a stalled connection is an error.
        .timeout(None)
        .build()
        .map_err(fetch_error)?;
    let mut response = client.get(url).send().map_err(fetch_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(DownloadError::Status {
            url: shown.clone(),
            status: status.as_u16(),
        });
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let last_modified = header(reqwest::header::LAST_MODIFIED).and_then(|v| parse_http_date(&v));
    // Like BuildKit, the name comes from the URL only (Content-Disposition is ignored).
    let file_name = url_file_name(url);
    let path = dir.join(&file_name);
    let write_error = |source| DownloadError::Write {
        url: shown.clone(),
        path: path.clone(),
        source,
    };
    let mut file = File::create(&path).map_err(write_error)?;
    let mut hasher = StreamHasher::new(expected.as_deref());
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(DownloadError::Fetch {
                    url: shown.clone(),
                    message: redact_text(&e.to_string()),
                });
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(write_error)?;
    }
    file.sync_all().map_err(write_error)?;
    let (digest, checked) = hasher.finish();
    if let Some(expected) = expected
        && expected != checked
    {
        let _ = std::fs::remove_file(&path);
        return Err(DownloadError::ChecksumMismatch {
            url: shown.clone(),
            expected,
            actual: checked,
        });
    }
    // Docker gives downloaded files mode 0600 (no umask games: set it explicitly).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(write_error)?;
    if let Some(mtime) = last_modified {
        file.set_modified(mtime).map_err(write_error)?;
    }
    Ok(Download {
        path,
        file_name,
        digest,
        last_modified,
    })
}

/// An error and its causes on one line (reqwest's top message alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let line = e.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = e.source();
    }
    redact_text(&text)
}

/// The last segment of the URL's path, or `__unnamed__` when there is none (BuildKit's
/// default).
pub fn url_file_name(url: &str) -> String {
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once('/')
        .map(|(_, p)| p)
        .unwrap_or_default();
    safe_name(path.rsplit('/').next().unwrap_or_default()).unwrap_or_else(|| "__unnamed__".into())
}

/// A name usable as one path component, or None.
fn safe_name(name: &str) -> Option<String> {
    (!name.is_empty() && name != "." && name != ".." && !name.contains('\0'))
        .then(|| name.to_string())
}

/// Parses an HTTP date in its preferred form, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110);
/// the obsolete forms are not accepted (the mtime is then left as the download time).
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day as i64);
    let secs = days.checked_mul(86_400)? + (h * 3600 + m * 60 + s) as i64;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        let t = parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").unwrap();
        assert_eq!(t, SystemTime::UNIX_EPOCH);
        assert!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").is_none());
        assert!(parse_http_date("garbage").is_none());
        assert!(parse_http_date("").is_none());
    }

    #[test]
    fn file_names() {
        assert_eq!(url_file_name("http://h/a/b/tool.tar.gz"), "tool.tar.gz");
        assert_eq!(url_file_name("http://h/a/file?x=1#f"), "file");
        assert_eq!(url_file_name("http://h/"), "__unnamed__");
        assert_eq!(url_file_name("http://h"), "__unnamed__");
        assert_eq!(url_file_name("http://h/a/.."), "__unnamed__");
    }

    #[test]
    fn checksums() {
        let hex = "ab".repeat(32);
        assert_eq!(
            parse_checksum(&format!("sha256:{}", hex.to_uppercase())).unwrap(),
            format!("sha256:{hex}")
        );
        assert!(parse_checksum("sha256:abc").is_err());
        assert!(parse_checksum(&format!("sha512:{hex}")).is_err());
        let long = "Cd".repeat(64);
        assert_eq!(
            parse_checksum(&format!("sha512:{long}")).unwrap(),
            format!("sha512:{}", long.to_lowercase())
        );
        assert!(parse_checksum(&format!("sha384:{}", "0".repeat(96))).is_ok());
        let e = parse_checksum(&format!("md5:{hex}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sha256") && e.contains("sha384") && e.contains("sha512"),
            "{e}"
        );
    }

    #[test]
    fn every_algorithm_hashes_the_stream() {
        let body = b"hello world";
        for (algorithm, expected) in [
            ("sha256", hex::encode(sha2::Sha256::digest(body))),
            ("sha384", hex::encode(sha2::Sha384::digest(body))),
            ("sha512", hex::encode(sha2::Sha512::digest(body))),
        ] {
            let mut hasher = StreamHasher::new(Some(&format!("{algorithm}:x")));
            hasher.update(&body[..5]);
            hasher.update(&body[5..]);
            let (sha256, checked) = hasher.finish();
            assert_eq!(
                sha256,
                format!("sha256:{}", hex::encode(sha2::Sha256::digest(body)))
            );
            assert_eq!(checked, format!("{algorithm}:{expected}"));
        }
    }
}
