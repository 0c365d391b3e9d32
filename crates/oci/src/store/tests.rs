use super::*;
use crate::compress::{Compression, CompressionOptions};
use crate::model::{ContainerConfig, ImageConfig, RootFs};

/// A one-layer image with a file `hello.txt` whose text is `content`.
pub(crate) fn tiny_layer_tar(content: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, "hello.txt", content.as_bytes())
        .unwrap();
    builder.into_inner().unwrap()
}

pub(crate) fn add_tiny_image(store: &ImageStore, content: &str, docker: bool) -> Descriptor {
    let layer = store
        .add_layer(
            &tiny_layer_tar(content)[..],
            CompressionOptions::default(),
            !docker,
        )
        .unwrap();
    let config = ImageConfig {
        created: Some("2024-01-01T00:00:00Z".to_string()),
        architecture: "amd64".to_string(),
        os: "linux".to_string(),
        config: Some(ContainerConfig {
            cmd: Some(vec!["cat".into(), "/hello.txt".into()]),
            ..Default::default()
        }),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        ..Default::default()
    };
    store
        .write_image(&config, vec![layer.descriptor], docker)
        .unwrap()
}

fn reference(text: &str) -> Reference {
    Reference::parse(text).unwrap()
}

#[test]
fn tag_list_inspect_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let manifest = add_tiny_image(&store, "hello", true);
    store.tag(&reference("busybox"), &manifest.digest).unwrap();
    store
        .tag(&reference("localhost:5000/b:v1"), &manifest.digest)
        .unwrap();
    store
        .add_repo_digest(&reference("busybox"), &manifest.digest)
        .unwrap();

    let rows = store.list().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].repo_tags, ["busybox:latest", "localhost:5000/b:v1"]);
    assert_eq!(
        rows[0].repo_digests,
        [format!("busybox@{}", manifest.digest)]
    );

    let image = store.resolve("busybox:latest").unwrap();
    let id = image.id().clone();
    assert_eq!(store.lookup(&id.hex()[..12]).unwrap(), manifest.digest);
    assert_eq!(store.lookup(&id.to_string()).unwrap(), manifest.digest);
    assert!(matches!(
        store.lookup("nothere"),
        Err(OciError::ImageNotFound(_))
    ));

    let doc = store.inspect("busybox").unwrap();
    assert_eq!(doc["Id"], id.to_string());
    assert_eq!(doc["Architecture"], "amd64");
    assert_eq!(doc["Os"], "linux");
    assert_eq!(doc["Config"]["Cmd"][1], "/hello.txt");
    assert_eq!(doc["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(doc["Size"].as_u64().unwrap() > 0);

    // Two tags: removing by ID needs force; by name it just untags.
    assert!(store.remove(&id.hex()[..12], false).is_err());
    assert_eq!(store.remove("localhost:5000/b:v1", false).unwrap().len(), 1);
    let removed = store.remove("busybox", false).unwrap();
    assert_eq!(
        removed.len(),
        2,
        "the tag and the digest reference: {removed:?}"
    );
    assert!(store.list().unwrap().is_empty());
    // Blobs stay for prune.
    assert!(store.content().contains(&manifest.digest));
}

#[test]
fn identical_layers_give_identical_digests() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    for compression in [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Uncompressed,
    ] {
        let options = CompressionOptions {
            compression,
            level: None,
        };
        let a = store
            .add_layer(&tiny_layer_tar("x")[..], options, true)
            .unwrap();
        let b = store
            .add_layer(&tiny_layer_tar("x")[..], options, true)
            .unwrap();
        assert_eq!(a, b);
    }
    assert_eq!(
        add_tiny_image(&store, "same", false),
        add_tiny_image(&store, "same", false)
    );
}

#[test]
fn parallel_layer_files_keep_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path().join("store").as_path()).unwrap();
    let mut files = Vec::new();
    for i in 0..5 {
        let path = dir.path().join(format!("layer{i}.tar"));
        std::fs::write(&path, tiny_layer_tar(&format!("layer {i}"))).unwrap();
        files.push(path);
    }
    let blobs = store
        .add_layer_files(&files, CompressionOptions::default(), true)
        .unwrap();
    for (blob, path) in blobs.iter().zip(&files) {
        let one = store
            .add_layer(
                std::fs::File::open(path).unwrap(),
                CompressionOptions::default(),
                true,
            )
            .unwrap();
        assert_eq!(*blob, one);
    }
    let missing = store.add_layer_files(
        &[dir.path().join("nope.tar")],
        CompressionOptions::default(),
        true,
    );
    assert!(missing.unwrap_err().to_string().contains("nope.tar"));
}

#[test]
fn concurrent_taggers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    let manifest = add_tiny_image(&store, "shared", false);
    std::thread::scope(|scope| {
        for t in 0..6 {
            let store = ImageStore::open(dir.path()).unwrap();
            let digest = manifest.digest.clone();
            scope.spawn(move || {
                for i in 0..10 {
                    store
                        .tag(&reference(&format!("t{t}/img:{i}")), &digest)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(store.names().unwrap().names.len(), 60);
    // No temporary files are left next to the index.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "names.json" && n != "names.lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
