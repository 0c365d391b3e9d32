//! Word lexer and variable expansion with BuildKit semantics.
