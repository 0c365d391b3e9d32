//! Pull and push against a real registry (Debian's docker-registry on 127.0.0.1).

mod support;

use std::process::Command;

use rbuild_oci::export::{DirSink, FileSink};
use rbuild_oci::model::{Descriptor, Index, Platform, canonical_json, media_types};
use rbuild_oci::registry::{Mirror, RegistryClient, RegistrySettings};
use rbuild_oci::store::ImageStore;
use rbuild_oci::{OciError, Reference};
use support::registry::{TestRegistry, free_port};
use support::{have_tool, run, tiny_image};

fn local_settings() -> RegistrySettings {
    RegistrySettings {
        fallback_to_hub: false,
        ..Default::default()
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(local_settings()).unwrap()
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

#[test]
fn push_repush_mount_and_pull() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let manifest = tiny_image(&store, "push", false);
    let app = reference(&format!("{}/team/app:v1", registry.host()));
    store.tag(&app, &manifest.digest).unwrap();
    let client = client();

    let first = client.push(&store, &app.to_string(), &app).unwrap();
    assert_eq!(first.manifest_digest, manifest.digest);
    assert_eq!(first.uploaded.len(), 3, "2 layers + config: {first:?}");
    assert!(first.skipped.is_empty() && first.mounted.is_empty());

    let again = client.push(&store, &app.to_string(), &app).unwrap();
    assert!(again.uploaded.is_empty(), "{again:?}");
    assert_eq!(again.skipped.len(), 3);

    // Another repository of the same registry: blobs are mounted, not uploaded.
    let other = reference(&format!("{}/other/app:v2", registry.host()));
    let mounted = client.push(&store, &app.to_string(), &other).unwrap();
    assert!(mounted.uploaded.is_empty(), "{mounted:?}");
    assert_eq!(mounted.mounted.len(), 3, "{mounted:?}");

    // An independent tool sees what we pushed.
    if have_tool("skopeo") {
        let out = run(Command::new("skopeo").args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{other}"),
        ]));
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["Digest"], manifest.digest.to_string());
    }

    let fresh = ImageStore::open(&dir.path().join("b")).unwrap();
    let report = client.pull(&fresh, &other).unwrap();
    assert_eq!(report.manifest_digest, manifest.digest);
    assert_eq!(report.downloaded.len(), 3);
    let pulled = fresh.resolve(&other.to_string()).unwrap();
    assert_eq!(pulled.id(), store.resolve(&app.to_string()).unwrap().id());
    let rows = fresh.list().unwrap();
    assert_eq!(rows[0].repo_digests.len(), 1, "{rows:?}");
    // Pulling again downloads nothing.
    let again = client.pull(&fresh, &other).unwrap();
    assert!(again.downloaded.is_empty());
    // By digest too.
    let pinned = other.with_digest(manifest.digest.clone());
    assert_eq!(
        client.pull(&fresh, &pinned).unwrap().manifest_digest,
        manifest.digest
    );
}

#[test]
fn corrupted_blob_is_rejected() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let manifest = tiny_image(&store, "corrupt", true);
    let target = reference(&format!("{}/corrupt:v1", registry.host()));
    client()
        .push(&store, &manifest.digest.to_string(), &target)
        .unwrap();

    let image = store.image(&manifest.digest).unwrap();
    let layer = &image.manifest.layers[0].digest;
    let file = registry.blob_file(layer.hex());
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();

    let fresh = ImageStore::open(&dir.path().join("b")).unwrap();
    let err = client().pull(&fresh, &target).unwrap_err();
    match &err {
        OciError::BlobDigestMismatch { expected, .. } => assert_eq!(expected, layer),
        other => panic!("expected a digest error, got: {other}"),
    }
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert!(!fresh.content().contains(layer));
    assert!(fresh.list().unwrap().is_empty());
}

#[test]
fn platform_is_selected_from_an_index() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    if !have_tool("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let amd64 = tiny_image(&store, "amd64", false);
    let arm64 = tiny_image(&store, "arm64", false);
    let with_platform = |d: &Descriptor, arch: &str| Descriptor {
        platform: Some(Platform::parse(&format!("linux/{arch}")).unwrap()),
        ..d.clone()
    };
    let index = Index {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.into()),
        manifests: vec![
            with_platform(&amd64, "amd64"),
            with_platform(&arm64, "arm64"),
        ],
        annotations: None,
    };
    // An OCI layout with the index, copied to the registry by skopeo.
    let layout = dir.path().join("layout");
    let mut sink = DirSink::new(&layout).unwrap();
    for d in [&amd64, &arm64] {
        let image = store.image(&d.digest).unwrap();
        let mut blobs = vec![d.digest.clone(), image.manifest.config.digest.clone()];
        blobs.extend(image.manifest.layers.iter().map(|l| l.digest.clone()));
        for b in blobs {
            let path = format!("blobs/sha256/{}", b.hex());
            if !sink.contains(&path) {
                sink.add_file(&path, &store.content().blob_path(&b))
                    .unwrap();
            }
        }
    }
    let index_bytes = canonical_json(&index).unwrap();
    let index_digest = rbuild_snapshotter::Digest::of_bytes(&index_bytes);
    sink.add_bytes(
        &format!("blobs/sha256/{}", index_digest.hex()),
        &index_bytes,
    )
    .unwrap();
    sink.add_bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
        .unwrap();
    let mut top = Descriptor::new(
        media_types::OCI_INDEX,
        index_digest,
        index_bytes.len() as u64,
    );
    top.annotations = Some(
        [(
            "org.opencontainers.image.ref.name".to_string(),
            "multi".to_string(),
        )]
        .into(),
    );
    let top_index = Index {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.into()),
        manifests: vec![top],
        annotations: None,
    };
    sink.add_bytes("index.json", &canonical_json(&top_index).unwrap())
        .unwrap();
    let target = reference(&format!("{}/multi:v1", registry.host()));
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:multi", layout.display()),
        &format!("docker://{target}"),
    ]));

    for (arch, expected) in [("arm64", &arm64.digest), ("amd64", &amd64.digest)] {
        let fresh = ImageStore::open(&dir.path().join(arch)).unwrap();
        let client = client().with_platform(Platform::parse(&format!("linux/{arch}")).unwrap());
        assert_eq!(
            &client.pull(&fresh, &target).unwrap().manifest_digest,
            expected,
            "{arch}"
        );
    }
    // The same index as a Docker manifest list (skopeo converts it).
    let list_target = reference(&format!("{}/multi-docker:v1", registry.host()));
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--format",
        "v2s2",
        "--dest-tls-verify=false",
        &format!("oci:{}:multi", layout.display()),
        &format!("docker://{list_target}"),
    ]));
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{list_target}"),
    ]));
    assert!(raw.contains(media_types::DOCKER_MANIFEST_LIST), "{raw}");
    let fresh = ImageStore::open(&dir.path().join("docker-list")).unwrap();
    let client_arm = client().with_platform(Platform::parse("linux/arm64").unwrap());
    let pulled = client_arm.pull(&fresh, &list_target).unwrap();
    let pulled = fresh.image(&pulled.manifest_digest).unwrap();
    assert!(pulled.manifest.is_docker());
    let arm_layers: Vec<_> = store
        .image(&arm64.digest)
        .unwrap()
        .manifest
        .layers
        .iter()
        .map(|l| l.digest.clone())
        .collect();
    let pulled_layers: Vec<_> = pulled
        .manifest
        .layers
        .iter()
        .map(|l| l.digest.clone())
        .collect();
    assert_eq!(pulled_layers, arm_layers);

    let err = client()
        .with_platform(Platform::parse("linux/s390x").unwrap())
        .pull(
            &ImageStore::open(&dir.path().join("none")).unwrap(),
            &target,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("linux/s390x") && err.contains("linux/arm64"),
        "{err}"
    );
}

#[test]
fn docker_hub_names_are_served_by_a_mirror() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let manifest = tiny_image(&store, "busybox", true);
    let on_mirror = reference(&format!("{}/library/busybox:latest", registry.host()));
    client()
        .push(&store, &manifest.digest.to_string(), &on_mirror)
        .unwrap();

    let dead = format!("127.0.0.1:{}", free_port());
    let settings = RegistrySettings {
        mirrors: vec![
            Mirror::parse(&format!("http://{dead}")),
            Mirror::parse(&format!("http://{}", registry.host())),
        ],
        ..local_settings()
    };
    let client = RegistryClient::new(settings).unwrap();
    let fresh = ImageStore::open(&dir.path().join("b")).unwrap();
    let report = client.pull(&fresh, &reference("busybox")).unwrap();
    assert_eq!(report.source, registry.host(), "the dead mirror is skipped");
    assert_eq!(report.manifest_digest, manifest.digest);
    assert_eq!(fresh.list().unwrap()[0].repo_tags, ["busybox:latest"]);
}

#[test]
fn nothing_answering_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let dead = format!("127.0.0.1:{}", free_port());
    let settings = RegistrySettings {
        mirrors: vec![Mirror::parse(&format!("http://{dead}"))],
        ..local_settings()
    };
    let err = RegistryClient::new(settings)
        .unwrap()
        .pull(&store, &reference("busybox"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("could not pull docker.io/library/busybox:latest"),
        "{err}"
    );
    assert!(err.contains(&dead), "{err}");
    assert!(err.to_lowercase().contains("connect"), "{err}");

    let err = client()
        .pull(&store, &reference(&format!("{dead}/x:y")))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&dead), "{err}");
}
