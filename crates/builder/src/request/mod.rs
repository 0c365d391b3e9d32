//! What a build is asked to do: the inputs a caller (the CLI, or another tool through the
//! library API) hands to the builder, and the parsers for the `docker build` flags that
//! describe them.

mod context_arg;
mod kv;
mod named_context;
mod secret;
mod ssh;

pub use context_arg::{
    ContextArgError, ContextSpec, DockerfileSpec, PreparedContext, prepare_context_arg,
    resolve_context_arg,
};
pub use named_context::{
    NamedContext, NamedContextError, parse_build_context, prepare_build_context,
};
pub use secret::{SecretError, SecretSource, SecretSpec, parse_secret};
pub use ssh::{SshError, SshSpec, parse_ssh};
