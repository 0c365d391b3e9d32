//! Each build-check rule: a Dockerfile that triggers it, with BuildKit's
//! message and the line, and the `# check=` directive.

use std::collections::BTreeMap;

use rbuild_parser::checks::{CheckReport, Rule, check};
use rbuild_parser::plan::PlanOptions;

fn run(text: &str) -> CheckReport {
    let dockerfile = rbuild_parser::parse_dockerfile(text, None).expect("test Dockerfile parses");
    check(&dockerfile, &PlanOptions::default()).expect("valid check directive")
}

/// `(rule, line, message)` of every warning.
fn warnings(text: &str) -> Vec<(Rule, u32, String)> {
    run(text)
        .warnings
        .into_iter()
        .map(|w| (w.rule, w.span.start.line, w.message))
        .collect()
}

fn only(text: &str, rule: Rule) -> Vec<(u32, String)> {
    warnings(text)
        .into_iter()
        .filter(|(r, _, _)| *r == rule)
        .map(|(_, line, message)| (line, message))
        .collect()
}

fn one(line: u32, message: &str) -> Vec<(u32, String)> {
    vec![(line, message.to_string())]
}

#[test]
fn a_clean_file_has_no_warnings() {
    let text = "FROM alpine:3.20 AS build\nWORKDIR /src\nCOPY . .\nRUN make\nFROM scratch\nCOPY --from=build /src/app /app\nENTRYPOINT [\"/app\"]\n";
    assert_eq!(warnings(text), vec![]);
}

#[test]
fn json_args_recommended() {
    assert_eq!(
        only("FROM alpine\nCMD echo hi\n", Rule::JSONArgsRecommended),
        one(
            2,
            "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals"
        )
    );
    assert_eq!(
        only(
            "FROM alpine\nENTRYPOINT my-app --flag\n",
            Rule::JSONArgsRecommended
        ),
        one(
            2,
            "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals"
        )
    );
    assert!(
        only(
            "FROM alpine\nSHELL [\"/bin/bash\", \"-c\"]\nCMD echo hi\n",
            Rule::JSONArgsRecommended
        )
        .is_empty()
    );
    assert!(
        only(
            "FROM alpine\nCMD [\"echo\", \"hi\"]\n",
            Rule::JSONArgsRecommended
        )
        .is_empty()
    );
}

#[test]
fn maintainer_deprecated() {
    assert_eq!(
        only(
            "FROM alpine\nMAINTAINER me@example.com\n",
            Rule::MaintainerDeprecated
        ),
        one(
            2,
            "Maintainer instruction is deprecated in favor of using label"
        )
    );
}

#[test]
fn undefined_var_where_the_environment_is_known() {
    assert_eq!(
        only(
            "FROM scratch\nENV APP_DIR=/a\nCOPY $APP_DIRS /x\n",
            Rule::UndefinedVar
        ),
        one(
            3,
            "Usage of undefined variable '$APP_DIRS' (did you mean $APP_DIR?)"
        )
    );
    // Declared ARGs are defined even without a value.
    assert!(only("FROM scratch\nARG V\nCOPY $V /x\n", Rule::UndefinedVar).is_empty());
    // RUN is expanded by the shell, not by Docker.
    assert!(only("FROM scratch\nRUN echo $NOPE\n", Rule::UndefinedVar).is_empty());
    // Image bases may define anything: no guessing.
    assert!(only("FROM alpine\nCOPY $NOPE /x\n", Rule::UndefinedVar).is_empty());
    // ... unless their environment is supplied.
    let dockerfile = rbuild_parser::parse_dockerfile("FROM alpine\nCOPY $NOPE /x\n", None).unwrap();
    let mut env = BTreeMap::new();
    env.insert(
        "docker.io/library/alpine:latest".to_string(),
        vec![("NOPF".to_string(), "1".to_string())],
    );
    let report = check(
        &dockerfile,
        &PlanOptions {
            base_image_env: env,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(
        report.warnings[0].message,
        "Usage of undefined variable '$NOPE' (did you mean $NOPF?)"
    );
}

#[test]
fn undefined_arg_in_from() {
    assert_eq!(
        only(
            "ARG VERSION=1\nFROM alpine:$VERSON\n",
            Rule::UndefinedArgInFrom
        ),
        one(
            2,
            "FROM argument 'VERSON' is not declared (did you mean VERSION?)"
        )
    );
    assert!(only("ARG V\nFROM alpine:${V:-3}\n", Rule::UndefinedArgInFrom).is_empty());
    assert!(
        only(
            "FROM --platform=$BUILDPLATFORM alpine\n",
            Rule::UndefinedArgInFrom
        )
        .is_empty()
    );
}

#[test]
fn invalid_default_arg_in_from() {
    assert_eq!(
        only(
            "ARG TAG\nFROM busybox:${TAG}\n",
            Rule::InvalidDefaultArgInFrom
        ),
        one(
            2,
            "Default value for ARG busybox:${TAG} results in empty or invalid base image name"
        )
    );
    assert!(
        only(
            "ARG TAG=1.36\nFROM busybox:${TAG}\n",
            Rule::InvalidDefaultArgInFrom
        )
        .is_empty()
    );
}

#[test]
fn stage_name_rules() {
    let text = "FROM alpine AS Build\nFROM alpine as scratch\nFROM alpine AS build\n";
    let found = warnings(text);
    assert!(
        found.contains(&(
            Rule::StageNameCasing,
            1,
            "Stage name 'Build' should be lowercase".into()
        )),
        "{found:?}"
    );
    assert!(found.contains(&(
        Rule::FromAsCasing,
        2,
        "'as' and 'FROM' keywords' casing do not match".into()
    )));
    assert!(found.contains(&(
        Rule::ReservedStageName,
        2,
        "Stage name should not use the same name as reserved stage \"scratch\"".into()
    )));
    assert!(found.contains(&(
        Rule::DuplicateStageName,
        3,
        "Duplicate stage name \"build\", stage names should be unique".into()
    )));
}

#[test]
fn consistent_instruction_casing() {
    assert_eq!(
        only(
            "FROM alpine\nrun echo a\nRUN echo b\nCopy a b\n",
            Rule::ConsistentInstructionCasing
        ),
        vec![
            (
                2,
                "Command 'run' should match the case of the command majority (uppercase)"
                    .to_string()
            ),
            (
                4,
                "Command 'Copy' should match the case of the command majority (uppercase)"
                    .to_string()
            ),
        ]
    );
    assert!(only("from alpine\nrun echo\n", Rule::ConsistentInstructionCasing).is_empty());
}

#[test]
fn multiple_instructions_disallowed_points_at_the_ignored_one() {
    assert_eq!(
        only(
            "FROM alpine\nCMD [\"a\"]\nCMD [\"b\"]\n",
            Rule::MultipleInstructionsDisallowed
        ),
        one(
            2,
            "Multiple CMD instructions should not be used in the same stage because only the last one will be used"
        )
    );
    // Per stage: a new FROM starts over.
    assert!(
        only(
            "FROM alpine\nCMD [\"a\"]\nFROM alpine\nCMD [\"b\"]\n",
            Rule::MultipleInstructionsDisallowed
        )
        .is_empty()
    );
}

#[test]
fn legacy_key_value_format() {
    assert_eq!(
        only("FROM alpine\nENV A 1\n", Rule::LegacyKeyValueFormat),
        one(
            2,
            "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format"
        )
    );
    assert_eq!(
        only(
            "FROM alpine\nLABEL maintainer me\n",
            Rule::LegacyKeyValueFormat
        ),
        one(
            2,
            "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format"
        )
    );
}

#[test]
fn workdir_relative_path_only_before_an_absolute_one() {
    assert_eq!(
        only(
            "FROM alpine\nWORKDIR app\nWORKDIR sub\n",
            Rule::WorkdirRelativePath
        ),
        one(
            2,
            "Relative workdir \"app\" can have unexpected results if the base image changes"
        )
    );
    assert!(
        only(
            "FROM alpine\nWORKDIR /app\nWORKDIR sub\n",
            Rule::WorkdirRelativePath
        )
        .is_empty()
    );
}

#[test]
fn secrets_used_in_arg_or_env() {
    assert_eq!(
        only(
            "FROM alpine\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x PUBLIC_KEY=y\n",
            Rule::SecretsUsedInArgOrEnv
        ),
        vec![
            (
                2,
                "Do not use ARG or ENV instructions for sensitive data (ARG \"GITHUB_TOKEN\")"
                    .to_string()
            ),
            (
                3,
                "Do not use ARG or ENV instructions for sensitive data (ENV \"DB_PASSWORD\")"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn expose_rules() {
    assert_eq!(
        only("FROM alpine\nEXPOSE 80/TCP\n", Rule::ExposeProtoCasing),
        one(
            2,
            "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase"
        )
    );
    assert_eq!(
        only(
            "FROM alpine\nEXPOSE 127.0.0.1:80:80\n",
            Rule::ExposeInvalidFormat
        ),
        one(
            2,
            "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'"
        )
    );
    assert!(
        only(
            "FROM alpine\nEXPOSE 80/udp 443\n",
            Rule::ExposeInvalidFormat
        )
        .is_empty()
    );
}

#[test]
fn redundant_target_platform() {
    assert_eq!(
        only(
            "FROM --platform=$TARGETPLATFORM alpine\n",
            Rule::RedundantTargetPlatform
        ),
        one(
            1,
            "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"
        )
    );
    assert!(
        only(
            "FROM --platform=$BUILDPLATFORM alpine\n",
            Rule::RedundantTargetPlatform
        )
        .is_empty()
    );
}

#[test]
fn warnings_carry_rule_documentation() {
    let report = run("FROM alpine\nMAINTAINER me\n");
    let warning = &report.warnings[0];
    assert_eq!(
        warning.url,
        "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/"
    );
    assert!(warning.description.contains("deprecated"));
    assert!(!report.fails(), "warnings alone do not fail");
}

#[test]
fn check_directive_skips_rules_and_turns_warnings_into_errors() {
    let text = "# check=skip=JSONArgsRecommended\nFROM alpine\nCMD echo hi\nMAINTAINER me\n";
    let rules: Vec<Rule> = run(text).warnings.iter().map(|w| w.rule).collect();
    assert_eq!(rules, vec![Rule::MaintainerDeprecated]);

    let all = run("# check=skip=all\nFROM alpine\nCMD echo hi\n");
    assert!(all.warnings.is_empty() && !all.fails());

    let strict = run("# check=error=true\nFROM alpine\nCMD echo hi\n");
    assert_eq!(strict.warnings.len(), 1);
    assert!(strict.fails());
    assert!(!run("# check=error=true\nFROM alpine\nCMD [\"x\"]\n").fails());

    let dockerfile = rbuild_parser::parse_dockerfile("# check=bogus\nFROM alpine\n", None).unwrap();
    assert!(check(&dockerfile, &PlanOptions::default()).is_err());
}

#[test]
fn plan_errors_are_reported_with_the_warnings_found_so_far() {
    let report = run("FROM alpine\nMAINTAINER me\nCOPY --from=later /a /b\nFROM alpine AS later\n");
    assert!(report.plan_error.is_some());
    assert!(report.fails());
    assert_eq!(report.warnings[0].rule, Rule::MaintainerDeprecated);
}

#[test]
fn build_arg_overrides_the_check_directive() {
    let dockerfile =
        rbuild_parser::parse_dockerfile("# check=skip=all\nFROM alpine\nMAINTAINER me\n", None)
            .unwrap();
    let mut build_args = rbuild_parser::plan::BuildArgs::new();
    build_args.set(rbuild_parser::checks::CHECK_BUILD_ARG, "error=true");
    let report = check(
        &dockerfile,
        &PlanOptions {
            build_args,
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert!(report.fails());
}

#[test]
fn no_empty_continuation() {
    assert_eq!(
        only(
            "FROM alpine\nRUN echo a \\\n\n  && echo b\n",
            Rule::NoEmptyContinuation
        ),
        one(2, "Empty continuation line")
    );
}
