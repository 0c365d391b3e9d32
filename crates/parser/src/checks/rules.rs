//! The catalogue of build-check rules: BuildKit's names, one-line
//! descriptions and documentation pages, so that a warning from rbuild reads
//! like the same warning from `docker build --check`.

use std::fmt;

/// One build-check rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Rule {
    /// Stage names should be lowercase.
    StageNameCasing,
    /// The `AS` keyword should match the case of `FROM`.
    FromAsCasing,
    /// Empty continuation lines will become errors.
    NoEmptyContinuation,
    /// All instructions should use the same casing.
    ConsistentInstructionCasing,
    /// Stage names should be unique.
    DuplicateStageName,
    /// `scratch` and `context` are reserved stage names.
    ReservedStageName,
    /// Exec (JSON) form recommended for `CMD` and `ENTRYPOINT`.
    JSONArgsRecommended,
    /// `MAINTAINER` is deprecated.
    MaintainerDeprecated,
    /// `FROM` uses an `ARG` that is not declared.
    UndefinedArgInFrom,
    /// A relative `WORKDIR` before any absolute one.
    WorkdirRelativePath,
    /// A variable is used before it is defined.
    UndefinedVar,
    /// Several `CMD`/`ENTRYPOINT`/`HEALTHCHECK` in one stage.
    MultipleInstructionsDisallowed,
    /// `ENV key value` / `LABEL key value` instead of `key=value`.
    LegacyKeyValueFormat,
    /// `FROM --platform=$TARGETPLATFORM` is the default anyway.
    RedundantTargetPlatform,
    /// `ARG`/`ENV` names that look like secrets.
    SecretsUsedInArgOrEnv,
    /// The default value of a global `ARG` gives an invalid base image name.
    InvalidDefaultArgInFrom,
    /// `FROM --platform` with a constant value.
    FromPlatformFlagConstDisallowed,
    /// `EXPOSE` protocol not in lower case.
    ExposeProtoCasing,
    /// `EXPOSE` with an IP address or host-port mapping.
    ExposeInvalidFormat,
}

impl Rule {
    /// Every rule, in catalogue order.
    pub const ALL: [Rule; 19] = [
        Rule::StageNameCasing,
        Rule::FromAsCasing,
        Rule::NoEmptyContinuation,
        Rule::ConsistentInstructionCasing,
        Rule::DuplicateStageName,
        Rule::ReservedStageName,
        Rule::JSONArgsRecommended,
        Rule::MaintainerDeprecated,
        Rule::UndefinedArgInFrom,
        Rule::WorkdirRelativePath,
        Rule::UndefinedVar,
        Rule::MultipleInstructionsDisallowed,
        Rule::LegacyKeyValueFormat,
        Rule::RedundantTargetPlatform,
        Rule::SecretsUsedInArgOrEnv,
        Rule::InvalidDefaultArgInFrom,
        Rule::FromPlatformFlagConstDisallowed,
        Rule::ExposeProtoCasing,
        Rule::ExposeInvalidFormat,
    ];

    /// The rule's name as BuildKit spells it (used in `# check=skip=`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::StageNameCasing => "StageNameCasing",
            Rule::FromAsCasing => "FromAsCasing",
            Rule::NoEmptyContinuation => "NoEmptyContinuation",
            Rule::ConsistentInstructionCasing => "ConsistentInstructionCasing",
            Rule::DuplicateStageName => "DuplicateStageName",
            Rule::ReservedStageName => "ReservedStageName",
            Rule::JSONArgsRecommended => "JSONArgsRecommended",
            Rule::MaintainerDeprecated => "MaintainerDeprecated",
            Rule::UndefinedArgInFrom => "UndefinedArgInFrom",
            Rule::WorkdirRelativePath => "WorkdirRelativePath",
            Rule::UndefinedVar => "UndefinedVar",
            Rule::MultipleInstructionsDisallowed => "MultipleInstructionsDisallowed",
            Rule::LegacyKeyValueFormat => "LegacyKeyValueFormat",
            Rule::RedundantTargetPlatform => "RedundantTargetPlatform",
            Rule::SecretsUsedInArgOrEnv => "SecretsUsedInArgOrEnv",
            Rule::InvalidDefaultArgInFrom => "InvalidDefaultArgInFrom",
            Rule::FromPlatformFlagConstDisallowed => "FromPlatformFlagConstDisallowed",
            Rule::ExposeProtoCasing => "ExposeProtoCasing",
            Rule::ExposeInvalidFormat => "ExposeInvalidFormat",
        }
    }

    /// The rule whose name is `name` (exact spelling).
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the rule is about, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Rule::StageNameCasing => "Stage names should be lowercase",
            Rule::FromAsCasing => "The 'as' keyword should match the case of the 'from' keyword",
            Rule::NoEmptyContinuation => {
                "Empty continuation lines will become errors in a future release"
            }
            Rule::ConsistentInstructionCasing => {
                "All commands within the Dockerfile should use the same casing (either upper or lower)"
            }
            Rule::DuplicateStageName => "Stage names should be unique",
            Rule::ReservedStageName => "Reserved words should not be used as stage names",
            Rule::JSONArgsRecommended => {
                "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"
            }
            Rule::MaintainerDeprecated => {
                "The MAINTAINER instruction is deprecated, use a label instead to define an image author"
            }
            Rule::UndefinedArgInFrom => "FROM command must use declared ARGs",
            Rule::WorkdirRelativePath => {
                "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes"
            }
            Rule::UndefinedVar => "Variables should be defined before their use",
            Rule::MultipleInstructionsDisallowed => {
                "Multiple instructions of the same type should not be used in the same stage"
            }
            Rule::LegacyKeyValueFormat => {
                "Legacy key/value format with whitespace separator should not be used"
            }
            Rule::RedundantTargetPlatform => {
                "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"
            }
            Rule::SecretsUsedInArgOrEnv => {
                "Sensitive data should not be used in the ARG or ENV commands"
            }
            Rule::InvalidDefaultArgInFrom => {
                "Default value for global ARG results in an empty or invalid base image name"
            }
            Rule::FromPlatformFlagConstDisallowed => {
                "FROM --platform flag should not use a constant value"
            }
            Rule::ExposeProtoCasing => "Protocol in EXPOSE instruction should be lowercase",
            Rule::ExposeInvalidFormat => {
                "IP address and host-port mapping should not be used in EXPOSE instruction"
            }
        }
    }

    /// The documentation page of the rule.
    pub fn url(self) -> String {
        let mut slug = String::new();
        for (i, c) in self.name().chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                // "JSONArgs…" → "json-args…": a dash only before an upper-case
                // letter that starts a new word.
                let prev_lower = self.name().as_bytes()[i - 1].is_ascii_lowercase();
                let next_lower = self
                    .name()
                    .as_bytes()
                    .get(i + 1)
                    .is_some_and(u8::is_ascii_lowercase);
                if prev_lower || next_lower {
                    slug.push('-');
                }
            }
            slug.push(c.to_ascii_lowercase());
        }
        format!("https://docs.docker.com/go/dockerfile/rule/{slug}/")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_use_kebab_case_slugs() {
        assert_eq!(
            Rule::JSONArgsRecommended.url(),
            "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"
        );
        assert_eq!(
            Rule::UndefinedArgInFrom.url(),
            "https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/"
        );
        assert_eq!(
            Rule::FromAsCasing.url(),
            "https://docs.docker.com/go/dockerfile/rule/from-as-casing/"
        );
    }

    #[test]
    fn names_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(Rule::from_name("NoSuchRule"), None);
    }
}
