//! The typed Dockerfile AST.
//!
//! Produced by [`crate::parse_dockerfile`]: every instruction is validated
//! (known keyword, known flags with valid values, argument counts) and
//! carries a typed [`InstructionKind`], its [`Span`]s and its raw
//! [`Node`] (what BuildKit's parser produced, used by the BuildKit dump and
//! by checks that need the text as written).
//!
//! Words are kept **raw**: quotes, escapes and `$variables` are exactly as
//! written. Expansion depends on build arguments and on the instruction's
//! position in its stage, so it happens later (planner/builder) with
//! [`crate::shell`].

mod flags;

pub use flags::{CacheSharing, Deferred, MountType, NetworkMode, RunMount, SecurityMode};

use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::node::Node;
use crate::span::Span;

/// A parsed, validated Dockerfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dockerfile {
    /// Parser directives (`# syntax=`, `# escape=`, `# check=`).
    pub directives: Directives,
    /// The instructions in source order (at least one).
    pub instructions: Vec<Instruction>,
    /// Non-fatal findings of the parser (build checks live in
    /// [`crate::checks`]).
    pub warnings: Vec<Warning>,
    /// From the first instruction's first line to the last instruction's
    /// last line.
    pub span: Span,
}

/// The parser directives at the top of a Dockerfile. Each may appear once.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Directives {
    /// `# syntax=<frontend image>`.
    pub syntax: Option<Directive>,
    /// `# escape=\` or `` # escape=` ``.
    pub escape: Option<Directive>,
    /// `# check=skip=A,B;error=true`.
    pub check: Option<Directive>,
}

impl Directives {
    /// The escape token in effect: `\` unless `# escape=`` ` `` chose the
    /// backtick.
    pub fn escape_token(&self) -> char {
        match &self.escape {
            Some(d) if d.value == "`" => '`',
            _ => '\\',
        }
    }
}

/// One parser directive line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Directive {
    /// The directive name as written (keys are case-insensitive).
    pub name: String,
    /// The value, surrounding whitespace trimmed.
    pub value: String,
    /// The whole directive line.
    pub span: Span,
}

/// A non-fatal finding of the parser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// What was found.
    pub kind: WarningKind,
    /// Human-readable description (BuildKit's wording where it has one).
    pub message: String,
    /// The instruction concerned.
    pub span: Span,
}

/// Kinds of parser warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WarningKind {
    /// A whitespace-only line inside a continued instruction; a future
    /// Dockerfile syntax may treat it as the end of the instruction.
    EmptyContinuationLine,
}

/// One instruction with its location, its raw node and its typed meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instruction {
    /// From the keyword to the end of the last physical line consumed
    /// (continuation lines and heredoc bodies included).
    pub span: Span,
    /// The keyword only.
    pub keyword_span: Span,
    /// The logical line (continuations joined), as BuildKit's `Original`.
    pub original: String,
    /// The raw node: keyword as written, raw flags and argument strings.
    pub node: Node,
    /// The typed, validated meaning.
    pub kind: InstructionKind,
}

impl Instruction {
    /// The keyword exactly as written (e.g. `run`, `Run`, `RUN`).
    pub fn keyword(&self) -> &str {
        &self.node.keyword
    }

    /// The canonical upper-case instruction name (`RUN`, `COPY`, ...).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// For `ONBUILD`, the trigger as BuildKit stores it in the image
    /// config's `OnBuild` list: the trigger's text without the `ONBUILD`
    /// keyword, followed by each heredoc (`\n` + body + delimiter) so the
    /// trigger can be parsed again when the image is used as a base.
    pub fn onbuild_expression(&self) -> Option<String> {
        let InstructionKind::Onbuild(trigger) = &self.kind else {
            return None;
        };
        let mut expression = trigger.original.clone();
        for heredoc in &self.node.heredocs {
            expression.push('\n');
            expression.push_str(&heredoc.content);
            expression.push_str(&heredoc.name);
        }
        Some(expression)
    }
}

/// The typed meaning of each Dockerfile instruction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InstructionKind {
    /// `FROM [--platform=p] image [AS name]`.
    From(From),
    /// `RUN [--mount ...] [--network ...] [--security ...] command`.
    Run(Run),
    /// `CMD command`.
    Cmd(CommandForm),
    /// `LABEL k=v ...` (or the legacy `LABEL k v`).
    Label(Vec<KeyValue>),
    /// `MAINTAINER text` (deprecated).
    Maintainer(String),
    /// `EXPOSE port[/proto] ...`, one raw word per port.
    Expose(Vec<String>),
    /// `ENV k=v ...` (or the legacy `ENV k v`).
    Env(Vec<KeyValue>),
    /// `ADD [flags] src... dest`.
    Add(FileCopy),
    /// `COPY [flags] src... dest`.
    Copy(FileCopy),
    /// `ENTRYPOINT command`.
    Entrypoint(CommandForm),
    /// `VOLUME path...` (JSON array or words).
    Volume(Vec<String>),
    /// `USER user[:group]`.
    User(String),
    /// `WORKDIR path`.
    Workdir(String),
    /// `ARG name[=default] ...`.
    Arg(Vec<ArgDecl>),
    /// `ONBUILD instruction`: a trigger run when the image is used as a
    /// base. Never FROM, ONBUILD or MAINTAINER.
    Onbuild(Box<Instruction>),
    /// `STOPSIGNAL signal` (raw, e.g. `SIGTERM`, `9`, `$SIG`).
    Stopsignal(String),
    /// `HEALTHCHECK NONE` or `HEALTHCHECK [flags] CMD command`.
    Healthcheck(Healthcheck),
    /// `SHELL ["exe", "arg", ...]` (exec form only).
    Shell(Vec<String>),
}

impl InstructionKind {
    /// The canonical upper-case instruction name.
    pub fn name(&self) -> &'static str {
        match self {
            InstructionKind::From(_) => "FROM",
            InstructionKind::Run(_) => "RUN",
            InstructionKind::Cmd(_) => "CMD",
            InstructionKind::Label(_) => "LABEL",
            InstructionKind::Maintainer(_) => "MAINTAINER",
            InstructionKind::Expose(_) => "EXPOSE",
            InstructionKind::Env(_) => "ENV",
            InstructionKind::Add(_) => "ADD",
            InstructionKind::Copy(_) => "COPY",
            InstructionKind::Entrypoint(_) => "ENTRYPOINT",
            InstructionKind::Volume(_) => "VOLUME",
            InstructionKind::User(_) => "USER",
            InstructionKind::Workdir(_) => "WORKDIR",
            InstructionKind::Arg(_) => "ARG",
            InstructionKind::Onbuild(_) => "ONBUILD",
            InstructionKind::Stopsignal(_) => "STOPSIGNAL",
            InstructionKind::Healthcheck(_) => "HEALTHCHECK",
            InstructionKind::Shell(_) => "SHELL",
        }
    }
}

/// `FROM [--platform=p] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct From {
    /// The base: an image reference, a previous stage's name, or `scratch`
    /// (raw; may contain `$ARG`s declared before the first FROM).
    pub image: String,
    /// `--platform=` value (raw, e.g. `$BUILDPLATFORM` or `linux/arm64`).
    pub platform: Option<String>,
    /// `AS name`, when the stage is named.
    pub stage: Option<StageName>,
}

/// The `AS name` part of FROM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageName {
    /// The stage name as written (BuildKit compares names lower-cased).
    pub name: String,
    /// The `AS` keyword as written (`AS`, `as`, ...), for casing checks.
    pub as_keyword: String,
}

/// The two ways to write a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandForm {
    /// `["exe", "arg"]`: run directly, no shell. The strings are the JSON
    /// decoded array elements.
    Exec(Vec<String>),
    /// `exe arg`: the whole text, run by the stage's shell (`/bin/sh -c`).
    Shell(String),
}

/// `RUN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The command. With heredocs, the shell form text still contains the
    /// `<<EOF` words, as in BuildKit.
    pub command: CommandForm,
    /// `--mount=` flags, in order.
    pub mounts: Vec<RunMount>,
    /// `--network=` when given.
    pub network: Option<NetworkMode>,
    /// `--security=` when given.
    pub security: Option<SecurityMode>,
    /// Heredocs introduced on the command line, in order.
    pub heredocs: Vec<Heredoc>,
}

/// One `name=value` pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The name, raw (for LABEL it may be quoted: `"com.x"=1`).
    pub name: String,
    /// The value, raw: quotes and escapes kept, not expanded.
    pub value: String,
    /// True for the legacy `ENV name value` form (LegacyKeyValueFormat).
    pub legacy_format: bool,
}

/// `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgDecl {
    /// The argument name.
    pub name: String,
    /// The default value, raw (quotes kept, not expanded), if given.
    pub default: Option<String>,
}

/// `ADD` or `COPY` (which flags are accepted depends on the instruction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileCopy {
    /// Sources, raw. A heredoc source appears as its `<<NAME` word and its
    /// body is in `heredocs`.
    pub sources: Vec<String>,
    /// Destination, raw.
    pub dest: String,
    /// True when the paths were written as a JSON array.
    pub exec_form: bool,
    /// `--from=` stage name, index or image.
    pub from: Option<String>,
    /// `--chown=user[:group]`.
    pub chown: Option<String>,
    /// `--chmod=` octal mode or symbolic mode (raw).
    pub chmod: Option<String>,
    /// `--link[=bool]`.
    pub link: bool,
    /// `--parents[=bool]`: keep the source's parent directories.
    pub parents: bool,
    /// `--exclude=` patterns (repeatable).
    pub exclude: Vec<String>,
    /// `--keep-git-dir[=bool]` (ADD only).
    pub keep_git_dir: bool,
    /// `--checksum=` (ADD only), e.g. `sha256:...`.
    pub checksum: Option<String>,
    /// `--unpack[=bool]` (ADD only); `None` means the default (unpack local
    /// archives, not remote ones).
    pub unpack: Option<bool>,
    /// Heredocs used as inline source files.
    pub heredocs: Vec<Heredoc>,
}

/// A heredoc body attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heredoc {
    /// The delimiter word with quotes removed (`EOF` for `<<'EOF'`).
    pub name: String,
    /// The body: every line up to the terminator, each with its original
    /// line ending. In the typed instructions ([`Run`], [`FileCopy`]) the
    /// leading tabs of each line are already removed for `<<-`; in the raw
    /// [`Node`] the body is exactly as written (as in BuildKit's parser).
    pub content: String,
    /// False when the delimiter was quoted: then the body is not expanded.
    pub expand: bool,
    /// True for `<<-` (leading tabs stripped).
    pub chomp: bool,
    /// The file descriptor prefix (`3<<EOF`), if given.
    pub file_descriptor: Option<u32>,
    /// The body and terminator lines.
    pub span: Span,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's health check.
    None,
    /// `HEALTHCHECK [flags] CMD command`.
    Cmd(HealthcheckCmd),
}

/// `HEALTHCHECK [flags] CMD command`. Absent values mean "inherit".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthcheckCmd {
    /// The probe command.
    pub command: CommandForm,
    /// `--interval=` (Go duration, e.g. `30s`).
    pub interval: Option<Duration>,
    /// `--timeout=`.
    pub timeout: Option<Duration>,
    /// `--start-period=`.
    pub start_period: Option<Duration>,
    /// `--start-interval=`.
    pub start_interval: Option<Duration>,
    /// `--retries=`.
    pub retries: Option<u32>,
}
