//! `RUN --mount=type=...,key=value,...` parsing and validation.

use crate::ast::{CacheSharing, Deferred, MountType, RunMount};
use crate::error::ParseErrorKind;

/// Every key a mount may have (aliases included), for error messages.
pub const MOUNT_KEYS: &[&str] = &[
    "type",
    "id",
    "sharing",
    "from",
    "source",
    "src",
    "target",
    "dst",
    "destination",
    "readonly",
    "ro",
    "rw",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "env",
];

/// Parses one `--mount` value (without `--mount=`).
pub fn parse_mount(value: &str) -> Result<RunMount, ParseErrorKind> {
    let fields = csv_fields(value)?;
    let mut mount_type = MountType::Bind;
    for field in &fields {
        if let Some((key, v)) = field.split_once('=')
            && key.eq_ignore_ascii_case("type")
        {
            mount_type = match v {
                "bind" => MountType::Bind,
                "cache" => MountType::Cache,
                "tmpfs" => MountType::Tmpfs,
                "secret" => MountType::Secret,
                "ssh" => MountType::Ssh,
                _ => return Err(bad_value("type", v, one_of(MountType::NAMES))),
            };
        }
    }
    let mut mount = RunMount {
        mount_type,
        target: None,
        source: None,
        from: None,
        read_only: matches!(
            mount_type,
            MountType::Bind | MountType::Secret | MountType::Ssh
        ),
        id: None,
        sharing: None,
        mode: None,
        uid: None,
        gid: None,
        size: None,
        required: false,
        env: None,
    };
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key.to_ascii_lowercase(), Some(value)),
            None => (field.to_ascii_lowercase(), None),
        };
        let text = || -> Result<String, ParseErrorKind> {
            value
                .map(str::to_string)
                .ok_or_else(|| ParseErrorKind::InvalidMount {
                    message: format!("field {key:?} must be a key=value pair"),
                })
        };
        match key.as_str() {
            "type" => {}
            "id" => mount.id = Some(text()?),
            "from" => mount.from = Some(text()?),
            "source" | "src" => mount.source = Some(text()?),
            "target" | "dst" | "destination" => mount.target = Some(text()?),
            "env" => mount.env = Some(text()?),
            "readonly" | "ro" => mount.read_only = parse_bool(&key, value)?,
            "rw" => mount.read_only = !parse_bool(&key, value)?,
            "required" => mount.required = parse_bool(&key, value)?,
            "sharing" => {
                let v = text()?;
                mount.sharing = Some(match v.as_str() {
                    "shared" => CacheSharing::Shared,
                    "private" => CacheSharing::Private,
                    "locked" => CacheSharing::Locked,
                    _ => return Err(bad_value("sharing", &v, one_of(CacheSharing::NAMES))),
                });
            }
            "mode" => {
                mount.mode = Some(number(
                    &key,
                    &text()?,
                    "an octal file mode such as 0644",
                    |v| u32::from_str_radix(v, 8).ok(),
                )?);
            }
            "uid" | "gid" => {
                let id = number(&key, &text()?, "a numeric id", |v| v.parse::<u32>().ok())?;
                if key == "uid" {
                    mount.uid = Some(id);
                } else {
                    mount.gid = Some(id);
                }
            }
            "size" => {
                mount.size = Some(number(
                    &key,
                    &text()?,
                    "a size such as 64m or 1g",
                    parse_size,
                )?);
            }
            _ => {
                return Err(ParseErrorKind::UnknownMountKey {
                    key,
                    valid: MOUNT_KEYS,
                });
            }
        }
    }
    validate(&mount)?;
    Ok(mount)
}

fn validate(mount: &RunMount) -> Result<(), ParseErrorKind> {
    let kind = mount.mount_type.as_str();
    let invalid = |message: String| Err(ParseErrorKind::InvalidMount { message });
    if mount.sharing.is_some() && mount.mount_type != MountType::Cache {
        return invalid(format!(
            "sharing= is only valid for cache mounts, not {kind}"
        ));
    }
    if mount.size.is_some() && mount.mount_type != MountType::Tmpfs {
        return invalid(format!("size= is only valid for tmpfs mounts, not {kind}"));
    }
    if mount.from.is_some()
        && matches!(
            mount.mount_type,
            MountType::Tmpfs | MountType::Secret | MountType::Ssh
        )
    {
        return invalid(format!("from= is not valid for {kind} mounts"));
    }
    if mount.env.is_some() && mount.mount_type != MountType::Secret {
        return invalid(format!("env= is only valid for secret mounts, not {kind}"));
    }
    if mount.mount_type == MountType::Secret
        && mount.id.is_none()
        && mount.target.is_none()
        && mount.env.is_none()
    {
        return invalid("a secret mount needs id=, target= or env=".to_string());
    }
    Ok(())
}

fn one_of(names: &[&str]) -> String {
    format!("one of {}", names.join(", "))
}

fn bad_value(key: &str, value: &str, expected: String) -> ParseErrorKind {
    ParseErrorKind::InvalidMountValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

fn parse_bool(key: &str, value: Option<&str>) -> Result<bool, ParseErrorKind> {
    match value {
        None | Some("") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => Err(bad_value(key, v, "true or false".to_string())),
    }
}

/// A number, or the raw text when it refers to variables (expanded later).
fn number<T>(
    key: &str,
    value: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Deferred<T>, ParseErrorKind> {
    if value.contains('$') {
        return Ok(Deferred::Unexpanded(value.to_string()));
    }
    parse(value)
        .map(Deferred::Literal)
        .ok_or_else(|| bad_value(key, value, expected.to_string()))
}

/// Sizes like Docker's `RAMInBytes`: a number with an optional binary unit
/// `k`, `m`, `g`, `t`, `p` (optionally followed by `b` or `ib`).
pub fn parse_size(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let number_len = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_len);
    let unit = unit.trim_start();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(unit);
    let multiplier: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let bytes = value * multiplier as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Splits a mount value into fields like Go's `encoding/csv`: commas
/// separate, a field may be wrapped in `"…"` with `""` for a quote.
fn csv_fields(value: &str) -> Result<Vec<String>, ParseErrorKind> {
    let mut fields = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(ParseErrorKind::InvalidMount {
                            message: format!("unterminated quote in {value:?}"),
                        });
                    }
                }
            }
            match chars.next() {
                None | Some(',') => {}
                Some(_) => {
                    return Err(ParseErrorKind::InvalidMount {
                        message: format!("text after a closing quote in {value:?}"),
                    });
                }
            }
            fields.push(field);
            if chars.peek().is_none() {
                break;
            }
            continue;
        }
        let mut ended_by_comma = false;
        for c in chars.by_ref() {
            if c == ',' {
                ended_by_comma = true;
                break;
            }
            field.push(c);
        }
        if !field.is_empty() {
            fields.push(field);
        }
        if !ended_by_comma {
            break;
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_mount() {
        let m =
            parse_mount("type=cache,target=/root/.cache,sharing=locked,id=pip,uid=1000,mode=0755")
                .unwrap();
        assert_eq!(m.mount_type, MountType::Cache);
        assert_eq!(m.target.as_deref(), Some("/root/.cache"));
        assert_eq!(m.sharing, Some(CacheSharing::Locked));
        assert_eq!(m.uid, Some(Deferred::Literal(1000)));
        assert_eq!(m.mode, Some(Deferred::Literal(0o755)));
        assert!(!m.read_only);
    }

    #[test]
    fn bind_defaults_and_aliases() {
        let m = parse_mount("target=/src,from=build,src=/out").unwrap();
        assert_eq!(m.mount_type, MountType::Bind);
        assert!(m.read_only);
        assert_eq!(m.source.as_deref(), Some("/out"));
        assert!(!parse_mount("type=bind,dst=/x,rw").unwrap().read_only);
        assert!(
            parse_mount("type=bind,destination=/x,ro=true")
                .unwrap()
                .read_only
        );
    }

    #[test]
    fn secrets_ssh_tmpfs() {
        let m = parse_mount("type=secret,id=npm,required,env=TOKEN").unwrap();
        assert!(m.required);
        assert_eq!(m.env.as_deref(), Some("TOKEN"));
        assert!(parse_mount("type=ssh").is_ok());
        let m = parse_mount("type=tmpfs,target=/tmp,size=64m").unwrap();
        assert_eq!(m.size, Some(Deferred::Literal(64 << 20)));
        let m = parse_mount("type=cache,target=/c,uid=${UID}").unwrap();
        assert_eq!(m.uid, Some(Deferred::Unexpanded("${UID}".into())));
        let m = parse_mount(r#""target=/a,b",type=bind"#).unwrap();
        assert_eq!(m.target.as_deref(), Some("/a,b"));
    }

    #[test]
    fn mount_errors() {
        let err = |v| parse_mount(v).unwrap_err().to_string();
        assert_eq!(
            err("type=volume,target=/x"),
            "RUN --mount: invalid value \"volume\" for type: expected one of bind, cache, tmpfs, secret, ssh"
        );
        assert!(parse_mount("type=cache").unwrap().target.is_none());
        assert!(err("type=cache,target=/x,sharing=all").contains("one of shared, private, locked"));
        assert!(err("type=cache,target=/x,colour=red").contains("unexpected key \"colour\""));
        assert!(err("type=cache,target=/x,uid=abc").contains("numeric id"));
        assert!(err("type=bind,target=/x,sharing=shared").contains("only valid for cache"));
        assert!(err("type=secret").contains("needs id="));
    }
}
