//! Multi-platform images (image indexes) in the store, pushed to and pulled from a real
//! registry (Debian's docker-registry on 127.0.0.1), checked with skopeo, and loaded from
//! an OCI layout skopeo wrote.

mod support;

use std::process::Command;

use rbuild_oci::compress::CompressionOptions;
use rbuild_oci::import::load_path;
use rbuild_oci::model::{Descriptor, ImageConfig, Platform, RootFs};
use rbuild_oci::registry::{RegistryClient, RegistrySettings};
use rbuild_oci::store::{ImageStore, platform_entry};
use rbuild_oci::{OciError, Reference};
use rbuild_snapshotter::Digest;
use support::registry::TestRegistry;
use support::{have_tool, layer_tar, run};

/// An image for `os/arch` with one layer naming it, and its index entry.
fn platform_image(store: &ImageStore, arch: &str) -> Descriptor {
    let layer = store
        .add_layer(
            &layer_tar(&[("etc/arch", arch), ("etc/shared", "same everywhere\n")])[..],
            CompressionOptions::default(),
            true,
        )
        .unwrap();
    let config = ImageConfig {
        created: Some("2024-02-02T00:00:00Z".to_string()),
        architecture: arch.to_string(),
        os: "linux".to_string(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id],
        },
        ..Default::default()
    };
    let manifest = store
        .write_image(&config, vec![layer.descriptor], false)
        .unwrap();
    platform_entry(&store.image(&manifest.digest).unwrap())
}

/// The host's architecture and another one.
fn two_arches() -> [String; 2] {
    let host = Platform::host().architecture;
    let other = if host == "arm64" { "amd64" } else { "arm64" };
    [host, other.to_string()]
}

fn client() -> RegistryClient {
    RegistryClient::new(RegistrySettings {
        fallback_to_hub: false,
        ..Default::default()
    })
    .unwrap()
}

fn sha256_of(bytes: &[u8]) -> Digest {
    Digest::of_bytes(bytes)
}

#[test]
fn index_in_store_listing_inspect_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let [host, other] = two_arches();
    let entries = vec![
        platform_image(&store, &host),
        platform_image(&store, &other),
    ];
    let index = store.write_index(entries.clone(), false).unwrap();
    let name = Reference::parse("multi:v1").unwrap();
    store.tag(&name, &index.digest).unwrap();

    // One image, one name: the index. Single-image commands get the host's platform.
    assert_eq!(store.lookup("multi:v1").unwrap(), index.digest);
    let image = store.resolve("multi:v1").unwrap();
    assert_eq!(image.manifest_digest, entries[0].digest);
    assert_eq!(image.config.architecture, host);
    let rows = store.list().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].manifest_digest, index.digest);
    assert_eq!(
        rows[0].platforms,
        [format!("linux/{host}"), format!("linux/{other}")]
    );
    let inspect = store.inspect("multi:v1").unwrap();
    assert_eq!(inspect["RepoTags"][0], "multi:v1");
    assert_eq!(inspect["Architecture"], host.as_str());

    // Prune keeps every platform's blobs.
    let keep = store.blobs_in_use().unwrap();
    assert!(keep.contains(&index.digest));
    for (entry, image) in store.platform_images(&index.digest).unwrap() {
        assert!(keep.contains(&entry.digest));
        assert!(keep.contains(&image.manifest.config.digest));
        for layer in &image.manifest.layers {
            assert!(keep.contains(&layer.digest), "{}", layer.digest);
        }
    }
    assert_eq!(store.platform_images(&index.digest).unwrap().len(), 2);

    // An index without the host's platform: a clear error for single-image commands, but
    // it is still listed and can be named.
    let foreign = store.write_index(vec![entries[1].clone()], false).unwrap();
    store
        .tag(&Reference::parse("foreign:v1").unwrap(), &foreign.digest)
        .unwrap();
    let err = store.resolve("foreign:v1").unwrap_err();
    assert!(
        matches!(err, OciError::NoMatchingPlatform { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("foreign:v1") && text.contains(&format!("linux/{other}")),
        "{text}"
    );
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(store.lookup("foreign:v1").is_ok());
    // An index whose manifests are not all here cannot be pushed; it says what to do, and
    // before contacting any registry (nothing listens on port 1).
    let mut missing = entries[1].clone();
    missing.digest = Digest::of_bytes(b"a manifest this store never saw");
    let partial = store
        .put_json(
            &rbuild_oci::model::Index {
                schema_version: 2,
                media_type: Some(rbuild_oci::model::media_types::OCI_INDEX.to_string()),
                manifests: vec![entries[0].clone(), missing],
                annotations: None,
            },
            rbuild_oci::model::media_types::OCI_INDEX,
        )
        .unwrap();
    store
        .tag(&Reference::parse("partial:v1").unwrap(), &partial.digest)
        .unwrap();
    let err = client()
        .push(
            &store,
            "partial:v1",
            &Reference::parse("127.0.0.1:1/partial:v1").unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not in the local store") && err.contains("--all-platforms"),
        "{err}"
    );
    let err = store
        .image_for_platform(&index.digest, &Platform::parse("linux/s390x").unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("linux/s390x"), "{err}");
}

#[test]
fn index_push_pull_all_platforms_and_load() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let [host, other] = two_arches();
    let entries = vec![
        platform_image(&store, &host),
        platform_image(&store, &other),
    ];
    let index = store.write_index(entries, false).unwrap();
    let local = Reference::parse("multi:v1").unwrap();
    store.tag(&local, &index.digest).unwrap();
    let target = Reference::parse(&format!("{}/multi/app:v1", registry.host())).unwrap();

    let report = client().push(&store, "multi:v1", &target).unwrap();
    // Each platform has its own config and layer.
    assert!(report.uploaded.len() >= 4, "{report:?}");
    let pushed = report.manifest_digest.clone();

    // skopeo sees an index with both platforms, byte for byte what we pushed.
    if have_tool("skopeo") {
        let raw = run(Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{target}"),
        ]));
        assert_eq!(sha256_of(raw.as_bytes()), pushed);
        let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let archs: Vec<&str> = json["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"]["architecture"].as_str().unwrap())
            .collect();
        assert_eq!(archs, [host.as_str(), other.as_str()]);
    }

    // Re-push: every blob is already there.
    let again = client().push(&store, "multi:v1", &target).unwrap();
    assert!(again.uploaded.is_empty(), "{again:?}");
    assert_eq!(again.manifest_digest, pushed);

    // One platform alone to another repository: its blobs are mounted from the index's
    // repository (which holds every platform's blobs), not uploaded.
    let (arm_entry, arm_image) = store.platform_images(&pushed).unwrap().remove(1);
    let solo = Reference::parse(&format!("{}/solo/other:v1", registry.host())).unwrap();
    let mounted = client()
        .push(&store, &arm_entry.digest.to_string(), &solo)
        .unwrap();
    assert!(mounted.uploaded.is_empty(), "{mounted:?}");
    assert!(mounted.mounted.contains(arm_image.id()), "{mounted:?}");

    // Pull back every platform: the same index and manifests, all blobs present.
    let fresh = ImageStore::open(&dir.path().join("b")).unwrap();
    let pulled = client()
        .with_all_platforms(true)
        .pull(&fresh, &target)
        .unwrap();
    assert_eq!(pulled.manifest_digest, pushed);
    assert_eq!(fresh.lookup(&target.to_string()).unwrap(), pushed);
    let stored = fresh.stored_index(&pushed).unwrap().expect("an index");
    assert_eq!(stored.index.manifests.len(), 2);
    let originals = store.platform_images(&store.lookup("multi:v1").unwrap());
    let copies = fresh.platform_images(&pushed).unwrap();
    assert_eq!(copies.len(), 2);
    for ((_, original), (_, copy)) in originals.unwrap().iter().zip(&copies) {
        assert_eq!(original.id(), copy.id());
    }
    assert_eq!(
        fresh
            .resolve(&target.to_string())
            .unwrap()
            .config
            .architecture,
        host
    );

    // Pull one platform: the host's manifest only, as before.
    let single = ImageStore::open(&dir.path().join("c")).unwrap();
    let one = client().pull(&single, &target).unwrap();
    assert_eq!(one.manifest_digest, copies[0].0.digest);
    assert!(single.stored_index(&one.manifest_digest).unwrap().is_none());

    // An OCI layout with the whole index (written by skopeo) loads as one index.
    if have_tool("skopeo") {
        let layout = dir.path().join("layout");
        run(Command::new("skopeo").args([
            "copy",
            "--all",
            "--src-tls-verify=false",
            &format!("docker://{target}"),
            &format!("oci:{}:v1", layout.display()),
        ]));
        let loaded_store = ImageStore::open(&dir.path().join("d")).unwrap();
        let loaded = load_path(&loaded_store, &layout).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].manifest_digest, pushed);
        assert_eq!(loaded[0].id, *copies[0].1.id());
        assert_eq!(loaded_store.platform_images(&pushed).unwrap().len(), 2);
        // And it pushes again as a whole (the registry has every blob in that repository).
        let back = Reference::parse(&format!("{}/multi/app:loaded", registry.host())).unwrap();
        let report = client()
            .push(&loaded_store, &pushed.to_string(), &back)
            .unwrap();
        assert_eq!(report.manifest_digest, pushed);
        assert!(report.uploaded.is_empty(), "{report:?}");
        assert!(!report.skipped.is_empty(), "{report:?}");
    }
}
