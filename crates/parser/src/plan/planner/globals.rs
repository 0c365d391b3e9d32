//! Global `ARG`s (before the first `FROM`) and the names `FROM` lines may use.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{ArgDecl, Instruction, InstructionKind};
use crate::checks::Rule;
use crate::span::Span;

use super::Planner;
use crate::plan::error::PlanError;
use crate::plan::graph::{ArgSource, ArgValue};
use crate::plan::reference::ImageReference;
use crate::plan::suggest::did_you_mean;

impl<'a> Planner<'a> {
    /// Global `ARG`s: values from `--build-arg`, else their expanded defaults.
    /// Also runs InvalidDefaultArgInFrom, which looks at the defaults alone.
    pub(super) fn global_args(
        &mut self,
        decls: &[&Instruction],
    ) -> Result<Vec<ArgValue>, PlanError> {
        let mut args = Vec::new();
        let mut defaults_only = self.global_vars.clone();
        let mut defaults_ok = true;
        for instruction in decls {
            let InstructionKind::Arg(list) = &instruction.kind else {
                continue;
            };
            for ArgDecl { name, default } in list {
                self.global_declared.insert(name.clone());
                if let Some(default) = default {
                    match self.lexer.process_word(default, &defaults_only) {
                        Ok(word) => {
                            defaults_only.insert(name.clone(), word.value);
                        }
                        Err(_) => defaults_ok = false,
                    }
                }
                let (value, source) = if let Some(given) = self.options.build_args.get(name) {
                    (Some(given.to_string()), ArgSource::BuildArg)
                } else if let Some(default) = default {
                    let word = self
                        .lexer
                        .process_word(default, &self.global_vars)
                        .map_err(|source| PlanError::Expansion {
                            source,
                            span: instruction.span,
                        })?;
                    (Some(word.value), ArgSource::Default)
                } else {
                    (None, ArgSource::Unset)
                };
                if let Some(value) = &value {
                    self.global_vars.insert(name.clone(), value.clone());
                }
                args.push(ArgValue {
                    name: name.clone(),
                    default: default.clone(),
                    value,
                    source,
                    span: instruction.span,
                });
            }
        }
        if defaults_ok {
            self.check_default_base_names(&defaults_only);
        }
        Ok(args)
    }

    /// InvalidDefaultArgInFrom: with no `--build-arg`, would each `FROM` still
    /// name a valid image?
    pub(super) fn check_default_base_names(&mut self, defaults: &BTreeMap<String, String>) {
        let mut invalid = Vec::new();
        for block in &self.blocks {
            let Ok(word) = self.lexer.process_word(&block.from.image, defaults) else {
                return;
            };
            if word.used.is_empty() {
                continue; // a constant name: any problem is a plain error, not a default-value one
            }
            if ImageReference::parse(&word.value).is_err() {
                invalid.push((block.from_instruction.span, block.from.image.clone()));
            }
        }
        for (span, raw) in invalid {
            self.report(
                Rule::InvalidDefaultArgInFrom,
                span,
                format!("Default value for ARG {raw} results in empty or invalid base image name"),
            );
        }
    }
    /// Names a `FROM` line may use: predefined and global values, and global
    /// `ARG`s declared without a value.
    pub(super) fn names_usable_in_from(&self) -> Vec<String> {
        let mut names: BTreeSet<&String> = self.global_vars.keys().collect();
        names.extend(self.global_declared.iter());
        names.into_iter().cloned().collect()
    }

    /// UndefinedArgInFrom for the unset names of a `FROM` word.
    pub(super) fn report_undeclared_from_args(&mut self, unset: &BTreeSet<String>, span: Span) {
        let known = self.names_usable_in_from();
        for name in unset {
            if known.contains(name) {
                continue;
            }
            let hint = did_you_mean(name, known.iter().map(String::as_str), true)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            self.report(
                Rule::UndefinedArgInFrom,
                span,
                format!("FROM argument '{name}' is not declared{hint}"),
            );
        }
    }
}
