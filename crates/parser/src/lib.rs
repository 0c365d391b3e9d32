//! rbuild-parser: Dockerfile text → AST (with spans) → instruction DAG.
//!
//! Depends on no other rbuild crate.
//!
//! Layers, each in its own module:
//! * [`span`]: source positions carried by every node.
//! * [`node`]: the raw syntax tree, exactly BuildKit's parser level
//!   (what [`dump`] prints in BuildKit's test format).
//! * [`ast`]: the typed, validated instructions built on the raw nodes.
//! * [`shell`]: word lexing and variable expansion.
//! * [`checks`]: build checks (BuildKit rule names).
//! * [`plan`]: the instruction DAG.

pub mod ast;
pub mod checks;
pub mod node;
pub mod plan;
pub mod shell;
pub mod span;

pub use ast::{Dockerfile, Instruction, InstructionKind};
pub use node::{Node, SyntaxTree};
pub use span::{Position, Span};
