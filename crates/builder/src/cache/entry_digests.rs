//! The per-entry digests of one COPY/ADD source, kept to explain a cache miss file by file.
//!
//! A large context has tens of thousands of entries, so the table is packed: all paths in
//! one string, the digests as 32-byte arrays (hex only on disk), sorted by path for lookup;
//! and it is shared, so copying a step's inputs copies no entry. 50,000 entries take about
//! 2.5 MB instead of the ~8 MB of a map of strings.

use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Entry path → entry digest, sorted by path, each path once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EntryDigests(Arc<Table>);

#[derive(Default, PartialEq, Eq)]
struct Table {
    /// Every path, one after the other.
    paths: String,
    /// Where each path ends in `paths`.
    ends: Vec<usize>,
    digests: Vec<[u8; 32]>,
}

impl Table {
    fn path(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.paths[start..self.ends[i]]
    }

    fn push(&mut self, path: &str, digest: [u8; 32]) {
        self.paths.push_str(path);
        self.ends.push(self.paths.len());
        self.digests.push(digest);
    }
}

/// Collects entries in any order; [`EntryDigestsBuilder::finish`] sorts them.
#[derive(Default)]
pub struct EntryDigestsBuilder(Table);

impl EntryDigestsBuilder {
    /// Room for about `entries` entries.
    pub fn with_capacity(entries: usize) -> Self {
        EntryDigestsBuilder(Table {
            paths: String::with_capacity(entries * 16),
            ends: Vec::with_capacity(entries),
            digests: Vec::with_capacity(entries),
        })
    }

    pub fn push(&mut self, path: &str, digest: [u8; 32]) {
        self.0.push(path, digest);
    }

    /// The sorted table; of entries with the same path, the last one pushed wins.
    pub fn finish(self) -> EntryDigests {
        let table = self.0;
        let n = table.ends.len();
        if (1..n).all(|i| table.path(i - 1) < table.path(i)) {
            return EntryDigests(Arc::new(table));
        }
        let mut order: Vec<usize> = (0..n).collect();
        // Stable, so equal paths stay in push order and the last of each run wins.
        order.sort_by(|&a, &b| table.path(a).cmp(table.path(b)));
        let mut sorted = Table::default();
        for (k, &i) in order.iter().enumerate() {
            let is_last_of_path = order
                .get(k + 1)
                .is_none_or(|&next| table.path(next) != table.path(i));
            if is_last_of_path {
                sorted.push(table.path(i), table.digests[i]);
            }
        }
        EntryDigests(Arc::new(sorted))
    }
}

impl EntryDigests {
    /// The table of `paths` and `digests` (the same number, in the same order; extra ones of
    /// either are ignored), taking over the digests' memory.
    pub fn from_parts<'a, P>(paths: P, mut digests: Vec<[u8; 32]>) -> EntryDigests
    where
        P: Iterator<Item = &'a str> + Clone,
    {
        let count = paths.clone().count().min(digests.len());
        digests.truncate(count);
        let mut table = Table {
            paths: String::with_capacity(paths.clone().take(count).map(str::len).sum()),
            ends: Vec::with_capacity(count),
            digests,
        };
        for path in paths.take(count) {
            table.paths.push_str(path);
            table.ends.push(table.paths.len());
        }
        EntryDigestsBuilder(table).finish()
    }

    pub fn len(&self) -> usize {
        self.0.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.ends.is_empty()
    }

    /// The digest recorded for `path`.
    pub fn get(&self, path: &str) -> Option<&[u8; 32]> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.0.path(mid).cmp(path) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(&self.0.digests[mid]),
            }
        }
        None
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Entries in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8; 32])> {
        (0..self.len()).map(|i| (self.0.path(i), &self.0.digests[i]))
    }
}

impl<P: AsRef<str>> FromIterator<(P, [u8; 32])> for EntryDigests {
    fn from_iter<I: IntoIterator<Item = (P, [u8; 32])>>(iter: I) -> Self {
        let mut builder = EntryDigestsBuilder::default();
        for (path, digest) in iter {
            builder.push(path.as_ref(), digest);
        }
        builder.finish()
    }
}

impl fmt::Debug for EntryDigests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(p, d)| (p, hex::encode(d))))
            .finish()
    }
}

/// On disk a JSON object of path → hex digest, as before the table was packed.
impl Serialize for EntryDigests {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        let mut text = [0u8; 64];
        for (path, digest) in self.iter() {
            // Encoding into a stack buffer: no string per entry.
            let hex = hex::encode_to_slice(digest, &mut text)
                .ok()
                .and_then(|()| std::str::from_utf8(&text).ok())
                .ok_or_else(|| serde::ser::Error::custom("cannot hex-encode a digest"))?;
            map.serialize_entry(path, hex)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for EntryDigests {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor;
        impl<'de> Visitor<'de> for TableVisitor {
            type Value = EntryDigests;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of entry paths to hex sha256 digests")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntryDigests, A::Error> {
                let mut builder =
                    EntryDigestsBuilder::with_capacity(map.size_hint().unwrap_or(0).min(1 << 20));
                while let Some((path, hex_digest)) = map.next_entry::<String, String>()? {
                    let mut digest = [0u8; 32];
                    hex::decode_to_slice(hex_digest.as_bytes(), &mut digest).map_err(|e| {
                        serde::de::Error::custom(format!("entry {path:?}: bad digest: {e}"))
                    })?;
                    builder.push(&path, digest);
                }
                Ok(builder.finish())
            }
        }
        deserializer.deserialize_map(TableVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_deduplicated_and_found() {
        let table: EntryDigests = [
            ("b", [2; 32]),
            ("a", [1; 32]),
            ("b", [3; 32]),
            ("c/d", [4; 32]),
        ]
        .into_iter()
        .collect();
        let listed: Vec<(&str, u8)> = table.iter().map(|(p, d)| (p, d[0])).collect();
        assert_eq!(listed, [("a", 1), ("b", 3), ("c/d", 4)]);
        assert_eq!(table.get("b"), Some(&[3; 32]));
        assert_eq!(table.get("c"), None);
        assert!(!table.contains("zz"));
        assert!(EntryDigests::default().get("a").is_none());
        let parts = EntryDigests::from_parts(["b", "a", "c"].into_iter(), vec![[2; 32], [1; 32]]);
        let listed: Vec<(&str, u8)> = parts.iter().map(|(p, d)| (p, d[0])).collect();
        assert_eq!(
            listed,
            [("a", 1), ("b", 2)],
            "sorted; the path without a digest ignored"
        );
    }

    #[test]
    fn json_is_a_map_of_hex_digests_both_ways() {
        let table: EntryDigests = [("x y", [0xab; 32]), ("a", [0; 32])].into_iter().collect();
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"a\":\"{}\",\"x y\":\"{}\"}}",
                "00".repeat(32),
                "ab".repeat(32)
            )
        );
        let back: EntryDigests = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
        // Escaped keys work too.
        let escaped: EntryDigests =
            serde_json::from_str(&format!("{{\"q\\\"\":\"{}\"}}", "01".repeat(32))).unwrap();
        assert_eq!(escaped.get("q\""), Some(&[1; 32]));
        assert!(serde_json::from_str::<EntryDigests>("{\"a\":\"zz\"}").is_err());
    }
}
