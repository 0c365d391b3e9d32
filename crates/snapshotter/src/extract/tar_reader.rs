//! A streaming tar reader for layers: ustar/GNU headers, PAX extended headers parsed by
//! their length prefixes (so binary values such as `security.capability` may contain
//! newlines), GNU long names and links. Data is read straight from the stream.
//!
//! The `tar` crate's reader splits PAX records on newlines, which breaks binary xattr
//! values; this reader keeps the crate's header type but does its own record parsing.

use std::io::{self, Read};

use tar::{EntryType, Header};

/// The largest extended header (PAX or GNU long name) accepted: far above any real one,
/// low enough that a hostile tar cannot make us allocate without bound.
const MAX_EXTENSION: u64 = 16 << 20;

/// One member of the archive, with its extensions folded in.
pub(crate) struct TarEntry {
    pub(crate) header: Header,
    pub(crate) path: Vec<u8>,
    pub(crate) link: Option<Vec<u8>>,
    /// PAX records (global ones first, then this entry's), in archive order.
    pub(crate) pax: Vec<(String, Vec<u8>)>,
}

pub(crate) struct TarReader<R> {
    inner: R,
    /// Data bytes of the current entry not yet read, then its padding.
    remaining: u64,
    padding: u64,
    global: Vec<(String, Vec<u8>)>,
    ended: bool,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        TarReader {
            inner,
            remaining: 0,
            padding: 0,
            global: Vec::new(),
            ended: false,
        }
    }

    /// The next member, skipping whatever of the previous one was not read.
    pub(crate) fn next_entry(&mut self) -> io::Result<Option<TarEntry>> {
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        loop {
            self.skip_rest()?;
            if self.ended {
                return Ok(None);
            }
            let Some(header) = self.read_header()? else {
                self.ended = true;
                return Ok(None);
            };
            let kind = header.entry_type();
            let mut size = header.entry_size()?;
            if !matches!(kind, EntryType::XHeader | EntryType::XGlobalHeader)
                && let Some((_, v)) = pax.iter().rev().find(|(k, _)| k == "size")
            {
                size = parse_decimal(v).ok_or_else(|| invalid("unreadable PAX size"))?;
            }
            self.remaining = size;
            self.padding = (512 - size % 512) % 512;
            match kind {
                EntryType::XHeader => pax.extend(parse_pax(&self.read_extension()?)?),
                EntryType::XGlobalHeader => {
                    let records = parse_pax(&self.read_extension()?)?;
                    self.global.extend(records);
                }
                EntryType::GNULongName => long_name = Some(trim_nul(self.read_extension()?)),
                EntryType::GNULongLink => long_link = Some(trim_nul(self.read_extension()?)),
                _ => {
                    let find = |key: &str| {
                        pax.iter()
                            .rev()
                            .find(|(k, _)| k == key)
                            .map(|(_, v)| v.clone())
                    };
                    let path = find("path")
                        .or(long_name)
                        .unwrap_or_else(|| header.path_bytes().into_owned());
                    let link = find("linkpath")
                        .or(long_link)
                        .or_else(|| header.link_name_bytes().map(|c| c.into_owned()));
                    let mut all = self.global.clone();
                    all.extend(pax);
                    return Ok(Some(TarEntry {
                        header,
                        path,
                        link,
                        pax: all,
                    }));
                }
            }
        }
    }

    /// Reads the current entry's data.
    pub(crate) fn data(&mut self) -> EntryData<'_, R> {
        EntryData { reader: self }
    }

    fn read_header(&mut self) -> io::Result<Option<Header>> {
        let mut block = [0u8; 512];
        let mut filled = 0;
        while filled < 512 {
            match self.inner.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(None), // end of stream without end marker
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "truncated tar header",
                    ));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if block.iter().all(|b| *b == 0) {
            return Ok(None); // end-of-archive marker
        }
        let mut header = Header::new_old();
        header.as_mut_bytes().copy_from_slice(&block);
        let computed: u32 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(*b)
                }
            })
            .sum();
        if header.cksum()? != computed {
            return Err(invalid("tar header checksum mismatch"));
        }
        Ok(Some(header))
    }

    fn read_extension(&mut self) -> io::Result<Vec<u8>> {
        if self.remaining > MAX_EXTENSION {
            return Err(invalid("extended tar header larger than 16 MiB"));
        }
        let mut out = Vec::with_capacity(self.remaining as usize);
        self.data().read_to_end(&mut out)?;
        Ok(out)
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let rest = self.remaining + self.padding;
        if rest > 0 {
            let copied = io::copy(&mut (&mut self.inner).take(rest), &mut io::sink())?;
            if copied < rest {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated tar entry",
                ));
            }
        }
        self.remaining = 0;
        self.padding = 0;
        Ok(())
    }
}

/// The data of the current entry; ends after `size` bytes, errors if the stream ends
/// sooner.
pub(crate) struct EntryData<'a, R> {
    reader: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.reader.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.reader.remaining).unwrap_or(usize::MAX));
        let n = self.reader.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated tar entry data",
            ));
        }
        self.reader.remaining -= n as u64;
        Ok(n)
    }
}

/// Parses `"<len> <key>=<value>\n"` records by their length, so values may hold any byte.
fn parse_pax(data: &[u8]) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break; // padding some writers leave
        }
        let space = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| invalid("PAX record without length"))?;
        let len =
            parse_decimal(&rest[..space]).ok_or_else(|| invalid("PAX record length unreadable"))?;
        let len = usize::try_from(len).map_err(|_| invalid("PAX record too long"))?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(invalid("PAX record length does not match its content"));
        }
        let record = &rest[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| invalid("PAX record without '='"))?;
        let key =
            std::str::from_utf8(&record[..eq]).map_err(|_| invalid("PAX key is not UTF-8"))?;
        out.push((key.to_string(), record[eq + 1..].to_vec()));
        rest = &rest[len..];
    }
    Ok(out)
}

fn parse_decimal(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_values_may_contain_newlines() {
        let value = b"a\nb=c\n";
        let mut rec = b" SCHILY.xattr.user.x=".to_vec();
        rec.extend_from_slice(value);
        rec.push(b'\n');
        let len = rec.len() + 2;
        let mut data = format!("{len}").into_bytes();
        data.extend_from_slice(&rec);
        assert_eq!(data.len(), len);
        data.extend_from_slice(b"11 path=ab\n");
        let parsed = parse_pax(&data).unwrap();
        assert_eq!(
            parsed[0],
            ("SCHILY.xattr.user.x".to_string(), value.to_vec())
        );
        assert_eq!(parsed[1], ("path".to_string(), b"ab".to_vec()));
    }

    #[test]
    fn bad_pax_lengths_are_errors() {
        for bad in [
            &b"99 path=a\n"[..],
            b"x path=a\n",
            b"5 path=a\n",
            b"9 patha\n",
        ] {
            assert!(
                parse_pax(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
