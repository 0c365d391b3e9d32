//! rbuild-builder: executes the instruction DAG — cache keys, COPY/ADD/RUN semantics — and
//! the library API other build tools call.
//!
//! Start at [`build::build`] with [`build::BuildOptions`]. The modules below it:
//!
//! - [`request`]: what a build is asked to do — the context argument, `--build-context`,
//!   `--secret`, `--ssh`; [`request::prepare_context_arg`] also fetches remote contexts.
//! - [`remote`]: git repositories and URLs as build contexts, fetched into the store's
//!   scratch area (`git` command; streamed, safely extracted downloads).
//! - [`context`]: `.dockerignore`, paths resolved inside the context, content digests.
//! - [`cache`]: step cache keys and the persistent index.
//! - [`copy`] and [`add`]: COPY's rules; ADD's archives, URLs and git repositories.
//! - [`image_config`]: how each instruction changes the image config and history.

pub mod add;
pub mod build;
pub mod cache;
pub mod context;
pub mod copy;
pub mod image_config;
pub mod mounted;
pub mod prune;
pub mod remote;
pub mod request;
pub mod run_image;
pub mod users;
