//! How Dockerfile instructions change the image config, with `docker build`'s semantics, and
//! the history entries (`created_by`) BuildKit writes for them.

mod apply;
mod expose;
mod go_format;

pub use apply::{
    ConfigChange, DEFAULT_SHELL, StageConfig, apply_instruction, go_duration, join_workdir,
};
pub use expose::{ExposeError, parse_expose};
pub use go_format::{go_quoted_list, go_slice};
