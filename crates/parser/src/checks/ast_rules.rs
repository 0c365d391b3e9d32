//! The rules that need only the parsed file: stage names, keyword casing,
//! `MAINTAINER` and the parser's empty-continuation warnings.

use std::collections::BTreeSet;

use crate::ast::{Dockerfile, InstructionKind, WarningKind};
use crate::plan::Finding;

use super::rules::Rule;

/// Stage names BuildKit reserves.
const RESERVED_STAGE_NAMES: [&str; 2] = ["context", "scratch"];

/// Run every AST-level rule.
pub(crate) fn check_ast(dockerfile: &Dockerfile, findings: &mut Vec<Finding>) {
    stage_names(dockerfile, findings);
    instruction_casing(dockerfile, findings);
    for instruction in &dockerfile.instructions {
        if matches!(instruction.kind, InstructionKind::Maintainer(_)) {
            findings.push(Finding {
                rule: Rule::MaintainerDeprecated,
                span: instruction.span,
                message: "Maintainer instruction is deprecated in favor of using label".to_string(),
            });
        }
    }
    for warning in &dockerfile.warnings {
        match warning.kind {
            WarningKind::EmptyContinuationLine => findings.push(Finding {
                rule: Rule::NoEmptyContinuation,
                span: warning.span,
                message: "Empty continuation line".to_string(),
            }),
        }
    }
}

/// StageNameCasing, FromAsCasing, ReservedStageName, DuplicateStageName.
fn stage_names(dockerfile: &Dockerfile, findings: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for instruction in &dockerfile.instructions {
        let InstructionKind::From(from) = &instruction.kind else {
            continue;
        };
        let Some(stage) = &from.stage else { continue };
        let span = instruction.span;
        let lower = stage.name.to_lowercase();
        if stage.name != lower {
            findings.push(Finding {
                rule: Rule::StageNameCasing,
                span,
                message: format!("Stage name '{}' should be lowercase", stage.name),
            });
        }
        let from_keyword = instruction.keyword();
        let as_matches = if from_keyword == from_keyword.to_lowercase() {
            stage.as_keyword == stage.as_keyword.to_lowercase()
        } else {
            stage.as_keyword == stage.as_keyword.to_uppercase()
        };
        if !as_matches {
            findings.push(Finding {
                rule: Rule::FromAsCasing,
                span,
                message: format!(
                    "'{}' and '{}' keywords' casing do not match",
                    stage.as_keyword, from_keyword
                ),
            });
        }
        if RESERVED_STAGE_NAMES.contains(&lower.as_str()) {
            findings.push(Finding {
                rule: Rule::ReservedStageName,
                span,
                message: format!(
                    "Stage name should not use the same name as reserved stage {lower:?}"
                ),
            });
        }
        if !seen.insert(lower.clone()) {
            findings.push(Finding {
                rule: Rule::DuplicateStageName,
                span,
                message: format!("Duplicate stage name {lower:?}, stage names should be unique"),
            });
        }
    }
}

/// ConsistentInstructionCasing: every keyword (from the first `FROM` on;
/// global `ARG`s are not counted, as in BuildKit) should follow the casing of
/// the majority of self-consistent keywords.
fn instruction_casing(dockerfile: &Dockerfile, findings: &mut Vec<Finding>) {
    let Some(first_from) = dockerfile
        .instructions
        .iter()
        .position(|i| matches!(i.kind, InstructionKind::From(_)))
    else {
        return;
    };
    let in_stages = &dockerfile.instructions[first_from..];
    let (mut lower, mut upper) = (0usize, 0usize);
    for instruction in in_stages {
        let keyword = instruction.keyword();
        if keyword == keyword.to_lowercase() {
            lower += 1;
        } else if keyword == keyword.to_uppercase() {
            upper += 1;
        }
    }
    let majority_lower = lower > upper;
    for instruction in in_stages {
        let keyword = instruction.keyword();
        let expected = if majority_lower && keyword != keyword.to_lowercase() {
            Some("lowercase")
        } else if !majority_lower && keyword != keyword.to_uppercase() {
            Some("uppercase")
        } else {
            None
        };
        if let Some(expected) = expected {
            findings.push(Finding {
                rule: Rule::ConsistentInstructionCasing,
                span: instruction.span,
                message: format!(
                    "Command '{keyword}' should match the case of the command majority ({expected})"
                ),
            });
        }
    }
}
