//! Explaining a cache miss: which input changed since the last build of the same step.

use super::key::StepInputs;

/// One reason a step could not be reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissReason {
    /// No earlier build of this step is known.
    FirstBuild,
    /// An earlier step missed, so this one has a new parent.
    ParentChanged,
    InstructionChanged {
        before: String,
        after: String,
    },
    PlatformChanged {
        before: String,
        after: String,
    },
    VariableChanged {
        name: String,
        before: Option<String>,
        after: Option<String>,
    },
    OptionChanged {
        name: String,
        before: Option<String>,
        after: Option<String>,
    },
    FileChanged {
        source: String,
        path: String,
    },
    FileAdded {
        source: String,
        path: String,
    },
    FileRemoved {
        source: String,
        path: String,
    },
    /// The key matched an earlier build whose result is no longer in the store.
    ResultPruned,
}

impl std::fmt::Display for MissReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<String>| match v {
            Some(v) => format!("{v:?}"),
            None => "unset".to_string(),
        };
        match self {
            MissReason::FirstBuild => write!(f, "no earlier build of this step"),
            MissReason::ParentChanged => write!(f, "a previous step changed"),
            MissReason::InstructionChanged { before, after } => {
                write!(f, "instruction changed: {before:?} → {after:?}")
            }
            MissReason::PlatformChanged { before, after } => {
                write!(f, "platform changed: {before} → {after}")
            }
            MissReason::VariableChanged {
                name,
                before,
                after,
            } => {
                write!(f, "{name} changed: {} → {}", show(before), show(after))
            }
            MissReason::OptionChanged {
                name,
                before,
                after,
            } => {
                write!(f, "{name} changed: {} → {}", show(before), show(after))
            }
            MissReason::FileChanged { source, path } => {
                write!(f, "file changed: {path} (from {source})")
            }
            MissReason::FileAdded { source, path } => {
                write!(f, "file added: {path} (from {source})")
            }
            MissReason::FileRemoved { source, path } => {
                write!(f, "file removed: {path} (from {source})")
            }
            MissReason::ResultPruned => write!(f, "cached result was pruned"),
        }
    }
}

/// At most this many file-level reasons are listed; the rest are summarised by the caller.
const MAX_FILE_REASONS: usize = 20;

/// Compares the inputs of the last build of a step with the current ones.
pub fn explain_miss(previous: Option<&StepInputs>, current: &StepInputs) -> Vec<MissReason> {
    let Some(prev) = previous else {
        return vec![MissReason::FirstBuild];
    };
    let mut out = Vec::new();
    if prev.parent != current.parent {
        out.push(MissReason::ParentChanged);
    }
    if prev.instruction != current.instruction {
        out.push(MissReason::InstructionChanged {
            before: prev.instruction.clone(),
            after: current.instruction.clone(),
        });
    }
    if prev.platform != current.platform {
        out.push(MissReason::PlatformChanged {
            before: prev.platform.clone(),
            after: current.platform.clone(),
        });
    }
    let names: std::collections::BTreeSet<&String> = prev
        .variables
        .keys()
        .chain(current.variables.keys())
        .collect();
    for name in names {
        let (before, after) = (prev.variables.get(name), current.variables.get(name));
        if before != after {
            out.push(MissReason::VariableChanged {
                name: name.clone(),
                before: before.cloned().flatten(),
                after: after.cloned().flatten(),
            });
        }
    }
    let names: std::collections::BTreeSet<&String> =
        prev.options.keys().chain(current.options.keys()).collect();
    for name in names {
        let (before, after) = (prev.options.get(name), current.options.get(name));
        if before != after {
            out.push(MissReason::OptionChanged {
                name: name.clone(),
                before: before.cloned(),
                after: after.cloned(),
            });
        }
    }
    let mut file_reasons = 0;
    for (source, now) in &current.sources {
        let Some(then) = prev.sources.get(source) else {
            continue;
        };
        if then.digest == now.digest {
            continue;
        }
        for (path, digest) in now.entries.iter() {
            let reason = match then.entries.get(path) {
                None => MissReason::FileAdded {
                    source: source.clone(),
                    path: path.to_string(),
                },
                Some(old) if old != digest => MissReason::FileChanged {
                    source: source.clone(),
                    path: path.to_string(),
                },
                Some(_) => continue,
            };
            if file_reasons < MAX_FILE_REASONS {
                out.push(reason);
            }
            file_reasons += 1;
        }
        for (path, _) in then
            .entries
            .iter()
            .filter(|(p, _)| !now.entries.contains(p))
        {
            if file_reasons < MAX_FILE_REASONS {
                out.push(MissReason::FileRemoved {
                    source: source.clone(),
                    path: path.to_string(),
                });
            }
            file_reasons += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::SourceInputs;

    #[test]
    fn names_the_changed_inputs() {
        let mut before = StepInputs {
            parent: "p".into(),
            instruction: "COPY . /app".into(),
            platform: "linux/amd64".into(),
            ..Default::default()
        };
        before.variables.insert("VERSION".into(), Some("1".into()));
        before.sources.insert(
            ".".into(),
            SourceInputs {
                digest: "d1".into(),
                entries: [("a", [1; 32]), ("b", [2; 32])].into_iter().collect(),
            },
        );
        let mut after = before.clone();
        after.variables.insert("VERSION".into(), Some("2".into()));
        after.sources.insert(
            ".".into(),
            SourceInputs {
                digest: "d2".into(),
                entries: [("a", [9; 32]), ("c", [3; 32])].into_iter().collect(),
            },
        );
        let reasons: Vec<String> = explain_miss(Some(&before), &after)
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            reasons,
            [
                "VERSION changed: \"1\" → \"2\"",
                "file changed: a (from .)",
                "file added: c (from .)",
                "file removed: b (from .)",
            ]
        );
        assert_eq!(explain_miss(None, &after), [MissReason::FirstBuild]);
        assert!(explain_miss(Some(&after), &after).is_empty());
    }
}
