//! Exporters and loaders checked against real tools: skopeo, umoci.

mod support;

use std::process::Command;

use rbuild_oci::Reference;
use rbuild_oci::export::{
    ArchiveFormat, DirSink, ExportImage, save_images, write_oci_layout, write_rootfs_dir,
    write_rootfs_tar,
};
use rbuild_oci::import::load_path;
use rbuild_oci::store::ImageStore;
use support::{file_digest, have_tool, run, tiny_image};

fn store_with_image(dir: &std::path::Path, name: &str) -> ImageStore {
    let store = ImageStore::open(&dir.join("store")).unwrap();
    let manifest = tiny_image(&store, "one", false);
    store
        .tag(&Reference::parse(name).unwrap(), &manifest.digest)
        .unwrap();
    store
}

#[test]
fn save_load_save_gives_identical_archives_in_both_formats() {
    for format in [ArchiveFormat::Docker, ArchiveFormat::Oci] {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_image(dir.path(), "example.com/app:v1");
        let first = dir.path().join("first.tar");
        save_images(
            &store,
            &["example.com/app:v1".into()],
            format,
            std::fs::File::create(&first).unwrap(),
        )
        .unwrap();

        let other = ImageStore::open(&dir.path().join("other")).unwrap();
        let loaded = load_path(&other, &first).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].names[0].to_string(), "example.com/app:v1");
        let original = store.resolve("example.com/app:v1").unwrap();
        assert_eq!(&loaded[0].id, original.id(), "{format:?}: image ID changed");
        if format == ArchiveFormat::Oci {
            assert_eq!(
                loaded[0].manifest_digest, original.manifest_digest,
                "manifest changed"
            );
        }

        let second = dir.path().join("second.tar");
        save_images(
            &other,
            &["example.com/app:v1".into()],
            format,
            std::fs::File::create(&second).unwrap(),
        )
        .unwrap();
        assert_eq!(file_digest(&first), file_digest(&second), "{format:?}");
    }
}

#[test]
fn oci_layout_directory_is_read_by_skopeo_and_umoci() {
    if !have_tool("skopeo") || !have_tool("umoci") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_image(dir.path(), "localhost/app:v1");
    let image = store.resolve("localhost/app:v1").unwrap();
    let layout = dir.path().join("layout");
    let mut sink = DirSink::new(&layout).unwrap();
    let exports = [ExportImage {
        image: &image,
        names: vec![Reference::parse("localhost/app:v1").unwrap()],
    }];
    write_oci_layout(&store, &exports, &mut sink).unwrap();

    let out =
        run(Command::new("skopeo").args(["inspect", &format!("oci:{}:v1", layout.display())]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["Digest"], image.manifest_digest.to_string());
    assert_eq!(doc["Layers"].as_array().unwrap().len(), 2);

    let bundle = dir.path().join("bundle");
    let mut umoci = Command::new("umoci");
    umoci.args(["unpack", "--image", &format!("{}:v1", layout.display())]);
    if !rustix::process::geteuid().is_root() {
        umoci.arg("--rootless");
    }
    run(umoci.arg(&bundle));
    assert_eq!(
        std::fs::read_to_string(bundle.join("rootfs/etc/hello")).unwrap(),
        "hello again\n"
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("rootfs/etc/seed")).unwrap(),
        "one"
    );
}

#[test]
fn archives_are_read_by_skopeo() {
    if !have_tool("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_image(dir.path(), "app:v1");
    let image = store.resolve("app:v1").unwrap();

    let docker = dir.path().join("docker.tar");
    save_images(
        &store,
        &["app:v1".into()],
        ArchiveFormat::Docker,
        std::fs::File::create(&docker).unwrap(),
    )
    .unwrap();
    let copied = dir.path().join("copied");
    run(Command::new("skopeo").args([
        "copy",
        &format!("docker-archive:{}", docker.display()),
        &format!("oci:{}:v1", copied.display()),
    ]));
    let out = run(Command::new("skopeo").args([
        "inspect",
        "--config",
        &format!("oci:{}:v1", copied.display()),
    ]));
    let config: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(config["config"]["Cmd"][1], "/etc/hello");
    assert_eq!(
        config["rootfs"]["diff_ids"][1],
        image.config.rootfs.diff_ids[1].to_string()
    );

    let oci_tar = dir.path().join("oci.tar");
    save_images(
        &store,
        &["app:v1".into()],
        ArchiveFormat::Oci,
        std::fs::File::create(&oci_tar).unwrap(),
    )
    .unwrap();
    let out =
        run(Command::new("skopeo")
            .args(["inspect", &format!("oci-archive:{}:v1", oci_tar.display())]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["Digest"], image.manifest_digest.to_string());

    // And back: what skopeo wrote loads into our store with the same layers (skopeo
    // rewrites the config when it converts Docker to OCI, so the ID differs).
    let loaded = load_path(&store, &copied).unwrap();
    let reloaded = store.image(&loaded[0].manifest_digest).unwrap();
    assert_eq!(reloaded.config.rootfs, image.config.rootfs);
}

#[test]
fn rootfs_exporters_apply_layers_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_image(dir.path(), "app:v1");
    let image = store.resolve("app:v1").unwrap();
    let rootfs = dir.path().join("rootfs");
    write_rootfs_dir(&store, &image, &rootfs).unwrap();
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hello")).unwrap(),
        "hello again\n"
    );

    let tar_bytes = write_rootfs_tar(&store, &image, Vec::new()).unwrap();
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let mut found = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path.ends_with("etc/hello") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            found.push(text);
        }
    }
    assert_eq!(found, ["hello again\n"]);
}

#[test]
fn loading_garbage_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(&dir.path().join("store")).unwrap();
    let bad = dir.path().join("bad.tar");
    std::fs::write(&bad, support::layer_tar(&[("hello", "x")])).unwrap();
    let err = load_path(&store, &bad).unwrap_err().to_string();
    assert!(err.contains("neither manifest.json"), "{err}");
    let evil = dir.path().join("evil.tar");
    std::fs::write(&evil, escaping_tar()).unwrap();
    let err = load_path(&store, &evil).unwrap_err().to_string();
    assert!(err.contains("leaves the archive root"), "{err}");
}

/// A tar whose only entry is named `../../escape` (the tar crate refuses to write such a
/// name through its path setters, so the name bytes are set directly).
fn escaping_tar() -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    let name = b"../../escape";
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    header.set_size(1);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &b"x"[..]).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn output_specs_drive_the_exporters() {
    use rbuild_oci::export::{ExportOutcome, export_output};
    use rbuild_oci::output::OutputSpec;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_image(dir.path(), "app:v1");
    let digest = store.lookup("app:v1").unwrap();
    let export = |spec: &str, stdout: &mut Vec<u8>| {
        export_output(&store, &digest, &OutputSpec::parse(spec).unwrap(), stdout).unwrap()
    };
    let mut stdout = Vec::new();

    let layout = dir.path().join("layout");
    export(
        &format!("type=oci,dest={},tar=false,name=app:v1", layout.display()),
        &mut stdout,
    );
    assert!(layout.join("index.json").is_file() && layout.join("oci-layout").is_file());

    let docker = dir.path().join("d.tar");
    export(
        &format!("type=docker,dest={},name=other:2", docker.display()),
        &mut stdout,
    );
    let loaded = load_path(&ImageStore::open(&dir.path().join("s2")).unwrap(), &docker).unwrap();
    assert_eq!(loaded[0].names[0].familiar(), "other:2");

    let rootfs = dir.path().join("rootfs");
    export(
        &format!("type=local,dest={}", rootfs.display()),
        &mut stdout,
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/seed")).unwrap(),
        "one"
    );

    assert!(stdout.is_empty());
    export("type=oci,dest=-", &mut stdout);
    assert!(!stdout.is_empty(), "an OCI tar on stdout");
    let mut names = Vec::new();
    for entry in tar::Archive::new(&stdout[..]).entries().unwrap() {
        names.push(
            entry
                .unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
    }
    assert!(names.contains(&"index.json".to_string()), "{names:?}");

    let outcome = export("type=image,name=tagged:x", &mut Vec::new());
    assert_eq!(outcome, ExportOutcome::Stored { pushed: vec![] });
    assert_eq!(store.lookup("tagged:x").unwrap(), digest);
}

#[test]
fn output_options_convert_media_types_and_compression() {
    use rbuild_oci::export::convert_for_output;
    use rbuild_oci::model::media_types;
    use rbuild_oci::output::OutputSpec;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_image(dir.path(), "app:v1");
    let digest = store.lookup("app:v1").unwrap();
    let original = store.image(&digest).unwrap();
    assert!(!original.manifest.is_docker());

    let same = convert_for_output(
        &store,
        &digest,
        &OutputSpec::parse("type=image,name=x").unwrap(),
    )
    .unwrap();
    assert_eq!(same, digest, "nothing asked, nothing changed");

    let docker = convert_for_output(
        &store,
        &digest,
        &OutputSpec::parse("type=image,name=x,oci-mediatypes=false").unwrap(),
    )
    .unwrap();
    let docker = store.image(&docker).unwrap();
    assert!(docker.manifest.is_docker());
    assert_eq!(docker.id(), original.id(), "the config is kept");
    assert_eq!(
        docker.manifest.layers[0].media_type,
        media_types::DOCKER_LAYER_GZIP
    );
    assert_eq!(
        docker.manifest.layers[0].digest,
        original.manifest.layers[0].digest
    );

    let spec =
        OutputSpec::parse("type=image,name=x,compression=zstd,force-compression=true").unwrap();
    let zstd = store
        .image(&convert_for_output(&store, &digest, &spec).unwrap())
        .unwrap();
    assert_eq!(
        zstd.manifest.layers[0].media_type,
        media_types::OCI_LAYER_ZSTD
    );
    assert_ne!(
        zstd.manifest.layers[0].digest,
        original.manifest.layers[0].digest
    );
    assert_eq!(zstd.config.rootfs, original.config.rootfs, "same content");
    // Deterministic: converting again gives the same manifest.
    assert_eq!(
        convert_for_output(&store, &digest, &spec).unwrap(),
        zstd.manifest_digest
    );
    // And the zstd image unpacks to the same files.
    let rootfs = dir.path().join("rootfs");
    write_rootfs_dir(&store, &zstd, &rootfs).unwrap();
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hello")).unwrap(),
        "hello again\n"
    );
}
