//! PAX extended headers: how names, link targets, ids and sizes too large for a ustar
//! header, and extended attributes, travel in a tar stream.

use tar::{EntryType, Header};

/// Longest name or link target a plain ustar header field holds.
pub(crate) const USTAR_NAME_MAX: usize = 100;
/// Largest uid/gid a ustar header holds (7 octal digits).
pub(crate) const USTAR_ID_MAX: u64 = 0o7777777;
/// Largest size a ustar header holds (11 octal digits).
pub(crate) const USTAR_SIZE_MAX: u64 = 0o77777777777;

/// PAX records for one entry, kept sorted by key so output is deterministic.
#[derive(Default)]
pub(crate) struct PaxRecords {
    records: Vec<(String, Vec<u8>)>,
}

impl PaxRecords {
    pub(crate) fn add(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.records.push((key.into(), value.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The extended header block and body to write before the entry's own header.
    pub(crate) fn encode(mut self, entry_name: &[u8]) -> (Header, Vec<u8>) {
        // Standard keys first, then xattrs: some readers (the tar crate's among them) split
        // records on newlines, and a binary xattr value holding one would hide any record
        // after it; putting `path`, `linkpath`, `size`... first keeps those readable.
        self.records.sort_by(|(a, _), (b, _)| {
            (a.starts_with("SCHILY."), a).cmp(&(b.starts_with("SCHILY."), b))
        });
        let mut body = Vec::new();
        for (key, value) in &self.records {
            body.extend_from_slice(&record(key, value));
        }
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::XHeader);
        header.set_mode(0o644);
        header.set_size(body.len() as u64);
        header.set_mtime(0);
        // The name of the extended header itself is informational; keep it short and
        // derived from the entry so the output is deterministic.
        let base = entry_name
            .rsplit(|b| *b == b'/')
            .find(|part| !part.is_empty())
            .unwrap_or(b"entry");
        let mut name = b"PaxHeaders.0/".to_vec();
        name.extend_from_slice(&base[..base.len().min(USTAR_NAME_MAX - name.len())]);
        set_raw_name(&mut header, &name);
        header.set_cksum();
        (header, body)
    }
}

/// One `"<len> <key>=<value>\n"` record; `len` counts the whole record, itself included.
fn record(key: &str, value: &[u8]) -> Vec<u8> {
    let base = key.len() + value.len() + 3; // space, '=', newline
    let mut len = base + digits(base);
    if digits(len) + base != len {
        len = base + digits(len);
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// Writes `name` into the ustar name field, truncating to 100 bytes (a PAX `path` record
/// carries the full name when it is longer).
pub(crate) fn set_raw_name(header: &mut Header, name: &[u8]) {
    if let Some(ustar) = header.as_ustar_mut() {
        ustar.name = [0; 100];
        let n = name.len().min(USTAR_NAME_MAX);
        ustar.name[..n].copy_from_slice(&name[..n]);
    }
}

/// Writes `target` into the ustar link name field, truncated like [`set_raw_name`].
pub(crate) fn set_raw_link_name(header: &mut Header, target: &[u8]) {
    if let Some(ustar) = header.as_ustar_mut() {
        ustar.linkname = [0; 100];
        let n = target.len().min(USTAR_NAME_MAX);
        ustar.linkname[..n].copy_from_slice(&target[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_length_counts_itself() {
        for (k, v) in [
            ("path", "a".repeat(5)),
            ("path", "b".repeat(94)),
            ("x", "c".repeat(993)),
        ] {
            let r = record(k, v.as_bytes());
            let text = String::from_utf8(r.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len(), "{text:?}");
        }
    }
}
