//! Which words of each instruction Docker expands, and their expansion.
//!
//! Expanded: `ENV` and `LABEL` keys and values, `ADD`/`COPY` sources,
//! destination, `--chown`, `--chmod` and the bodies of unquoted heredocs,
//! `EXPOSE` (split into words), `VOLUME`, `USER`, `WORKDIR`, `STOPSIGNAL`,
//! `ARG` defaults and the values of `RUN --mount`. Not expanded (the shell or
//! the runtime does it): `RUN`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK`, `SHELL`,
//! `ONBUILD` (expanded when the trigger runs), `MAINTAINER`.

use crate::ast::{Deferred, FileCopy, InstructionKind, KeyValue, RunMount};
use crate::shell::ExpandError;

use super::scope::WordExpander;

/// Whether any word that Docker expands in `kind` is not `literal` (has a
/// `$`, a quote or an escape): only then is expansion worth doing, and the
/// planner can keep the raw instruction otherwise.
pub(crate) fn needs_expansion(kind: &InstructionKind, literal: impl Fn(&str) -> bool) -> bool {
    let literal = &literal;
    let any = |words: &mut dyn Iterator<Item = &String>| {
        for word in words {
            if !literal(word) {
                return true;
            }
        }
        false
    };
    match kind {
        InstructionKind::Env(pairs) | InstructionKind::Label(pairs) => {
            any(&mut pairs.iter().flat_map(|p| [&p.name, &p.value]))
        }
        InstructionKind::Add(copy) | InstructionKind::Copy(copy) => {
            any(&mut copy.sources.iter().filter(|s| !s.starts_with("<<")))
                || !literal(&copy.dest)
                || any(&mut copy.chown.iter().chain(copy.chmod.iter()))
                || any(&mut copy
                    .heredocs
                    .iter()
                    .filter(|h| h.expand)
                    .map(|h| &h.content))
        }
        InstructionKind::Expose(words) | InstructionKind::Volume(words) => any(&mut words.iter()),
        InstructionKind::User(word)
        | InstructionKind::Workdir(word)
        | InstructionKind::Stopsignal(word) => !literal(word),
        InstructionKind::Run(run) => run.mounts.iter().any(|m| {
            any(&mut [&m.target, &m.source, &m.id, &m.env].into_iter().flatten())
                || [&m.mode, &m.uid, &m.gid]
                    .iter()
                    .any(|d| matches!(d, Some(Deferred::Unexpanded(_))))
                || matches!(m.size, Some(Deferred::Unexpanded(_)))
        }),
        _ => false,
    }
}

/// Expand `kind` with `words`; `ARG` and `FROM` are handled by the planner
/// and come back unchanged.
pub(crate) fn expand_kind(
    kind: &InstructionKind,
    words: &mut WordExpander<'_>,
) -> Result<InstructionKind, ExpandError> {
    Ok(match kind {
        InstructionKind::Env(pairs) => InstructionKind::Env(key_values(pairs, words)?),
        InstructionKind::Label(pairs) => InstructionKind::Label(key_values(pairs, words)?),
        InstructionKind::Add(copy) => InstructionKind::Add(file_copy(copy, words)?),
        InstructionKind::Copy(copy) => InstructionKind::Copy(file_copy(copy, words)?),
        InstructionKind::Expose(ports) => {
            let mut out = Vec::with_capacity(ports.len());
            for port in ports {
                out.extend(words.words(port)?);
            }
            InstructionKind::Expose(out)
        }
        InstructionKind::Volume(paths) => InstructionKind::Volume(
            paths
                .iter()
                .map(|p| words.word(p))
                .collect::<Result<_, _>>()?,
        ),
        InstructionKind::User(user) => InstructionKind::User(words.word(user)?),
        InstructionKind::Workdir(path) => InstructionKind::Workdir(words.word(path)?),
        InstructionKind::Stopsignal(signal) => InstructionKind::Stopsignal(words.word(signal)?),
        InstructionKind::Run(run) => {
            let mut run = run.clone();
            for mount in &mut run.mounts {
                expand_mount(mount, words)?;
            }
            InstructionKind::Run(run)
        }
        other => other.clone(),
    })
}

/// All pairs are expanded against the scope *before* the instruction: in
/// `ENV a=x b=$a`, `$a` is the old value.
fn key_values(
    pairs: &[KeyValue],
    words: &mut WordExpander<'_>,
) -> Result<Vec<KeyValue>, ExpandError> {
    pairs
        .iter()
        .map(|pair| {
            Ok(KeyValue {
                name: words.word(&pair.name)?,
                value: words.word(&pair.value)?,
                legacy_format: pair.legacy_format,
            })
        })
        .collect()
}

fn file_copy(copy: &FileCopy, words: &mut WordExpander<'_>) -> Result<FileCopy, ExpandError> {
    let mut out = copy.clone();
    // Heredoc sources are written `<<NAME`; they name an inline file, not a path.
    for source in &mut out.sources {
        if !source.starts_with("<<") {
            *source = words.word(source)?;
        }
    }
    out.dest = words.word(&copy.dest)?;
    if let Some(chown) = &copy.chown {
        out.chown = Some(words.word(chown)?);
    }
    if let Some(chmod) = &copy.chmod {
        out.chmod = Some(words.word(chmod)?);
    }
    for heredoc in &mut out.heredocs {
        if heredoc.expand {
            heredoc.content = words.heredoc(&heredoc.content)?;
        }
    }
    Ok(out)
}

fn expand_mount(mount: &mut RunMount, words: &mut WordExpander<'_>) -> Result<(), ExpandError> {
    for value in [
        &mut mount.target,
        &mut mount.source,
        &mut mount.id,
        &mut mount.env,
    ]
    .into_iter()
    .flatten()
    {
        *value = words.word(value)?;
    }
    // Numeric values that referred to variables become literals when the
    // expansion is a number; otherwise the expanded text stays for the builder
    // to reject with its own message.
    for (field, radix) in [
        (&mut mount.mode, 8),
        (&mut mount.uid, 10),
        (&mut mount.gid, 10),
    ] {
        if let Some(Deferred::Unexpanded(text)) = field {
            let value = words.word(text)?;
            *field = Some(match u32::from_str_radix(&value, radix) {
                Ok(number) => Deferred::Literal(number),
                Err(_) => Deferred::Unexpanded(value),
            });
        }
    }
    if let Some(Deferred::Unexpanded(text)) = &mount.size {
        let value = words.word(text)?;
        mount.size = Some(match value.parse::<u64>() {
            Ok(bytes) => Deferred::Literal(bytes),
            Err(_) => Deferred::Unexpanded(value),
        });
    }
    Ok(())
}
