//! The typed instruction layer: every instruction, typed flags and their
//! validation, argument rules.

use std::time::Duration;

use rbuild_parser::ast::{
    ArgDecl, CacheSharing, CommandForm, Deferred, Healthcheck, InstructionKind, KeyValue,
    MountType, NetworkMode, SecurityMode,
};
use rbuild_parser::{Dockerfile, ParseErrorKind, parse_dockerfile};

fn parse(text: &str) -> Dockerfile {
    parse_dockerfile(text, None).unwrap_or_else(|e| panic!("{}", e.render(text)))
}

/// The typed kind of the only instruction after `FROM a`.
fn kind(line: &str) -> InstructionKind {
    let text = format!("FROM a\n{line}\n");
    parse(&text).instructions.remove(1).kind
}

fn error(line: &str) -> ParseErrorKind {
    let text = format!("FROM a\n{line}\n");
    *parse_dockerfile(&text, None)
        .expect_err("must be rejected")
        .kind
}

fn message(line: &str) -> String {
    error(line).to_string()
}

#[test]
fn from_with_platform_and_stage() {
    let df = parse("FROM --platform=$BUILDPLATFORM golang:1.22 as Build\n");
    let InstructionKind::From(from) = &df.instructions[0].kind else {
        panic!("FROM expected")
    };
    assert_eq!(from.image, "golang:1.22");
    assert_eq!(from.platform.as_deref(), Some("$BUILDPLATFORM"));
    let stage = from.stage.as_ref().unwrap();
    assert_eq!(
        (stage.name.as_str(), stage.as_keyword.as_str()),
        ("Build", "as")
    );
}

#[test]
fn from_argument_errors() {
    let err = |text: &str| *parse_dockerfile(text, None).unwrap_err().kind;
    assert!(
        err("FROM a b\n")
            .to_string()
            .contains("FROM requires either one or three arguments")
    );
    assert!(
        err("FROM a AS 1x\n")
            .to_string()
            .contains("invalid name for build stage: \"1x\"")
    );
    assert!(
        err("FROM --platform linux/amd64 a\n")
            .to_string()
            .contains("missing a value on flag --platform")
    );
}

#[test]
fn run_flags_are_typed() {
    let InstructionKind::Run(run) = kind(
        "RUN --mount=type=cache,target=/root/.cache,sharing=private --mount=type=secret,id=tok,required=true --network=none --security=insecure make",
    ) else {
        panic!("RUN expected")
    };
    assert_eq!(run.command, CommandForm::Shell("make".into()));
    assert_eq!(run.mounts.len(), 2);
    assert_eq!(run.mounts[0].mount_type, MountType::Cache);
    assert_eq!(run.mounts[0].sharing, Some(CacheSharing::Private));
    assert_eq!(run.mounts[1].mount_type, MountType::Secret);
    assert!(run.mounts[1].required);
    assert_eq!(run.network, Some(NetworkMode::None));
    assert_eq!(run.security, Some(SecurityMode::Insecure));
}

#[test]
fn run_flag_errors_list_valid_choices() {
    assert_eq!(
        message("RUN --network=bridge true"),
        "RUN: invalid value \"bridge\" for --network: expected one of default, none, host"
    );
    assert_eq!(
        message("RUN --security=root true"),
        "RUN: invalid value \"root\" for --security: expected one of sandbox, insecure"
    );
    assert_eq!(
        message("RUN --mount=type=nfs,target=/x true"),
        "RUN --mount: invalid value \"nfs\" for type: expected one of bind, cache, tmpfs, secret, ssh"
    );
    assert_eq!(
        message("RUN --mont=type=cache true"),
        "unknown flag --mont for RUN; valid flags: --mount, --network, --security"
    );
    assert!(message("RUN --mount=type=cache,target=/x,uid=me true").contains("numeric id"));
    assert!(message("RUN").contains("RUN requires at least one argument"));
}

#[test]
fn mount_numbers_with_variables_are_deferred() {
    let InstructionKind::Run(run) = kind("RUN --mount=type=cache,target=/c,uid=$UID,gid=10 true")
    else {
        panic!("RUN expected")
    };
    assert_eq!(run.mounts[0].uid, Some(Deferred::Unexpanded("$UID".into())));
    assert_eq!(run.mounts[0].gid, Some(Deferred::Literal(10)));
}

#[test]
fn exec_and_shell_forms() {
    assert_eq!(
        kind("CMD [\"a\", \"b c\"]"),
        InstructionKind::Cmd(CommandForm::Exec(vec!["a".into(), "b c".into()]))
    );
    assert_eq!(
        kind("ENTRYPOINT ['a']"),
        InstructionKind::Entrypoint(CommandForm::Shell("['a']".into()))
    );
    assert_eq!(
        kind("CMD []"),
        InstructionKind::Cmd(CommandForm::Exec(vec![]))
    );
    assert_eq!(
        kind("SHELL [\"/bin/bash\", \"-c\"]"),
        InstructionKind::Shell(vec!["/bin/bash".into(), "-c".into()])
    );
    assert!(message("SHELL /bin/bash -c").contains("JSON form"));
    assert!(matches!(
        error("RUN [\"a\", 1]"),
        ParseErrorKind::NonStringJsonArray { .. }
    ));
}

#[test]
fn copy_and_add_flags() {
    let InstructionKind::Copy(copy) = kind(
        "COPY --from=build --chown=1000:1000 --chmod=0755 --link --parents --exclude=*.md --exclude=tmp a b /dst/",
    ) else {
        panic!("COPY expected")
    };
    assert_eq!(copy.sources, ["a", "b"]);
    assert_eq!(copy.dest, "/dst/");
    assert_eq!(copy.from.as_deref(), Some("build"));
    assert_eq!(copy.chown.as_deref(), Some("1000:1000"));
    assert_eq!(copy.chmod.as_deref(), Some("0755"));
    assert!(copy.link && copy.parents);
    assert_eq!(copy.exclude, ["*.md", "tmp"]);

    let InstructionKind::Add(add) = kind(
        "ADD --keep-git-dir=true --checksum=sha256:abc --unpack=false --link=false https://x/y.tar /z",
    ) else {
        panic!("ADD expected")
    };
    assert!(add.keep_git_dir);
    assert_eq!(add.checksum.as_deref(), Some("sha256:abc"));
    assert_eq!(add.unpack, Some(false));
    assert!(!add.link);

    let InstructionKind::Copy(json) = kind("COPY [\"a b\", \"/c\"]") else {
        panic!("COPY expected")
    };
    assert!(json.exec_form);
    assert_eq!(json.sources, ["a b"]);
}

#[test]
fn copy_errors() {
    assert_eq!(
        message("COPY only-one"),
        "COPY requires at least two arguments: one or more sources and a destination, but only one was provided"
    );
    assert_eq!(
        message("COPY --checksum=sha256:x a b"),
        "unknown flag --checksum for COPY; valid flags: --from, --chown, --chmod, --link, --parents, --exclude"
    );
    assert_eq!(
        message("ADD --link=yes a b"),
        "ADD: invalid value \"yes\" for --link: expected true or false"
    );
    assert!(message("COPY --from=a --from=b x y").contains("duplicate flag"));
}

#[test]
fn env_label_arg() {
    assert_eq!(
        kind("ENV A=1 B=\"x y\""),
        InstructionKind::Env(vec![
            KeyValue {
                name: "A".into(),
                value: "1".into(),
                legacy_format: false
            },
            KeyValue {
                name: "B".into(),
                value: "\"x y\"".into(),
                legacy_format: false
            },
        ])
    );
    assert_eq!(
        kind("LABEL maintainer Jane Doe"),
        InstructionKind::Label(vec![KeyValue {
            name: "maintainer".into(),
            value: "Jane Doe".into(),
            legacy_format: true
        }])
    );
    assert_eq!(
        kind("ARG A B=2 C=\"x y\""),
        InstructionKind::Arg(vec![
            ArgDecl {
                name: "A".into(),
                default: None
            },
            ArgDecl {
                name: "B".into(),
                default: Some("2".into())
            },
            ArgDecl {
                name: "C".into(),
                default: Some("\"x y\"".into())
            },
        ])
    );
    assert!(message("ENV").contains("ENV requires at least one argument"));
    assert!(message("ENV =x").contains("ENV names can not be blank"));
    assert!(message("ARG =x").contains("ARG names can not be blank"));
    assert!(message("LABEL a=1 b").contains("can't find = in \"b\""));
}

#[test]
fn single_argument_instructions() {
    assert_eq!(
        kind("USER app:app"),
        InstructionKind::User("app:app".into())
    );
    assert_eq!(
        kind("WORKDIR /a b"),
        InstructionKind::Workdir("/a b".into())
    );
    assert_eq!(
        kind("STOPSIGNAL SIGKILL"),
        InstructionKind::Stopsignal("SIGKILL".into())
    );
    assert_eq!(
        kind("MAINTAINER me"),
        InstructionKind::Maintainer("me".into())
    );
    assert_eq!(
        kind("EXPOSE 80/tcp 53/udp"),
        InstructionKind::Expose(vec!["80/tcp".into(), "53/udp".into()])
    );
    assert_eq!(
        kind("VOLUME [\"/a\", \"/b\"]"),
        InstructionKind::Volume(vec!["/a".into(), "/b".into()])
    );
    assert!(message("USER").contains("USER requires exactly one argument"));
    assert!(
        message("MAINTAINER --boo x")
            .contains("unknown flag --boo for MAINTAINER; this instruction takes no flags")
    );
    assert!(message("VOLUME").contains("VOLUME requires at least one argument"));
}

#[test]
fn healthcheck() {
    assert_eq!(
        kind("HEALTHCHECK NONE"),
        InstructionKind::Healthcheck(Healthcheck::None)
    );
    let InstructionKind::Healthcheck(Healthcheck::Cmd(check)) = kind(
        "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --start-interval=2s --retries=3 CMD [\"curl\", \"-f\", \"http://localhost\"]",
    ) else {
        panic!("HEALTHCHECK CMD expected")
    };
    assert_eq!(check.interval, Some(Duration::from_secs(90)));
    assert_eq!(check.timeout, Some(Duration::from_millis(500)));
    assert_eq!(check.start_period, Some(Duration::ZERO));
    assert_eq!(check.start_interval, Some(Duration::from_secs(2)));
    assert_eq!(check.retries, Some(3));
    assert_eq!(
        check.command,
        CommandForm::Exec(vec!["curl".into(), "-f".into(), "http://localhost".into()])
    );
    assert!(message("HEALTHCHECK --interval=5 CMD true").contains("a duration such as 30s"));
    assert!(message("HEALTHCHECK --interval=10us CMD true").contains("0 or at least 1ms"));
    assert!(message("HEALTHCHECK --retries=-1 CMD true").contains("non-negative whole number"));
    assert!(
        message("HEALTHCHECK CONNECT x")
            .contains("Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)")
    );
    assert!(message("HEALTHCHECK CMD").contains("Missing command after HEALTHCHECK CMD"));
    assert!(message("HEALTHCHECK NONE x").contains("HEALTHCHECK NONE takes no arguments"));
    assert!(message("HEALTHCHECK").contains("HEALTHCHECK requires at least one argument"));
}

#[test]
fn onbuild() {
    let InstructionKind::Onbuild(trigger) = kind("ONBUILD COPY --chown=1 . /app") else {
        panic!("ONBUILD expected")
    };
    assert_eq!(trigger.name(), "COPY");
    assert_eq!(trigger.original, "COPY --chown=1 . /app");
    assert_eq!(trigger.keyword_span.start.column, 9);
    assert_eq!(
        message("ONBUILD ONBUILD RUN x"),
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        message("ONBUILD FROM x"),
        "FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        message("ONBUILD maintainer x"),
        "MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert!(message("ONBUILD").contains("ONBUILD requires at least one argument"));
    assert!(matches!(
        error("ONBUILD RUNN x"),
        ParseErrorKind::UnknownInstruction { .. }
    ));
}

#[test]
fn buildkit_conformance_inputs_that_the_typed_layer_accepts() {
    // The parser-level fixtures include deliberately invalid instructions
    // (unknown flags, HEALTHCHECK CONNECT); everything else must be valid.
    let df = parse(
        "FROM a\nONBUILD RUN [\"echo\", \"test\"]\nONBUILD COPY . /\nRUN echo '1234' && \\\n    echo 789\n",
    );
    assert_eq!(df.instructions.len(), 4);
}
