//! Fidelity: rbuild's images must match what Docker's builder (BuildKit) makes of the same
//! Dockerfiles.
//!
//! Every directory in testdata/fidelity with an `expected.json` is a case: a `context/`
//! directory (Dockerfile and files), and what BuildKit built from it on the peer lab (scripts/fidelity/generate-expected.sh,
//! normalised by scripts/fidelity/normalise.py). This test builds each case with rbuild into
//! a private store on a busybox base identical to the lab's, normalises the image the same
//! way (rootfs changes against the base, config subset, history) and compares item by item.
//! A difference fails the test unless testdata/fidelity/known-differences.json lists that
//! exact item with exactly rbuild's value (each one explained in KNOWN_DIFFERENCES.md); a
//! listed difference that no longer occurs fails too, so the list cannot go stale.
//!
//! Set FIDELITY_ACTUAL_DIR=DIR to also write rbuild's normalised image per case into DIR.

#[path = "support/mod.rs"]
mod support;

mod fidelity {
    pub mod base;
    pub mod normal;
    pub mod rootfs;
}

use std::path::{Path, PathBuf};

use fidelity::normal::{Difference, changes, config_subset, differences, history};
use fidelity::rootfs::{Rootfs, image_rootfs};
use rbuild_builder::build::{BuildOptions, build};
use rbuild_oci::ImageStore;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fidelity")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The cases: directories with an expected.json, sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("testdata/fidelity")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    cases.sort();
    cases
}

/// A built image, normalised: rootfs, config as JSON, history length.
struct Built {
    rootfs: Rootfs,
    config: Value,
}

fn built(store_root: &Path, options: BuildOptions) -> Result<Built, String> {
    let outcome = build(&options.store_root(store_root)).map_err(|e| e.to_string())?;
    let store = ImageStore::open(store_root).map_err(|e| e.to_string())?;
    let rootfs = image_rootfs(&store, &outcome.manifest_digest)?;
    let config = serde_json::to_value(&outcome.config).map_err(|e| e.to_string())?;
    Ok(Built { rootfs, config })
}

fn history_len(config: &Value) -> usize {
    config
        .get("history")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// rbuild's base must hold exactly the lab image's files and config (base.json), with the
/// host's busybox binary in place of the lab machine's.
fn check_base(base: &Built) -> Vec<String> {
    let expected = read_json(&testdata().join("base.json"));
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox");
    let mut want_files: Vec<Value> = expected["files"].as_array().cloned().unwrap_or_default();
    for f in &mut want_files {
        if f["path"] == "/bin/busybox" {
            if f["sha256"] != json!(hex::encode(Sha256::digest(&busybox))) {
                eprintln!("note: base.json was made with another busybox build than this host's");
            }
            f["sha256"] = json!(hex::encode(Sha256::digest(&busybox)));
            f["size"] = json!(busybox.len());
        }
    }
    let want = json!({"config": expected["config"], "files": want_files, "deleted": []});
    let got_files: Vec<Value> = base.rootfs.values().cloned().collect();
    let got = json!({"config": config_subset(&base.config), "files": got_files, "deleted": []});
    differences(&want, &got)
        .iter()
        .map(|d| format!("base image differs from the lab's busybox:\n{d}"))
        .collect()
}

/// One known difference: the case, the item and rbuild's exact value there.
fn known_differences() -> Vec<(String, String, Value)> {
    let list = read_json(&testdata().join("known-differences.json"));
    list.as_array()
        .expect("known-differences.json is a list")
        .iter()
        .map(|k| {
            (
                k["case"].as_str().expect("case").to_string(),
                k["item"].as_str().expect("item").to_string(),
                k["rbuild"].clone(),
            )
        })
        .collect()
}

fn normalised(image: &Built, base: &Built) -> Value {
    let (files, deleted) = changes(&image.rootfs, &base.rootfs);
    json!({
        "config": config_subset(&image.config),
        "history": history(&image.config, history_len(&base.config)),
        "files": files,
        "deleted": deleted,
    })
}

#[test]
fn rbuild_images_match_buildkit() {
    if !support::can_run() {
        return;
    }
    let store = tempfile::tempdir().expect("temp store");
    let base_ctx = tempfile::tempdir().expect("temp context");
    fidelity::base::write_context(base_ctx.path()).expect("base context");
    let base = built(
        store.path(),
        BuildOptions::new(base_ctx.path()).tag("busybox:latest"),
    )
    .expect("the busybox base builds");

    let mut failures = check_base(&base);
    let known = known_differences();
    let mut known_seen = vec![false; known.len()];
    let actual_dir = std::env::var_os("FIDELITY_ACTUAL_DIR").map(PathBuf::from);
    let cases = cases();
    assert!(
        cases.len() >= 8,
        "testdata/fidelity has only {} cases",
        cases.len()
    );
    let mut exact = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expected = read_json(&case.join("expected.json"));
        let image = match built(
            store.path(),
            BuildOptions::new(case.join("context")).tag(format!("fidelity-{name}")),
        ) {
            Ok(image) => image,
            Err(e) => {
                // A failing build is the item `build` with rbuild's value "fails".
                let known_at = known.iter().position(|(c, item, value)| {
                    *c == name && item == "build" && *value == json!("fails")
                });
                match known_at {
                    Some(i) => {
                        known_seen[i] = true;
                        eprintln!("case {name}: fails, as known-differences.json says: {e}");
                    }
                    None => failures.push(format!("case {name}: rbuild failed: {e}")),
                }
                continue;
            }
        };
        let actual = normalised(&image, &base);
        if let Some(dir) = &actual_dir {
            std::fs::create_dir_all(dir).expect("FIDELITY_ACTUAL_DIR");
            let text = serde_json::to_string_pretty(&actual).expect("json");
            std::fs::write(dir.join(format!("{name}.json")), text).expect("write actual");
        }
        let mut unexplained: Vec<Difference> = Vec::new();
        for d in differences(&expected, &actual) {
            let known_at = known
                .iter()
                .position(|(c, item, value)| *c == name && *item == d.item && *value == d.actual);
            match known_at {
                Some(i) => known_seen[i] = true,
                None => unexplained.push(d),
            }
        }
        if unexplained.is_empty() {
            let has_known = known_seen
                .iter()
                .zip(&known)
                .any(|(seen, (c, _, _))| *seen && *c == name);
            if !has_known {
                exact += 1;
            }
        } else {
            let text: Vec<String> = unexplained.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "case {name}: {} difference(s) from BuildKit:\n{}",
                unexplained.len(),
                text.join("\n")
            ));
        }
    }
    for (i, (case, item, _)) in known.iter().enumerate() {
        if !known_seen[i] {
            failures.push(format!(
                "case {case}: known difference `{item}` no longer occurs as listed: \
                 update known-differences.json and KNOWN_DIFFERENCES.md"
            ));
        }
    }
    eprintln!(
        "fidelity: {exact} of {} cases match BuildKit exactly; {} known difference(s) listed",
        cases.len(),
        known.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
