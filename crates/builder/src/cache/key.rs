//! Cache keys from step inputs.

use std::collections::BTreeMap;

use rbuild_snapshotter::Digest;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::entry_digests::EntryDigests;

/// The key of one build step: equal keys mean the step can be reused.
pub type CacheKey = Digest;

/// The files a COPY/ADD step reads: the combined digest goes into the key; the per-entry
/// digests are kept only to explain a miss.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInputs {
    /// Digest over all selected entries (paths, types, modes, owners, contents).
    pub digest: String,
    /// Entry path → entry digest (hex on disk). Not part of the key.
    #[serde(default)]
    pub entries: EntryDigests,
}

/// Everything a step's result depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInputs {
    /// The parent step's key, or the base image's manifest digest for the first step.
    pub parent: String,
    /// The instruction after variable expansion, as it will run.
    pub instruction: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// The build args and environment variables the step uses, with their values
    /// (`None`: used but unset). Variables the step does not use are not listed, so
    /// changing them does not invalidate the step.
    pub variables: BTreeMap<String, Option<String>>,
    /// Other inputs by name (e.g. mounts, network mode, `--chown` after resolution).
    pub options: BTreeMap<String, String>,
    /// Context or stage files read by COPY/ADD, by source argument.
    pub sources: BTreeMap<String, SourceInputs>,
}

impl StepInputs {
    /// The step's cache key. Field by field with length prefixes, so no two different
    /// inputs can serialise alike.
    pub fn key(&self) -> CacheKey {
        let mut h = Sha256::new();
        let mut put = |tag: &str, value: &str| {
            h.update((tag.len() as u64).to_le_bytes());
            h.update(tag.as_bytes());
            h.update((value.len() as u64).to_le_bytes());
            h.update(value.as_bytes());
        };
        put("v", "rbuild-cache-1");
        put("parent", &self.parent);
        put("instruction", &self.instruction);
        put("platform", &self.platform);
        for (name, value) in &self.variables {
            match value {
                Some(v) => put(&format!("var:{name}"), v),
                None => put(&format!("unset:{name}"), ""),
            }
        }
        for (name, value) in &self.options {
            put(&format!("opt:{name}"), value);
        }
        for (name, source) in &self.sources {
            put(&format!("src:{name}"), &source.digest);
        }
        Digest::from_sha256(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> StepInputs {
        StepInputs {
            parent: "sha256:aa".into(),
            instruction: "RUN make".into(),
            platform: "linux/amd64".into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_input_changes_the_key_but_explain_data_does_not() {
        let k = base().key();
        assert_eq!(k, base().key());
        let mut s = base();
        s.parent = "sha256:ab".into();
        assert_ne!(s.key(), k);
        let mut s = base();
        s.variables.insert("A".into(), Some("1".into()));
        let with_a = s.key();
        assert_ne!(with_a, k);
        s.variables.insert("A".into(), None);
        assert_ne!(s.key(), with_a);
        let mut s = base();
        s.sources.insert(
            ".".into(),
            SourceInputs {
                digest: "d1".into(),
                entries: EntryDigests::default(),
            },
        );
        let src_key = s.key();
        s.sources.get_mut(".").unwrap().entries = [("a", [1; 32])].into_iter().collect();
        assert_eq!(
            s.key(),
            src_key,
            "per-entry digests only explain, the combined one keys"
        );
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let mut a = base();
        a.instruction = "RUN a".into();
        a.platform = "b".into();
        let mut b = base();
        b.instruction = "RUN ab".into();
        b.platform = "".into();
        assert_ne!(a.key(), b.key());
    }
}
