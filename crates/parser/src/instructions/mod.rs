//! The typed layer: a raw [`Node`] becomes a validated [`Instruction`].
//!
//! Mirrors BuildKit's `instructions.ParseInstruction`: known keyword, known
//! flags with valid values, argument counts, ONBUILD trigger rules. Error
//! messages keep BuildKit's wording where it has one and add what to do.

mod duration;
mod flags;
mod mount;

use crate::ast::{
    ArgDecl, CommandForm, FileCopy, From, Healthcheck, HealthcheckCmd, Heredoc, Instruction,
    InstructionKind, KeyValue, NetworkMode, Run, SecurityMode, StageName,
};
use crate::error::{ParseError, ParseErrorKind};
use crate::node::Node;
use crate::parse::heredoc::parse_opener;
use crate::span::Span;
use crate::suggest::closest;
use flags::{
    ADD_FLAGS, COPY_FLAGS, FROM_FLAGS, FlagError, Flags, HEALTHCHECK_FLAGS, NO_FLAGS, RUN_FLAGS,
};

pub use duration::parse_go_duration;
pub use mount::parse_mount;

/// Every Dockerfile instruction, upper-case.
pub const ALL_INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Converts a raw node to a typed instruction. `file` names the source in
/// errors.
pub fn instruction_from_node(node: Node, file: &str) -> Result<Instruction, ParseError> {
    let heredocs = node.heredocs.clone();
    instruction_with_heredocs(node, heredocs, file)
}

fn instruction_with_heredocs(
    node: Node,
    heredocs: Vec<Heredoc>,
    file: &str,
) -> Result<Instruction, ParseError> {
    let kind = typed_kind(&node, heredocs, file)?;
    Ok(Instruction {
        span: node.span,
        keyword_span: node.keyword_span,
        original: node.original.clone(),
        node,
        kind,
    })
}

/// An error located at `span`.
struct Located(Span, Box<ParseErrorKind>);

impl Located {
    fn new(span: Span, kind: ParseErrorKind) -> Self {
        Located(span, Box::new(kind))
    }
}

fn typed_kind(
    node: &Node,
    heredocs: Vec<Heredoc>,
    file: &str,
) -> Result<InstructionKind, ParseError> {
    let name = node.keyword.to_ascii_uppercase();
    let result = match name.as_str() {
        "FROM" => parse_from(node, &name),
        "RUN" => parse_run(node, &name, heredocs),
        "CMD" => {
            no_flags(node, &name).map(|()| InstructionKind::Cmd(command_form(node, &node.args)))
        }
        "ENTRYPOINT" => no_flags(node, &name)
            .map(|()| InstructionKind::Entrypoint(command_form(node, &node.args))),
        "LABEL" => key_values(node, &name).map(InstructionKind::Label),
        "ENV" => key_values(node, &name).map(InstructionKind::Env),
        "MAINTAINER" => exactly_one(node, &name).map(InstructionKind::Maintainer),
        "USER" => exactly_one(node, &name).map(InstructionKind::User),
        "WORKDIR" => exactly_one(node, &name).map(InstructionKind::Workdir),
        "STOPSIGNAL" => exactly_one(node, &name).map(InstructionKind::Stopsignal),
        "EXPOSE" => at_least_one(node, &name).map(|()| InstructionKind::Expose(node.args.clone())),
        "VOLUME" => parse_volume(node, &name),
        "ADD" => parse_file_copy(node, &name, ADD_FLAGS, heredocs).map(InstructionKind::Add),
        "COPY" => parse_file_copy(node, &name, COPY_FLAGS, heredocs).map(InstructionKind::Copy),
        "ARG" => parse_arg(node, &name),
        "SHELL" => parse_shell(node, &name),
        "HEALTHCHECK" => parse_healthcheck(node, &name),
        "ONBUILD" => return parse_onbuild(node, &name, heredocs, file),
        _ => Err(Located::new(
            node.keyword_span,
            ParseErrorKind::UnknownInstruction {
                keyword: node.keyword.clone(),
                suggestion: closest(&node.keyword, ALL_INSTRUCTIONS).map(str::to_string),
            },
        )),
    };
    result.map_err(|Located(span, kind)| ParseError::boxed(file, span, kind))
}

fn whole(node: &Node, kind: ParseErrorKind) -> Located {
    Located::new(node.span, kind)
}

/// Points at the flag word in the source when it is on the first line.
fn flag_error(node: &Node, (kind, word): FlagError) -> Located {
    Located::new(locate(node, &word), kind)
}

/// The span of `needle` inside the instruction (its first occurrence after
/// the keyword), or the whole instruction when it cannot be found.
fn locate(node: &Node, needle: &str) -> Span {
    if needle.is_empty() {
        return node.span;
    }
    node.span_of(needle, node.keyword.len())
        .unwrap_or(node.span)
}

/// The span of `--flag=value` (or of `--flag` when the value was quoted).
fn locate_flag(node: &Node, flag: &str, value: &str) -> Span {
    let word = format!("--{flag}={value}");
    node.span_of(&word, node.keyword.len())
        .or_else(|| node.span_of(&format!("--{flag}"), node.keyword.len()))
        .unwrap_or(node.span)
}

fn flags(node: &Node, name: &str, valid: &'static [&'static str]) -> Result<Flags, Located> {
    Flags::parse(name, &node.flags, valid).map_err(|e| flag_error(node, e))
}

fn no_flags(node: &Node, name: &str) -> Result<(), Located> {
    flags(node, name, NO_FLAGS).map(|_| ())
}

fn count_error(node: &Node, name: &str, expected: &str) -> Located {
    whole(
        node,
        ParseErrorKind::ArgumentCount {
            instruction: name.to_string(),
            expected: expected.to_string(),
            found: node.args.len(),
        },
    )
}

fn exactly_one(node: &Node, name: &str) -> Result<String, Located> {
    no_flags(node, name)?;
    match node.args.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(count_error(node, name, "exactly one argument")),
    }
}

fn at_least_one(node: &Node, name: &str) -> Result<(), Located> {
    no_flags(node, name)?;
    if node.args.is_empty() {
        return Err(count_error(node, name, "at least one argument"));
    }
    Ok(())
}

fn command_form(node: &Node, args: &[String]) -> CommandForm {
    if node.json {
        CommandForm::Exec(args.to_vec())
    } else {
        CommandForm::Shell(args.first().cloned().unwrap_or_default())
    }
}

fn parse_from(node: &Node, name: &str) -> Result<InstructionKind, Located> {
    let mut flags = flags(node, name, FROM_FLAGS)?;
    let stage = match node.args.as_slice() {
        [_] => None,
        [_, as_keyword, stage] if as_keyword.eq_ignore_ascii_case("as") => {
            if !valid_stage_name(stage) {
                return Err(Located::new(
                    locate(node, stage),
                    ParseErrorKind::InvalidStageName {
                        name: stage.clone(),
                    },
                ));
            }
            Some(StageName {
                name: stage.clone(),
                as_keyword: as_keyword.clone(),
            })
        }
        _ => {
            return Err(whole(
                node,
                ParseErrorKind::InvalidArguments {
                    instruction: name.to_string(),
                    message: "FROM requires either one or three arguments; write `FROM image` or `FROM image AS name`".to_string(),
                },
            ));
        }
    };
    Ok(InstructionKind::From(From {
        image: node.args[0].clone(),
        platform: flags.take_text("platform"),
        stage,
    }))
}

/// BuildKit's `^[a-z][a-z0-9-_\.]*$`, case-insensitive.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn choice<T: Copy>(
    node: &Node,
    name: &str,
    flag: &str,
    value: &str,
    options: &[(&str, T)],
) -> Result<T, Located> {
    options
        .iter()
        .find(|(n, _)| *n == value)
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            Located::new(
                locate_flag(node, flag, value),
                ParseErrorKind::InvalidFlagValue {
                    instruction: name.to_string(),
                    flag: flag.to_string(),
                    value: value.to_string(),
                    expected: format!("one of {}", names.join(", ")),
                },
            )
        })
}

fn parse_run(node: &Node, name: &str, heredocs: Vec<Heredoc>) -> Result<InstructionKind, Located> {
    let mut flags = flags(node, name, RUN_FLAGS)?;
    if node.args.is_empty() {
        return Err(count_error(node, name, "at least one argument"));
    }
    let mut mounts = Vec::new();
    for value in flags.take_list("mount") {
        let mount = parse_mount(&value).map_err(|kind| Located::new(locate(node, &value), kind))?;
        mounts.push(mount);
    }
    let network = match flags.text("network") {
        Some(v) => Some(choice(
            node,
            name,
            "network",
            v,
            &[
                ("default", NetworkMode::Default),
                ("none", NetworkMode::None),
                ("host", NetworkMode::Host),
            ],
        )?),
        None => None,
    };
    let security = match flags.text("security") {
        Some(v) => Some(choice(
            node,
            name,
            "security",
            v,
            &[
                ("sandbox", SecurityMode::Sandbox),
                ("insecure", SecurityMode::Insecure),
            ],
        )?),
        None => None,
    };
    Ok(InstructionKind::Run(Run {
        command: command_form(node, &node.args),
        mounts,
        network,
        security,
        heredocs: heredocs.into_iter().map(chomped).collect(),
    }))
}

/// Applies `<<-` tab stripping to a heredoc body.
fn chomped(mut heredoc: Heredoc) -> Heredoc {
    if heredoc.chomp {
        let mut content = String::with_capacity(heredoc.content.len());
        for line in heredoc.content.split_inclusive('\n') {
            content.push_str(line.trim_start_matches('\t'));
        }
        heredoc.content = content;
    }
    heredoc
}

fn key_values(node: &Node, name: &str) -> Result<Vec<KeyValue>, Located> {
    no_flags(node, name)?;
    if node.args.is_empty() {
        return Err(count_error(node, name, "at least one argument"));
    }
    let mut pairs = Vec::with_capacity(node.args.len() / 3);
    for triple in node.args.chunks(3) {
        let [key, value, separator] = triple else {
            return Err(count_error(node, name, "name=value pairs"));
        };
        if key.is_empty() {
            return Err(whole(
                node,
                ParseErrorKind::BlankName {
                    instruction: name.to_string(),
                },
            ));
        }
        pairs.push(KeyValue {
            name: key.clone(),
            value: value.clone(),
            legacy_format: separator.is_empty(),
        });
    }
    Ok(pairs)
}

fn parse_volume(node: &Node, name: &str) -> Result<InstructionKind, Located> {
    at_least_one(node, name)?;
    if node.args.iter().any(|a| a.trim().is_empty()) {
        return Err(whole(
            node,
            ParseErrorKind::InvalidArguments {
                instruction: name.to_string(),
                message: "VOLUME specified can not be an empty string".to_string(),
            },
        ));
    }
    Ok(InstructionKind::Volume(node.args.clone()))
}

fn parse_file_copy(
    node: &Node,
    name: &str,
    valid: &'static [&'static str],
    heredocs: Vec<Heredoc>,
) -> Result<FileCopy, Located> {
    let mut flags = flags(node, name, valid)?;
    let Some((dest, sources)) = node.args.split_last().filter(|(_, s)| !s.is_empty()) else {
        let expected = "at least two arguments: one or more sources and a destination";
        return Err(count_error(node, name, expected));
    };
    if !node.json && matches!(parse_opener(dest), Ok(Some(_))) {
        return Err(Located::new(
            locate(node, dest),
            ParseErrorKind::HeredocNotAllowed {
                instruction: name.to_string(),
                role: "a destination".to_string(),
            },
        ));
    }
    Ok(FileCopy {
        sources: sources.to_vec(),
        dest: dest.clone(),
        exec_form: node.json,
        from: flags.take_text("from"),
        chown: flags.take_text("chown"),
        chmod: flags.take_text("chmod"),
        link: flags.bool("link").unwrap_or(false),
        parents: flags.bool("parents").unwrap_or(false),
        exclude: flags.take_list("exclude"),
        keep_git_dir: flags.bool("keep-git-dir").unwrap_or(false),
        checksum: flags.take_text("checksum"),
        unpack: flags.bool("unpack"),
        heredocs: heredocs.into_iter().map(chomped).collect(),
    })
}

fn parse_arg(node: &Node, name: &str) -> Result<InstructionKind, Located> {
    at_least_one(node, name)?;
    let mut decls = Vec::with_capacity(node.args.len());
    for word in &node.args {
        let (arg_name, default) = match word.split_once('=') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (word.as_str(), None),
        };
        if arg_name.is_empty() {
            return Err(Located::new(
                locate(node, word),
                ParseErrorKind::BlankName {
                    instruction: name.to_string(),
                },
            ));
        }
        decls.push(ArgDecl {
            name: arg_name.to_string(),
            default,
        });
    }
    Ok(InstructionKind::Arg(decls))
}

fn parse_shell(node: &Node, name: &str) -> Result<InstructionKind, Located> {
    at_least_one(node, name)?;
    if !node.json {
        return Err(whole(
            node,
            ParseErrorKind::InvalidArguments {
                instruction: name.to_string(),
                message: "SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]".to_string(),
            },
        ));
    }
    Ok(InstructionKind::Shell(node.args.clone()))
}

fn parse_healthcheck(node: &Node, name: &str) -> Result<InstructionKind, Located> {
    let mut flags = flags(node, name, HEALTHCHECK_FLAGS)?;
    let Some((kind, command)) = node.args.split_first() else {
        return Err(count_error(
            node,
            name,
            "at least one argument (NONE or CMD <command>)",
        ));
    };
    let invalid = |message: String| {
        whole(
            node,
            ParseErrorKind::InvalidArguments {
                instruction: name.to_string(),
                message,
            },
        )
    };
    if kind.eq_ignore_ascii_case("NONE") {
        if !command.is_empty() {
            return Err(invalid("HEALTHCHECK NONE takes no arguments".to_string()));
        }
        return Ok(InstructionKind::Healthcheck(Healthcheck::None));
    }
    if !kind.eq_ignore_ascii_case("CMD") {
        return Err(invalid(format!(
            "Unknown type {:?} in HEALTHCHECK (try CMD)",
            kind.to_ascii_uppercase()
        )));
    }
    if command.is_empty() {
        return Err(invalid(
            "Missing command after HEALTHCHECK CMD; write HEALTHCHECK CMD <command>".to_string(),
        ));
    }
    let mut duration = |flag: &str| -> Result<Option<std::time::Duration>, Located> {
        let Some(value) = flags.take_text(flag) else {
            return Ok(None);
        };
        let bad = |expected: String| {
            Located::new(
                locate_flag(node, flag, &value),
                ParseErrorKind::InvalidFlagValue {
                    instruction: name.to_string(),
                    flag: flag.to_string(),
                    value: value.clone(),
                    expected,
                },
            )
        };
        let parsed = parse_go_duration(&value).map_err(&bad)?;
        if !parsed.is_zero() && parsed < std::time::Duration::from_millis(1) {
            return Err(bad("0 or at least 1ms".to_string()));
        }
        Ok(Some(parsed))
    };
    let interval = duration("interval")?;
    let timeout = duration("timeout")?;
    let start_period = duration("start-period")?;
    let start_interval = duration("start-interval")?;
    let retries = match flags.take_text("retries") {
        Some(value) => Some(value.parse::<u32>().map_err(|_| {
            Located::new(
                locate_flag(node, "retries", &value),
                ParseErrorKind::InvalidFlagValue {
                    instruction: name.to_string(),
                    flag: "retries".to_string(),
                    value: value.clone(),
                    expected: "a non-negative whole number".to_string(),
                },
            )
        })?),
        None => None,
    };
    Ok(InstructionKind::Healthcheck(Healthcheck::Cmd(
        HealthcheckCmd {
            command: command_form(node, command),
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        },
    )))
}

fn parse_onbuild(
    node: &Node,
    name: &str,
    heredocs: Vec<Heredoc>,
    file: &str,
) -> Result<InstructionKind, ParseError> {
    let fail = |span, kind| ParseError::new(file, span, kind);
    if let Err(Located(span, kind)) = no_flags(node, name) {
        return Err(ParseError::boxed(file, span, kind));
    }
    let Some(nested) = node.nested.as_deref() else {
        let Located(span, kind) = count_error(node, name, "at least one argument");
        return Err(ParseError::boxed(file, span, kind));
    };
    let trigger = nested.keyword.to_ascii_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err(fail(nested.keyword_span, ParseErrorKind::OnbuildChain)),
        "FROM" | "MAINTAINER" => {
            return Err(fail(
                nested.keyword_span,
                ParseErrorKind::OnbuildTriggerNotAllowed { trigger },
            ));
        }
        _ => {}
    }
    let inner = instruction_with_heredocs(nested.clone(), heredocs, file)?;
    Ok(InstructionKind::Onbuild(Box::new(inner)))
}
