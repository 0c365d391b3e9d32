//! Instruction flags (`--name[=value]`): which ones each instruction takes,
//! their types, and parsing of the raw flag words of a [`Node`].

use crate::error::ParseErrorKind;

/// Flags of FROM.
pub const FROM_FLAGS: &[&str] = &["platform"];
/// Flags of RUN.
pub const RUN_FLAGS: &[&str] = &["mount", "network", "security"];
/// Flags of COPY.
pub const COPY_FLAGS: &[&str] = &["from", "chown", "chmod", "link", "parents", "exclude"];
/// Flags of ADD.
pub const ADD_FLAGS: &[&str] = &[
    "chown",
    "chmod",
    "link",
    "exclude",
    "keep-git-dir",
    "checksum",
    "unpack",
];
/// Flags of HEALTHCHECK.
pub const HEALTHCHECK_FLAGS: &[&str] = &[
    "interval",
    "timeout",
    "start-period",
    "start-interval",
    "retries",
];
/// Instructions without flags.
pub const NO_FLAGS: &[&str] = &[];

/// How a flag's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlagType {
    /// `--name=value`, once.
    Text,
    /// `--name`, `--name=true|false`, once.
    Bool,
    /// `--name=value`, repeatable.
    List,
}

fn flag_type(name: &str) -> FlagType {
    match name {
        "link" | "parents" | "keep-git-dir" | "unpack" => FlagType::Bool,
        "mount" | "exclude" => FlagType::List,
        _ => FlagType::Text,
    }
}

/// The parsed flags of one instruction.
#[derive(Debug, Default)]
pub struct Flags {
    text: Vec<(&'static str, String)>,
    bools: Vec<(&'static str, bool)>,
    lists: Vec<(&'static str, Vec<String>)>,
}

/// A flag error plus the raw flag word, to point at it in the source.
pub type FlagError = (ParseErrorKind, String);

impl Flags {
    /// Parses `raw` (`--name=value` words) against the instruction's
    /// `valid` flag names.
    pub fn parse(
        instruction: &str,
        raw: &[String],
        valid: &'static [&'static str],
    ) -> Result<Flags, FlagError> {
        let mut flags = Flags::default();
        for word in raw {
            let err = |kind| (kind, word.clone());
            let Some(body) = word.strip_prefix("--") else {
                return Err(err(ParseErrorKind::MalformedFlag {
                    instruction: instruction.to_string(),
                    word: word.clone(),
                }));
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            let Some(&name) = valid.iter().find(|&&v| v == name) else {
                return Err(err(ParseErrorKind::UnknownFlag {
                    instruction: instruction.to_string(),
                    flag: name.to_string(),
                    valid,
                }));
            };
            let kind = flag_type(name);
            let seen = flags.text.iter().any(|(n, _)| *n == name)
                || flags.bools.iter().any(|(n, _)| *n == name);
            if seen && kind != FlagType::List {
                return Err(err(ParseErrorKind::DuplicateFlag {
                    instruction: instruction.to_string(),
                    flag: name.to_string(),
                }));
            }
            match kind {
                FlagType::Bool => {
                    let value = match value {
                        None | Some("") => true,
                        Some(v) if v.eq_ignore_ascii_case("true") => true,
                        Some(v) if v.eq_ignore_ascii_case("false") => false,
                        Some(v) => {
                            return Err(err(ParseErrorKind::InvalidFlagValue {
                                instruction: instruction.to_string(),
                                flag: name.to_string(),
                                value: v.to_string(),
                                expected: "true or false".to_string(),
                            }));
                        }
                    };
                    flags.bools.push((name, value));
                }
                FlagType::Text | FlagType::List => {
                    let Some(value) = value else {
                        return Err(err(ParseErrorKind::MissingFlagValue {
                            instruction: instruction.to_string(),
                            flag: name.to_string(),
                        }));
                    };
                    if kind == FlagType::Text {
                        flags.text.push((name, value.to_string()));
                    } else if let Some((_, list)) = flags.lists.iter_mut().find(|(n, _)| *n == name)
                    {
                        list.push(value.to_string());
                    } else {
                        flags.lists.push((name, vec![value.to_string()]));
                    }
                }
            }
        }
        Ok(flags)
    }

    /// The value of a text flag, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Takes the value of a text flag, if given.
    pub fn take_text(&mut self, name: &str) -> Option<String> {
        let index = self.text.iter().position(|(n, _)| *n == name)?;
        Some(self.text.swap_remove(index).1)
    }

    /// The value of a boolean flag, if given.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.bools.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The values of a repeatable flag (empty when absent).
    pub fn take_list(&mut self, name: &str) -> Vec<String> {
        match self.lists.iter().position(|(n, _)| *n == name) {
            Some(index) => self.lists.swap_remove(index).1,
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_typed_flags() {
        let mut flags = Flags::parse(
            "COPY",
            &words(&[
                "--from=build",
                "--link",
                "--parents=false",
                "--exclude=a",
                "--exclude=b",
            ]),
            COPY_FLAGS,
        )
        .unwrap();
        assert_eq!(flags.text("from"), Some("build"));
        assert_eq!(flags.bool("link"), Some(true));
        assert_eq!(flags.bool("parents"), Some(false));
        assert_eq!(flags.take_list("exclude"), ["a", "b"]);
    }

    #[test]
    fn flag_errors() {
        let kind = |raw: &[&str], valid| Flags::parse("COPY", &words(raw), valid).unwrap_err().0;
        assert!(matches!(
            kind(&["--user=me"], COPY_FLAGS),
            ParseErrorKind::UnknownFlag { .. }
        ));
        assert!(matches!(
            kind(&["--from"], COPY_FLAGS),
            ParseErrorKind::MissingFlagValue { .. }
        ));
        assert!(matches!(
            kind(&["--link=maybe"], COPY_FLAGS),
            ParseErrorKind::InvalidFlagValue { .. }
        ));
        assert!(matches!(
            kind(&["--from=a", "--from=b"], COPY_FLAGS),
            ParseErrorKind::DuplicateFlag { .. }
        ));
        let message = kind(&["--user=me"], COPY_FLAGS).to_string();
        assert_eq!(
            message,
            "unknown flag --user for COPY; valid flags: --from, --chown, --chmod, --link, --parents, --exclude"
        );
    }
}
