//! The `# check=` parser directive: which rules to skip and whether warnings
//! fail the build.
//!
//! Syntax (as BuildKit): up to three `;`-separated `key=value` parts with keys
//! `skip` (`all` or a comma list of rule names), `error` (a boolean) and
//! `experimental` (accepted; rbuild has no experimental rules).

use std::collections::BTreeSet;

/// How the checks are configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckConfig {
    /// Skip every rule.
    pub skip_all: bool,
    /// Rule names to skip (kept as written: an unknown name is harmless).
    pub skip: BTreeSet<String>,
    /// Turn warnings into a failure.
    pub error_on_warning: bool,
}

/// A `# check=` value that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckConfigError {
    /// A part without `=`, or with an unknown key.
    #[error(
        "invalid check option {0:?} (expected skip=RULE,…|all, error=true|false or experimental=…)"
    )]
    InvalidOption(String),
    /// `error=` with something other than a boolean.
    #[error("failed to parse check option {0:?}: expected true or false")]
    InvalidBool(String),
}

impl CheckConfig {
    /// Parse the value of a `# check=` directive.
    pub fn parse(value: &str) -> Result<Self, CheckConfigError> {
        let mut config = CheckConfig::default();
        let value = value.trim();
        if value.is_empty() {
            return Ok(config);
        }
        // BuildKit splits into at most three parts; a fourth stays glued to the third.
        for part in value.splitn(3, ';') {
            let Some((key, val)) = part.split_once('=') else {
                return Err(CheckConfigError::InvalidOption(part.to_string()));
            };
            let val = val.trim();
            match key.trim() {
                "skip" => {
                    if val == "all" {
                        config.skip_all = true;
                    } else {
                        config
                            .skip
                            .extend(val.split(',').map(|r| r.trim().to_string()));
                    }
                }
                "error" => {
                    config.error_on_warning = parse_go_bool(val)
                        .ok_or_else(|| CheckConfigError::InvalidBool(part.to_string()))?
                }
                "experimental" => {}
                other => return Err(CheckConfigError::InvalidOption(other.to_string())),
            }
        }
        Ok(config)
    }

    /// Whether `rule_name` is switched off.
    pub fn is_skipped(&self, rule_name: &str) -> bool {
        self.skip_all || self.skip.contains(rule_name)
    }
}

/// Go's `strconv.ParseBool`, which BuildKit uses for `error=`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_skip_lists_and_error() {
        let c = CheckConfig::parse("skip=JSONArgsRecommended, StageNameCasing;error=true").unwrap();
        assert!(c.is_skipped("StageNameCasing") && c.is_skipped("JSONArgsRecommended"));
        assert!(!c.is_skipped("UndefinedVar"));
        assert!(c.error_on_warning);
        let all = CheckConfig::parse(" skip = all ").unwrap();
        assert!(all.skip_all && all.is_skipped("Anything"));
        assert_eq!(CheckConfig::parse("").unwrap(), CheckConfig::default());
    }

    #[test]
    fn rejects_bad_options() {
        assert!(matches!(
            CheckConfig::parse("skip"),
            Err(CheckConfigError::InvalidOption(_))
        ));
        assert!(matches!(
            CheckConfig::parse("nope=1"),
            Err(CheckConfigError::InvalidOption(_))
        ));
        assert!(matches!(
            CheckConfig::parse("error=maybe"),
            Err(CheckConfigError::InvalidBool(_))
        ));
    }
}
