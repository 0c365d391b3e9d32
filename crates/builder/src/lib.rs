//! rbuild-builder: executes the instruction DAG — cache keys, COPY/ADD/RUN semantics — and
//! the library API other build tools call.
//!
//! This crate is being built up in stages; today it holds the build-context layer:
//! [`context::IgnoreRules`] (`.dockerignore` with Docker's exact matching rules).

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
