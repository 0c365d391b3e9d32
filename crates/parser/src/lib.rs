//! rbuild-parser: Dockerfile text → AST (with spans) → instruction DAG.
//!
//! Depends on no other rbuild crate.
//!
//! Layers, each in its own module:
//! * [`span`]: source positions carried by every node.
//! * [`node`]: the raw syntax tree, exactly BuildKit's parser level
//!   (what [`buildkit_dump`] prints in BuildKit's test format).
//! * [`ast`]: the typed, validated instructions built on the raw nodes.
//! * [`error`]: one typed error with `file:line:column` and a renderer.
//! * [`shell`]: word lexing and variable expansion.
//! * [`checks`]: build checks (BuildKit rule names).
//! * [`plan`]: the instruction DAG.
//!
//! ```
//! let text = "FROM alpine AS base\nRUN echo hi\n";
//! let dockerfile = rbuild_parser::parse_dockerfile(text, Some("Dockerfile")).unwrap();
//! assert_eq!(dockerfile.instructions.len(), 2);
//! assert_eq!(
//!     rbuild_parser::buildkit_dump(&dockerfile),
//!     "(from \"alpine\" \"AS\" \"base\")\n(run \"echo hi\")\n"
//! );
//! ```
//!
//! Input is `&str`; [`parse_dockerfile_bytes`] accepts raw bytes and
//! reports non-UTF-8 input as a typed error. No input makes the parser
//! panic.

pub mod ast;
pub mod checks;
mod dump;
pub mod error;
mod instructions;
pub mod node;
mod parse;
pub mod plan;
pub mod shell;
pub mod span;
mod suggest;

pub use ast::{Dockerfile, Instruction, InstructionKind};
pub use dump::{buildkit_dump, buildkit_dump_syntax, go_quote};
pub use error::{ParseError, ParseErrorKind};
pub use instructions::{ALL_INSTRUCTIONS, instruction_from_node};
pub use node::{Node, Segment, SyntaxTree};
pub use parse::directives::{SyntaxDirective, detect_syntax};
pub use span::{Position, Span};
pub use suggest::{closest as suggest_closest, edit_distance};

/// File name used in errors when the caller gives none.
pub const DEFAULT_FILE_NAME: &str = "Dockerfile";

/// Parses and validates a Dockerfile.
///
/// `file_name` names the file in errors (`Dockerfile` when `None`).
/// Words stay raw (unexpanded); see [`ast`].
pub fn parse_dockerfile(text: &str, file_name: Option<&str>) -> Result<Dockerfile, ParseError> {
    let file = file_name.unwrap_or(DEFAULT_FILE_NAME);
    let tree = parse::parse_syntax_tree(text, file)?;
    let mut instructions = Vec::with_capacity(tree.nodes.len());
    for node in tree.nodes {
        instructions.push(instruction_from_node(node, file)?);
    }
    Ok(Dockerfile {
        directives: tree.directives,
        instructions,
        warnings: tree.warnings,
        span: tree.span,
    })
}

/// [`parse_dockerfile`] for raw bytes: non-UTF-8 input is an
/// [`ParseErrorKind::InvalidUtf8`] error pointing at the first bad byte.
pub fn parse_dockerfile_bytes(
    bytes: &[u8],
    file_name: Option<&str>,
) -> Result<Dockerfile, ParseError> {
    parse_dockerfile(utf8(bytes, file_name)?, file_name)
}

/// Parses to the raw syntax tree only (BuildKit's parser level): unknown
/// instructions and flags are accepted, as in BuildKit's parser tests.
pub fn parse_syntax(text: &str, file_name: Option<&str>) -> Result<SyntaxTree, ParseError> {
    parse::parse_syntax_tree(text, file_name.unwrap_or(DEFAULT_FILE_NAME))
}

/// [`parse_syntax`] for raw bytes.
pub fn parse_syntax_bytes(bytes: &[u8], file_name: Option<&str>) -> Result<SyntaxTree, ParseError> {
    parse_syntax(utf8(bytes, file_name)?, file_name)
}

fn utf8<'a>(bytes: &'a [u8], file_name: Option<&str>) -> Result<&'a str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let valid = &bytes[..offset];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        let at = Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset,
        };
        ParseError::new(
            file_name.unwrap_or(DEFAULT_FILE_NAME),
            Span::new(at, at),
            ParseErrorKind::InvalidUtf8 { offset },
        )
    })
}
