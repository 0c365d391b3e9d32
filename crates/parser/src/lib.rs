//! rbuild-parser: Dockerfile text → AST (with spans) → instruction DAG.
//!
//! Depends on no other rbuild crate.

pub mod checks;
pub mod plan;
pub mod shell;
