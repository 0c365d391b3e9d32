//! `--secret id=ID[,src=PATH|,env=VAR][,type=file|env]`: secrets a `RUN --mount=type=secret`
//! may read. Only the source is recorded here; the value is read when the step runs and
//! never enters a layer, the history, a cache key or a log.

use std::path::PathBuf;

use super::kv::split_fields;

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// One `--secret` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    pub id: String,
    pub source: SecretSource,
}

/// A `--secret` value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("--secret {0:?}: missing id= (use --secret id=NAME,src=FILE or id=NAME,env=VAR)")]
    MissingId(String),
    #[error("--secret {text:?}: unknown key {key:?} (valid keys: id, src, source, env, type)")]
    UnknownKey { text: String, key: String },
    #[error("--secret {text:?}: unknown type {kind:?} (valid types: file, env)")]
    UnknownType { text: String, kind: String },
    #[error("--secret {0:?}: give either src= or env=, not both")]
    BothSources(String),
}

/// Parses one `--secret` value. Without `src=` or `env=`, the id names the source: an
/// environment variable of that name when `type=env`, otherwise a file path.
pub fn parse_secret(text: &str) -> Result<SecretSpec, SecretError> {
    let mut id = None;
    let mut src = None;
    let mut env = None;
    let mut kind = None;
    for (key, value) in split_fields(text) {
        let value = value.unwrap_or_default();
        match key.as_str() {
            "id" => id = Some(value),
            "src" | "source" => src = Some(value),
            "env" => env = Some(value),
            "type" => kind = Some(value),
            _ => {
                return Err(SecretError::UnknownKey {
                    text: text.to_string(),
                    key,
                });
            }
        }
    }
    let id = id
        .filter(|i| !i.is_empty())
        .ok_or_else(|| SecretError::MissingId(text.to_string()))?;
    let source = match (src, env, kind.as_deref()) {
        (Some(_), Some(_), _) => return Err(SecretError::BothSources(text.to_string())),
        (Some(path), None, None | Some("file")) => SecretSource::File(path.into()),
        (None, Some(var), None | Some("env")) => SecretSource::Env(var),
        (None, None, Some("env")) => SecretSource::Env(id.clone()),
        (None, None, None | Some("file")) => SecretSource::File(id.clone().into()),
        (_, _, Some(other)) => {
            return Err(SecretError::UnknownType {
                text: text.to_string(),
                kind: other.to_string(),
            });
        }
    };
    Ok(SecretSpec { id, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildx_forms() {
        assert_eq!(
            parse_secret("id=aws,src=/home/me/.aws/credentials").unwrap(),
            SecretSpec {
                id: "aws".into(),
                source: SecretSource::File("/home/me/.aws/credentials".into())
            }
        );
        assert_eq!(
            parse_secret("id=tok,env=GITHUB_TOKEN").unwrap().source,
            SecretSource::Env("GITHUB_TOKEN".into())
        );
        assert_eq!(
            parse_secret("type=env,id=TOKEN").unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        assert_eq!(
            parse_secret("id=key").unwrap().source,
            SecretSource::File("key".into())
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        assert_eq!(
            parse_secret("src=x"),
            Err(SecretError::MissingId("src=x".into()))
        );
        assert!(
            parse_secret("id=a,srcc=x")
                .unwrap_err()
                .to_string()
                .contains("valid keys")
        );
        assert!(matches!(
            parse_secret("id=a,type=vault"),
            Err(SecretError::UnknownType { .. })
        ));
        assert!(matches!(
            parse_secret("id=a,src=x,env=Y"),
            Err(SecretError::BothSources(_))
        ));
    }
}
