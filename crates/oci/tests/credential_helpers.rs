//! Docker credential helpers (`credsStore` / `credHelpers`) against a real registry with
//! htpasswd auth. The helper is a real executable (a shell script) found through a PATH
//! given to the client, so this process's environment is never changed.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use rbuild_oci::Reference;
use rbuild_oci::registry::{CredentialSource, RegistryClient, RegistrySettings, path_with_first};
use rbuild_oci::store::ImageStore;
use support::registry::TestRegistry;
use support::tiny_image;

/// Writes `docker-credential-<name>`: it answers with the user and secret stored in
/// `<dir>/<name>.user` / `<dir>/<name>.secret`, says "not found" when they are absent, and
/// records the server address it was asked for in `<dir>/<name>.asked`.
fn write_helper(dir: &Path, name: &str) {
    let d = dir.display();
    let script = format!(
        r#"#!/bin/sh
[ "$1" = get ] || {{ echo "unsupported: $1" >&2; exit 1; }}
read server
printf '%s' "$server" > {d}/{name}.asked
if [ ! -f {d}/{name}.user ]; then
  echo "credentials not found in native keychain"
  exit 1
fi
printf '{{"ServerURL":"%s","Username":"%s","Secret":"%s"}}' "$server" "$(cat {d}/{name}.user)" "$(cat {d}/{name}.secret)"
"#
    );
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn set_secret(dir: &Path, name: &str, user: &str, secret: &str) {
    std::fs::write(dir.join(format!("{name}.user")), user).unwrap();
    std::fs::write(dir.join(format!("{name}.secret")), secret).unwrap();
}

#[test]
fn credential_helpers_authenticate_push_and_pull() {
    let Some(registry) = TestRegistry::start_with_auth("helperuser", "h3lper-pw") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    write_helper(&bin, "teststore");
    write_helper(&bin, "perhost");
    let config = dir.path().join("config.json");
    let source = CredentialSource::default()
        .with_config(config.clone())
        .with_helper_path(path_with_first(&bin));
    let settings = RegistrySettings {
        fallback_to_hub: false,
        ..Default::default()
    };
    let client = || {
        RegistryClient::new(settings.clone())
            .unwrap()
            .with_credentials(source.clone())
    };
    let store = ImageStore::open(&dir.path().join("store")).unwrap();
    let manifest = tiny_image(&store, "helpers", false);
    let target = Reference::parse(&format!("{}/private/helped:v1", registry.host())).unwrap();
    let push = || client().push(&store, &manifest.digest.to_string(), &target);

    // credsStore, and the helper has nothing: anonymous, so the registry refuses.
    std::fs::write(&config, r#"{"auths":{},"credsStore":"teststore"}"#).unwrap();
    let err = push().unwrap_err().to_string();
    assert!(
        err.to_lowercase().contains("auth") || err.contains("401"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(bin.join("teststore.asked")).unwrap(),
        registry.host(),
        "the helper is given host:port"
    );

    // Wrong secret from the helper: refused, and the secret is not in the error.
    set_secret(&bin, "teststore", "helperuser", "wrong-secret-xyz");
    let err = push().unwrap_err().to_string();
    assert!(!err.contains("wrong-secret-xyz"), "{err}");

    // Right secret: push and pull work.
    set_secret(&bin, "teststore", "helperuser", "h3lper-pw");
    let report = push().unwrap();
    assert_eq!(report.manifest_digest, manifest.digest);
    let fresh = ImageStore::open(&dir.path().join("fresh")).unwrap();
    assert_eq!(
        client().pull(&fresh, &target).unwrap().manifest_digest,
        manifest.digest
    );

    // credHelpers wins over credsStore for its registry.
    std::fs::write(
        &config,
        format!(
            r#"{{"credsStore":"teststore","credHelpers":{{"{}":"perhost"}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    set_secret(&bin, "teststore", "helperuser", "wrong-secret-xyz");
    set_secret(&bin, "perhost", "helperuser", "h3lper-pw");
    let again = ImageStore::open(&dir.path().join("again")).unwrap();
    assert_eq!(
        client().pull(&again, &target).unwrap().manifest_digest,
        manifest.digest
    );

    // A helper that is not installed: a clear error naming it.
    std::fs::write(&config, r#"{"credsStore":"missing-helper"}"#).unwrap();
    let err = push().unwrap_err().to_string();
    assert!(err.contains("docker-credential-missing-helper"), "{err}");
}

#[test]
fn helper_without_credentials_means_anonymous() {
    let Some(registry) = TestRegistry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_helper(dir.path(), "empty");
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"credsStore":"empty"}"#).unwrap();
    let source = CredentialSource::default()
        .with_config(config)
        .with_helper_path(path_with_first(dir.path()));
    let client = RegistryClient::new(RegistrySettings {
        fallback_to_hub: false,
        ..Default::default()
    })
    .unwrap()
    .with_credentials(source);
    let store = ImageStore::open(&dir.path().join("store")).unwrap();
    let manifest = tiny_image(&store, "anon", true);
    let target = Reference::parse(&format!("{}/open/app:v1", registry.host())).unwrap();
    client
        .push(&store, &manifest.digest.to_string(), &target)
        .unwrap();
    let fresh = ImageStore::open(&dir.path().join("fresh")).unwrap();
    assert_eq!(
        client.pull(&fresh, &target).unwrap().manifest_digest,
        manifest.digest
    );
    assert!(
        dir.path().join("empty.asked").exists(),
        "the helper was asked"
    );
}
