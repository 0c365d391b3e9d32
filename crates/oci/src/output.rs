//! BuildKit's `-o/--output` syntax, parsed into a typed [`OutputSpec`].
//!
//! Forms: `type=oci,dest=out.tar`, `type=oci,dest=dir,tar=false`,
//! `type=docker,dest=img.tar,name=app:1`, `type=registry,name=host/app:1`,
//! `type=image,name=app,push=true`, `type=local,dest=dir`, `type=tar,dest=rootfs.tar`;
//! the shorthands `-o DIR` (local) and `-o -` (rootfs tar on stdout); and the options
//! `compression=gzip|zstd|uncompressed`, `compression-level=N`, `oci-mediatypes=BOOL`,
//! `force-compression=BOOL`. Values with commas are quoted CSV-style: `"name=a,b"`.

use std::path::PathBuf;

use crate::compress::{Compression, CompressionOptions};
use crate::reference::Reference;

/// A parsed `--output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// Where the result goes.
    pub kind: OutputKind,
    /// Layer compression for image outputs.
    pub compression: CompressionOptions,
    /// `Some(true)`: OCI media types; `Some(false)`: Docker's; `None`: the exporter's default
    /// (OCI for `oci`, Docker for `docker`, OCI for registry pushes, like BuildKit).
    pub oci_media_types: Option<bool>,
    /// Recompress layers already compressed differently.
    pub force_compression: bool,
}

/// Where an output is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A file or directory.
    Path(PathBuf),
    /// Standard output.
    Stdout,
}

/// The exporter an output selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputKind {
    /// OCI image layout, as a tar (default) or a directory (`tar=false`).
    Oci {
        /// Where to write it.
        dest: Destination,
        /// Names to record in the layout's index.
        names: Vec<Reference>,
        /// Tar (true) or directory (false).
        tar: bool,
    },
    /// A docker-archive tar, as `docker save` writes.
    Docker {
        /// Where to write it.
        dest: Destination,
        /// Names to record (RepoTags).
        names: Vec<Reference>,
    },
    /// The local image store, optionally pushed (`type=image`, `type=registry`).
    Image {
        /// Names to tag.
        names: Vec<Reference>,
        /// Push to the names' registries too.
        push: bool,
    },
    /// The root file system as a directory.
    Local {
        /// The directory.
        dest: PathBuf,
    },
    /// The root file system as a tar.
    Tar {
        /// Where to write it.
        dest: Destination,
    },
}

/// A malformed `--output` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --output {input:?}: {reason}")]
pub struct OutputError {
    /// The text given.
    pub input: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

const TYPES: &str = "oci, docker, image, registry, local, tar";
const IMAGE_OPTIONS: [&str; 5] = [
    "compression",
    "compression-level",
    "force-compression",
    "oci-mediatypes",
    "name",
];

impl OutputSpec {
    /// Parses one `--output` value.
    pub fn parse(input: &str) -> Result<Self, OutputError> {
        let err = |reason: String| OutputError {
            input: input.to_string(),
            reason,
        };
        if input == "-" {
            return Ok(Self::plain(OutputKind::Tar {
                dest: Destination::Stdout,
            }));
        }
        if !input.contains('=') {
            return Ok(Self::plain(OutputKind::Local {
                dest: PathBuf::from(input),
            }));
        }
        let mut pairs = Vec::new();
        for field in split_csv(input).map_err(|r| err(r.to_string()))? {
            let Some((key, value)) = field.split_once('=') else {
                return Err(err(format!("{field:?} is not key=value")));
            };
            pairs.push((key.trim().to_string(), value.to_string()));
        }
        let kind_name = pairs
            .iter()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| err(format!("missing type= (one of: {TYPES})")))?;
        let valid: Vec<&str> = match kind_name.as_str() {
            "oci" => [&IMAGE_OPTIONS[..], &["dest", "tar"]].concat(),
            "docker" => [&IMAGE_OPTIONS[..], &["dest"]].concat(),
            "image" | "registry" => [&IMAGE_OPTIONS[..], &["push"]].concat(),
            "local" | "tar" => vec!["dest"],
            other => return Err(err(format!("unknown type {other:?} (valid: {TYPES})"))),
        };
        let mut spec = Self::plain(OutputKind::Tar {
            dest: Destination::Stdout,
        });
        let mut dest = None;
        let mut names = Vec::new();
        let mut tar = true;
        let mut push = kind_name == "registry";
        for (key, value) in pairs.iter().filter(|(k, _)| k != "type") {
            if !valid.contains(&key.as_str()) {
                return Err(err(format!(
                    "unknown key {key:?} for type={kind_name} (valid keys: type, {})",
                    valid.join(", ")
                )));
            }
            match key.as_str() {
                "dest" => {
                    dest = Some(if value == "-" {
                        Destination::Stdout
                    } else {
                        Destination::Path(PathBuf::from(value))
                    })
                }
                "name" => {
                    for name in value.split(',').filter(|n| !n.is_empty()) {
                        names.push(Reference::parse(name).map_err(|e| err(e.to_string()))?);
                    }
                }
                "tar" => tar = parse_bool(key, value).map_err(err)?,
                "push" => push = parse_bool(key, value).map_err(err)?,
                "compression" => {
                    spec.compression.compression = value
                        .parse::<Compression>()
                        .map_err(|e| err(e.to_string()))?
                }
                "compression-level" => {
                    spec.compression.level =
                        Some(value.parse::<i32>().map_err(|_| {
                            err(format!("compression-level={value:?} is not a number"))
                        })?)
                }
                "oci-mediatypes" => {
                    spec.oci_media_types = Some(parse_bool(key, value).map_err(err)?)
                }
                "force-compression" => {
                    spec.force_compression = parse_bool(key, value).map_err(err)?
                }
                _ => {}
            }
        }
        let need_dest = |dest: Option<Destination>| {
            dest.ok_or_else(|| {
                err(format!(
                    "type={kind_name} needs dest=PATH (or dest=- for stdout)"
                ))
            })
        };
        spec.kind = match kind_name.as_str() {
            "oci" => {
                let dest = need_dest(dest)?;
                if !tar && dest == Destination::Stdout {
                    return Err(err(
                        "tar=false writes a directory; give dest=DIR".to_string()
                    ));
                }
                OutputKind::Oci { dest, names, tar }
            }
            "docker" => OutputKind::Docker {
                dest: need_dest(dest)?,
                names,
            },
            "image" | "registry" => {
                if push && names.is_empty() {
                    return Err(err("pushing needs name=REGISTRY/REPO[:TAG]".to_string()));
                }
                OutputKind::Image { names, push }
            }
            "local" => match need_dest(dest)? {
                Destination::Path(dest) => OutputKind::Local { dest },
                Destination::Stdout => {
                    return Err(err(
                        "type=local writes a directory; give dest=DIR".to_string()
                    ));
                }
            },
            _ => OutputKind::Tar {
                dest: need_dest(dest)?,
            },
        };
        Ok(spec)
    }

    fn plain(kind: OutputKind) -> Self {
        OutputSpec {
            kind,
            compression: CompressionOptions::default(),
            oci_media_types: None,
            force_compression: false,
        }
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("{key}={other:?} must be true or false")),
    }
}

/// Splits a CSV line (double quotes group, `""` inside quotes is a quote).
fn split_csv(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            other => field.push(other),
        }
    }
    if quoted {
        return Err("unterminated double quote");
    }
    fields.push(field);
    Ok(fields.into_iter().filter(|f| !f.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> OutputSpec {
        OutputSpec::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_every_type() {
        let spec = parse("type=oci,dest=out.tar,compression=zstd,compression-level=5");
        assert_eq!(spec.compression.compression, Compression::Zstd);
        assert_eq!(spec.compression.level, Some(5));
        assert!(matches!(spec.kind, OutputKind::Oci { tar: true, .. }));
        let spec = parse("type=oci,dest=dir,tar=false,oci-mediatypes=false,force-compression=true");
        assert!(matches!(spec.kind, OutputKind::Oci { tar: false, .. }));
        assert_eq!(spec.oci_media_types, Some(false));
        assert!(spec.force_compression);
        let spec = parse("type=docker,dest=-,name=app:1");
        match spec.kind {
            OutputKind::Docker { dest, names } => {
                assert_eq!(dest, Destination::Stdout);
                assert_eq!(names[0].familiar(), "app:1");
            }
            other => panic!("{other:?}"),
        }
        let spec = parse(r#"type=registry,"name=localhost:5000/a:1,localhost:5000/a:2""#);
        match spec.kind {
            OutputKind::Image { names, push } => {
                assert!(push);
                assert_eq!(names.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("type=image,name=x").kind,
            OutputKind::Image { push: false, .. }
        ));
        assert_eq!(
            parse("type=local,dest=out").kind,
            OutputKind::Local { dest: "out".into() }
        );
        assert_eq!(
            parse("outdir").kind,
            OutputKind::Local {
                dest: "outdir".into()
            }
        );
        assert_eq!(
            parse("-").kind,
            OutputKind::Tar {
                dest: Destination::Stdout
            }
        );
        assert_eq!(
            parse("type=tar,dest=r.tar").kind,
            OutputKind::Tar {
                dest: Destination::Path("r.tar".into())
            }
        );
    }

    #[test]
    fn errors_say_what_is_valid() {
        let cases = [
            ("type=oci,dest=x,bogus=1", "valid keys: type, compression"),
            (
                "type=local,dest=x,compression=gzip",
                "valid keys: type, dest",
            ),
            ("type=nope", "valid: oci, docker"),
            ("dest=x,compression=gzip", "missing type="),
            ("type=oci", "needs dest="),
            (
                "type=oci,dest=x,compression=lz4",
                "gzip, zstd, uncompressed",
            ),
            ("type=oci,dest=x,compression-level=high", "not a number"),
            ("type=oci,dest=x,tar=maybe", "true or false"),
            ("type=registry", "needs name="),
            ("type=docker,dest=x,name=UPPER", "lowercase"),
            ("type=oci,\"dest=x", "quote"),
            ("type=oci,dest", "key=value"),
        ];
        for (input, needle) in cases {
            let e = OutputSpec::parse(input).expect_err(input).to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }
}
