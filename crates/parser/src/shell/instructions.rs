//! Which Dockerfile instructions expand variables in their arguments.
//!
//! In BuildKit the builder itself expands variables only for instructions whose
//! arguments are paths, names or values it interprets. `RUN`, `CMD`, `ENTRYPOINT`,
//! `SHELL` and `HEALTHCHECK` commands are left alone: the shell in the container
//! expands them when it runs. `ONBUILD` stores its instruction unexpanded (it is
//! expanded when it triggers in a child build), and `MAINTAINER` is kept as written.

/// The instructions whose arguments the builder expands, upper case, sorted.
///
/// * `ADD`, `COPY`: sources, destination and the values of `--chown`, `--chmod`,
///   `--from` and the other flags.
/// * `ARG`: default values. `ENV`, `LABEL`: names and values.
/// * `EXPOSE`: ports (split into words after expansion), `VOLUME`, `WORKDIR`, `USER`,
///   `STOPSIGNAL`: their arguments.
/// * `FROM`: the image name and `--platform`, but only with the global `ARG`s declared
///   before the first `FROM` (and build arguments), not with stage `ENV`s.
pub const EXPANDING_INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "COPY",
    "ENV",
    "EXPOSE",
    "FROM",
    "LABEL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Whether the builder expands variables in the arguments of the instruction
/// `keyword` (case-insensitive), see [`EXPANDING_INSTRUCTIONS`].
///
/// ```
/// use rbuild_parser::shell::expands_variables;
/// assert!(expands_variables("copy"));
/// assert!(!expands_variables("RUN"));
/// ```
pub fn expands_variables(keyword: &str) -> bool {
    EXPANDING_INSTRUCTIONS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(keyword))
}

/// Whether the builder expands variables in the *flag values* of the instruction
/// `keyword`: every instruction of [`EXPANDING_INSTRUCTIONS`], and `RUN`, whose
/// `--mount` option values are expanded although its command is not. (BuildKit
/// refuses a `$` in `RUN --mount=from=…`: a stage dependency must be static.)
pub fn expands_flag_values(keyword: &str) -> bool {
    keyword.eq_ignore_ascii_case("RUN") || expands_variables(keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_builder_interpreted_instructions_expand() {
        for keyword in [
            "ADD",
            "arg",
            "Copy",
            "ENV",
            "EXPOSE",
            "FROM",
            "LABEL",
            "STOPSIGNAL",
            "USER",
            "VOLUME",
            "WORKDIR",
        ] {
            assert!(expands_variables(keyword), "{keyword}");
        }
        for keyword in [
            "RUN",
            "CMD",
            "ENTRYPOINT",
            "SHELL",
            "HEALTHCHECK",
            "ONBUILD",
            "MAINTAINER",
            "COPYX",
            "",
        ] {
            assert!(!expands_variables(keyword), "{keyword}");
        }
        assert!(expands_flag_values("run") && expands_flag_values("COPY"));
        assert!(!expands_flag_values("CMD"));
    }
}
