//! The normalised form of a built image that the fidelity suite compares (the same form
//! scripts/fidelity/normalise.py writes for BuildKit and buildah), and the item-by-item
//! comparison of two such forms.

use serde_json::{Map, Value, json};

use super::rootfs::Rootfs;

/// The run-time config fields a Dockerfile can set.
const CONFIG_FIELDS: [&str; 12] = [
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Volumes",
    "Labels",
    "StopSignal",
    "Healthcheck",
    "Shell",
    "OnBuild",
];

/// Empty values are dropped: BuildKit, buildah and rbuild differ in writing `null`, `""`
/// or nothing for an unset field, and none of those mean anything else.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Bool(_) => false,
    }
}

/// The config subset: set fields only; ports and volumes as sorted name lists.
pub fn config_subset(config: &Value) -> Value {
    let run = config.get("config").cloned().unwrap_or(Value::Null);
    let mut out = Map::new();
    for field in CONFIG_FIELDS {
        let mut value = run.get(field).cloned().unwrap_or(Value::Null);
        if let (true, Value::Object(map)) = (matches!(field, "ExposedPorts" | "Volumes"), &value) {
            value = json!(map.keys().collect::<Vec<_>>());
        }
        if let (true, Value::Object(map)) = (field == "Healthcheck", &value) {
            let kept: Map<String, Value> = map
                .iter()
                .filter(|(_, v)| !is_empty(v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            value = Value::Object(kept);
        }
        if !is_empty(&value) {
            out.insert(field.to_string(), value);
        }
    }
    if let Some(author) = config.get("author").filter(|a| !is_empty(a)) {
        out.insert("author".to_string(), author.clone());
    }
    Value::Object(out)
}

/// `created_by` and `empty_layer` of the history entries after the first `skip`.
pub fn history(config: &Value, skip: usize) -> Value {
    let entries = config
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        entries
            .iter()
            .skip(skip)
            .map(|h| {
                json!({
                    "created_by": h.get("created_by").and_then(Value::as_str).unwrap_or(""),
                    "empty_layer": h.get("empty_layer").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect(),
    )
}

/// What a Dockerfile changed: files new or different from the base, base paths deleted.
pub fn changes(image: &Rootfs, base: &Rootfs) -> (Value, Value) {
    let files = image
        .iter()
        .filter(|(path, entry)| base.get(*path) != Some(*entry))
        .map(|(_, entry)| entry.clone())
        .collect();
    let deleted = base
        .keys()
        .filter(|path| !image.contains_key(*path))
        .map(|p| json!(p))
        .collect();
    (Value::Array(files), Value::Array(deleted))
}

/// One comparable item of a normalised image, named the way KNOWN_DIFFERENCES.md and
/// known-differences.json name it: `config.Env`, `history[2]`, `file /a`, `deleted /b`.
pub fn items(normalised: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let config = normalised.get("config").and_then(Value::as_object);
    for field in CONFIG_FIELDS.iter().copied().chain(["author"]) {
        let value = config.and_then(|c| c.get(field)).cloned();
        out.push((format!("config.{field}"), value.unwrap_or(Value::Null)));
    }
    let history = normalised.get("history").and_then(Value::as_array);
    for (i, h) in history.into_iter().flatten().enumerate() {
        out.push((format!("history[{i}]"), h.clone()));
    }
    for f in array(normalised, "files") {
        let path = f.get("path").and_then(Value::as_str).unwrap_or("?");
        out.push((format!("file {path}"), f.clone()));
    }
    for d in array(normalised, "deleted") {
        out.push((
            format!("deleted {}", d.as_str().unwrap_or("?")),
            json!(true),
        ));
    }
    out
}

fn array<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A difference: the item, the expected value and rbuild's (`null` when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub item: String,
    pub expected: Value,
    pub actual: Value,
}

/// Every item whose value differs, in a stable order.
pub fn differences(expected: &Value, actual: &Value) -> Vec<Difference> {
    let want: std::collections::BTreeMap<String, Value> = items(expected).into_iter().collect();
    let got: std::collections::BTreeMap<String, Value> = items(actual).into_iter().collect();
    let mut names: Vec<&String> = want.keys().chain(got.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let e = want.get(name).cloned().unwrap_or(Value::Null);
            let a = got.get(name).cloned().unwrap_or(Value::Null);
            (e != a).then(|| Difference {
                item: name.clone(),
                expected: e,
                actual: a,
            })
        })
        .collect()
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  {}", self.item)?;
        writeln!(f, "    - expected: {}", self.expected)?;
        write!(f, "    + rbuild:   {}", self.actual)
    }
}
