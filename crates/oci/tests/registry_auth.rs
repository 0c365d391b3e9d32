//! Registry authentication with credentials from `$DOCKER_CONFIG/config.json`, against a
//! real registry with htpasswd auth. Its own test binary: it sets DOCKER_CONFIG.

mod support;

use base64::Engine as _;
use rbuild_oci::Reference;
use rbuild_oci::registry::{RegistryClient, RegistrySettings};
use rbuild_oci::store::ImageStore;
use support::registry::TestRegistry;
use support::tiny_image;

#[test]
fn credentials_from_docker_config_are_used() {
    let Some(registry) = TestRegistry::start_with_auth("builder", "s3cret") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let docker_config = dir.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    // SAFETY: this test binary has a single test; nothing else reads the environment now.
    unsafe { std::env::set_var("DOCKER_CONFIG", &docker_config) };

    let store = ImageStore::open(&dir.path().join("store")).unwrap();
    let manifest = tiny_image(&store, "auth", false);
    let target = Reference::parse(&format!("{}/private/app:v1", registry.host())).unwrap();
    let settings = RegistrySettings {
        fallback_to_hub: false,
        ..Default::default()
    };
    let client = RegistryClient::new(settings.clone()).unwrap();

    // No credentials: refused, and the error says so.
    let err = client
        .push(&store, &manifest.digest.to_string(), &target)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&registry.host()), "{err}");
    assert!(
        err.to_lowercase().contains("auth") || err.contains("401"),
        "{err}"
    );

    // Wrong password: refused.
    let write_config = |user: &str, password: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let json = format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        );
        std::fs::write(docker_config.join("config.json"), json).unwrap();
    };
    write_config("builder", "wrong");
    assert!(
        RegistryClient::new(settings.clone())
            .unwrap()
            .push(&store, &manifest.digest.to_string(), &target)
            .is_err()
    );

    write_config("builder", "s3cret");
    let client = RegistryClient::new(settings).unwrap();
    let report = client
        .push(&store, &manifest.digest.to_string(), &target)
        .unwrap();
    assert_eq!(report.uploaded.len(), 3);
    let fresh = ImageStore::open(&dir.path().join("fresh")).unwrap();
    assert_eq!(
        client.pull(&fresh, &target).unwrap().manifest_digest,
        manifest.digest
    );
}
