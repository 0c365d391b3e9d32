//! Recognising the local archives that `ADD` unpacks: a tar, plain or compressed with gzip,
//! bzip2, xz or zstd (the formats Docker's ADD decompresses). Anything else is copied as an
//! ordinary file, like Docker does — so the check must be exact: the compression is taken
//! from magic bytes, and the (decompressed) stream must begin with a valid tar header.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// Detects the compression from the first bytes of a file.
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn decompressor(file: File, compression: Compression) -> std::io::Result<Box<dyn Read + Send>> {
    let buffered = BufReader::new(file);
    Ok(match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    })
}

/// Is this 512-byte block a tar header? Checks the header checksum, as tar readers do.
fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 || block.iter().all(|&b| b == 0) {
        return false;
    }
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                b' ' as u32
            } else {
                b as u32
            }
        })
        .sum();
    sum == stored
}

/// Opens `path` as an archive to unpack: returns the decompressed tar stream, or `None`
/// when the file is not a (possibly compressed) tar and must be copied as it is.
pub fn open_archive(path: &Path) -> std::io::Result<Option<(Compression, Box<dyn Read + Send>)>> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut file, &mut head)?;
    let compression = detect_compression(&head[..n]);
    file.seek(SeekFrom::Start(0))?;
    // Peek at the first decompressed block; a corrupt stream means "not an archive".
    let mut probe = decompressor(file.try_clone()?, compression)?;
    let mut block = [0u8; 512];
    let got = match read_up_to(&mut probe, &mut block) {
        Ok(n) => n,
        Err(_) => return Ok(None),
    };
    if !is_tar_header(&block[..got]) {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(Some((compression, decompressor(file, compression)?)))
}

/// Opens `path` decompressed (gzip, bzip2, xz or zstd by magic bytes; anything else as
/// it is), whether or not it holds a tar.
pub fn open_decompressed(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut file, &mut head)?;
    file.seek(SeekFrom::Start(0))?;
    decompressor(file, detect_compression(&head[..n]))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_bytes() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "hello.txt", &b"hello"[..]).unwrap();
        b.into_inner().unwrap()
    }

    fn unpack_names(mut r: Box<dyn Read + Send>) -> Vec<String> {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).unwrap();
        let mut a = tar::Archive::new(&bytes[..]);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn every_supported_compression_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let raw = tar_bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&raw).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&raw).unwrap();
        let cases = [
            ("t.tar", raw.clone(), Compression::None),
            ("t.tgz", gz.finish().unwrap(), Compression::Gzip),
            ("t.tbz", bz.finish().unwrap(), Compression::Bzip2),
            ("t.txz", xz.finish().unwrap(), Compression::Xz),
            (
                "t.tzst",
                zstd::encode_all(&raw[..], 3).unwrap(),
                Compression::Zstd,
            ),
        ];
        for (name, bytes, expected) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let (compression, reader) = open_archive(&path).unwrap().expect(name);
            assert_eq!(compression, expected, "{name}");
            assert_eq!(unpack_names(reader), ["hello.txt"], "{name}");
        }
    }

    #[test]
    fn other_files_are_not_archives() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, Vec<u8>); 4] = [
            ("text", b"just some text".to_vec()),
            ("empty", Vec::new()),
            ("zeros", vec![0u8; 2048]),
            ("fake-gzip", vec![0x1f, 0x8b, 1, 2, 3]),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert!(open_archive(&path).unwrap().is_none(), "{name}");
        }
        // A gzip of plain text is compressed but not an archive: copied as is.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[b'x'; 1000]).unwrap();
        let path = dir.path().join("text.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        assert!(open_archive(&path).unwrap().is_none());
        let mut text = String::new();
        open_decompressed(&path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "x".repeat(1000));
    }
}
