//! One instruction of a stage: expansion, scope update, edges and the
//! findings of the rules that look at single instructions.

use std::collections::BTreeSet;

use crate::ast::{ArgDecl, CommandForm, Instruction, InstructionKind};
use crate::checks::Rule;
use crate::span::Span;

use super::{Planner, StageWalk};
use crate::plan::error::PlanError;
use crate::plan::expand::{expand_kind, needs_expansion};
use crate::plan::graph::{
    ArgSource, ArgValue, Dependency, DependencyKind, Expansion, PlannedInstruction,
};
use crate::plan::scope::{StageScope, WordExpander};
use crate::plan::suggest::did_you_mean;

impl<'a> Planner<'a> {
    /// Plan one instruction of stage `index`: expand it, update the scope,
    /// record edges and findings.
    pub(super) fn instruction(
        &mut self,
        instruction: &Instruction,
        from_onbuild: bool,
        scope: &mut StageScope,
        walk: &mut StageWalk,
        deps: &mut Vec<Dependency>,
        index: usize,
    ) -> Result<PlannedInstruction, PlanError> {
        let span = instruction.span;
        let expansion_error = |source| PlanError::Expansion { source, span };

        if let InstructionKind::Arg(decls) = &instruction.kind {
            return self.arg(instruction, decls, from_onbuild, scope, walk);
        }

        let mut words = WordExpander::new(self.escape, scope);
        let expanded_kind = if needs_expansion(&instruction.kind, |w| words.is_literal(w)) {
            Some(expand_kind(&instruction.kind, &mut words).map_err(expansion_error)?)
        } else {
            None
        };
        let unresolved = words.unresolved();
        self.report_undefined(words.undefined(), scope, span);
        let resolved = unresolved.is_empty();

        let effective = expanded_kind.as_ref().unwrap_or(&instruction.kind);
        match (&instruction.kind, effective) {
            (InstructionKind::Env(raw_pairs), InstructionKind::Env(pairs)) => {
                for (raw, pair) in raw_pairs.iter().zip(pairs) {
                    if raw.legacy_format {
                        self.report(
                            Rule::LegacyKeyValueFormat,
                            span,
                            "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format".to_string(),
                        );
                    }
                    self.check_secret("ENV", &pair.name, span);
                }
                // All values were expanded against the scope before the
                // instruction; now they take effect together.
                for pair in pairs {
                    if resolved {
                        scope.vars.insert(pair.name.clone(), pair.value.clone());
                    } else {
                        scope.vars.remove(&pair.name);
                    }
                }
            }
            (InstructionKind::Label(raw_pairs), _) if raw_pairs.iter().any(|p| p.legacy_format) => {
                self.report(
                    Rule::LegacyKeyValueFormat,
                    span,
                    "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format".to_string(),
                );
            }
            (InstructionKind::Workdir(_), InstructionKind::Workdir(path)) => {
                if !scope.workdir_set && !is_absolute_path(path) {
                    self.report(
                        Rule::WorkdirRelativePath,
                        span,
                        format!("Relative workdir {path:?} can have unexpected results if the base image changes"),
                    );
                }
                scope.workdir_set = true;
            }
            (InstructionKind::Cmd(form), _) => {
                walk.cmd = self.used_once("CMD", walk.cmd, span);
                self.check_json_args("CMD", form, scope, span);
            }
            (InstructionKind::Entrypoint(form), _) => {
                walk.entrypoint = self.used_once("ENTRYPOINT", walk.entrypoint, span);
                self.check_json_args("ENTRYPOINT", form, scope, span);
            }
            (InstructionKind::Healthcheck(_), _) => {
                walk.healthcheck = self.used_once("HEALTHCHECK", walk.healthcheck, span);
            }
            (InstructionKind::Shell(_), _) => scope.shell_set = true,
            (InstructionKind::Expose(_), InstructionKind::Expose(ports)) if resolved => {
                for port in ports {
                    self.check_expose(port, span);
                }
            }
            (InstructionKind::Copy(copy) | InstructionKind::Add(copy), _) => {
                if let Some(from) = &copy.from {
                    let source = self.resolve_source(from, index, span)?;
                    deps.push(Dependency {
                        source,
                        kind: DependencyKind::CopyFrom,
                        span,
                    });
                }
            }
            (InstructionKind::Run(run), _) => {
                for mount in &run.mounts {
                    if let Some(from) = &mount.from {
                        let source = self.resolve_source(from, index, span)?;
                        deps.push(Dependency {
                            source,
                            kind: DependencyKind::MountFrom,
                            span,
                        });
                    }
                }
            }
            (InstructionKind::Onbuild(trigger), _) => walk.onbuild.push((**trigger).clone()),
            _ => {}
        }

        Ok(PlannedInstruction {
            instruction: instruction.clone(),
            expanded: match expanded_kind {
                _ if !resolved => Expansion::Unresolved(unresolved),
                Some(kind) => Expansion::Expanded(kind),
                None => Expansion::Unchanged,
            },
            from_onbuild,
        })
    }

    /// `ARG` inside a stage: each name gets the `--build-arg` value, else its
    /// expanded default, else (no default) the global value.
    pub(super) fn arg(
        &mut self,
        instruction: &Instruction,
        decls: &[ArgDecl],
        from_onbuild: bool,
        scope: &mut StageScope,
        walk: &mut StageWalk,
    ) -> Result<PlannedInstruction, PlanError> {
        let span = instruction.span;
        let mut expanded_decls = Vec::with_capacity(decls.len());
        let mut unresolved_all = BTreeSet::new();
        for decl in decls {
            self.check_secret("ARG", &decl.name, span);
            let mut unresolved = Vec::new();
            let (value, source) = if let Some(given) = self.options.build_args.get(&decl.name) {
                (Some(given.to_string()), ArgSource::BuildArg)
            } else if let Some(default) = &decl.default {
                // Each default sees the values of the names declared before it
                // on the same line (unlike ENV).
                let mut words = WordExpander::new(self.escape, scope);
                let value = words
                    .word(default)
                    .map_err(|source| PlanError::Expansion { source, span })?;
                unresolved = words.unresolved();
                self.report_undefined(words.undefined(), scope, span);
                (Some(value), ArgSource::Default)
            } else if let Some(global) = self.global_vars.get(&decl.name) {
                (Some(global.clone()), ArgSource::Global)
            } else {
                (None, ArgSource::Unset)
            };
            scope.declared_args.insert(decl.name.clone());
            match &value {
                Some(v) if unresolved.is_empty() => {
                    scope.vars.insert(decl.name.clone(), v.clone());
                }
                _ => {
                    scope.vars.remove(&decl.name);
                }
            }
            expanded_decls.push(ArgDecl {
                name: decl.name.clone(),
                default: value.clone(),
            });
            walk.args.push(ArgValue {
                name: decl.name.clone(),
                default: decl.default.clone(),
                value,
                source,
                span,
            });
            unresolved_all.extend(unresolved);
        }
        let resolved = unresolved_all.is_empty();
        Ok(PlannedInstruction {
            instruction: instruction.clone(),
            expanded: if resolved {
                Expansion::Expanded(InstructionKind::Arg(expanded_decls))
            } else {
                Expansion::Unresolved(unresolved_all.into_iter().collect())
            },
            from_onbuild,
        })
    }

    /// UndefinedVar, with the closest defined name as a hint.
    fn report_undefined(&mut self, names: Vec<String>, scope: &StageScope, span: Span) {
        for name in names {
            let hint = did_you_mean(&name, scope.vars.keys().map(String::as_str), true)
                .map(|h| format!(" (did you mean ${h}?)"))
                .unwrap_or_default();
            self.report(
                Rule::UndefinedVar,
                span,
                format!("Usage of undefined variable '${name}'{hint}"),
            );
        }
    }

    pub(super) fn check_secret(&mut self, instruction: &str, key: &str, span: Span) {
        if crate::checks::looks_like_secret(key) {
            self.report(
                Rule::SecretsUsedInArgOrEnv,
                span,
                format!(
                    "Do not use ARG or ENV instructions for sensitive data ({instruction} {key:?})"
                ),
            );
        }
    }

    /// MultipleInstructionsDisallowed reports the *earlier* instruction: it is
    /// the one that has no effect.
    pub(super) fn used_once(
        &mut self,
        name: &str,
        previous: Option<Span>,
        span: Span,
    ) -> Option<Span> {
        if let Some(previous) = previous {
            self.report(
                Rule::MultipleInstructionsDisallowed,
                previous,
                format!("Multiple {name} instructions should not be used in the same stage because only the last one will be used"),
            );
        }
        Some(span)
    }

    pub(super) fn check_json_args(
        &mut self,
        name: &str,
        form: &CommandForm,
        scope: &StageScope,
        span: Span,
    ) {
        if matches!(form, CommandForm::Shell(_)) && !scope.shell_set {
            self.report(
                Rule::JSONArgsRecommended,
                span,
                format!("JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"),
            );
        }
    }

    /// ExposeProtoCasing and ExposeInvalidFormat for one `EXPOSE` word.
    pub(super) fn check_expose(&mut self, port: &str, span: Span) {
        let parts: Vec<&str> = port.split(':').collect();
        let has_host_part = parts.len() > 1;
        let container = parts.last().copied().unwrap_or_default();
        let protocol = container
            .split_once('/')
            .map(|(_, proto)| proto)
            .unwrap_or("");
        if protocol.to_lowercase() != protocol {
            self.report(
                Rule::ExposeProtoCasing,
                span,
                format!("Defined protocol '{port}' in EXPOSE instruction should be lowercase"),
            );
        }
        if has_host_part {
            self.report(
                Rule::ExposeInvalidFormat,
                span,
                format!("EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'"),
            );
        }
    }
}

/// Absolute on Linux, or on Windows (`C:\dir`, `C:/dir`, `\dir`): the
/// planner does not know a base image's OS, and a Windows image's
/// `WORKDIR C:\app` is as absolute as `/app`.
fn is_absolute_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    path.starts_with('/') || path.starts_with('\\') || drive
}

#[cfg(test)]
mod tests {
    use super::is_absolute_path;

    #[test]
    fn absolute_paths_of_both_systems() {
        for path in ["/app", "C:\\go", "c:/go", "\\share"] {
            assert!(is_absolute_path(path), "{path}");
        }
        for path in ["app", "./app", "C:", "C:go", ""] {
            assert!(!is_absolute_path(path), "{path}");
        }
    }
}
