//! A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with
//! a free port and its own storage directory, optionally behind htpasswd (basic) auth.
//! The process is killed when the handle is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub struct TestRegistry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// The binary tests use.
pub const REGISTRY_BIN: &str = "docker-registry";

impl TestRegistry {
    /// Starts an anonymous registry, or returns None (test skipped) when the package is
    /// missing and CI is not set.
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// Starts a registry requiring `user`/`password` (htpasswd, bcrypt via `htpasswd -Bbn`).
    pub fn start_with_auth(user: &str, password: &str) -> Option<Self> {
        if !super::have_tool("htpasswd") {
            return None;
        }
        let line = super::run(Command::new("htpasswd").args(["-Bbn", user, password]));
        Self::start_with(Some(line))
    }

    fn start_with(htpasswd: Option<String>) -> Option<Self> {
        if !Path::new("/usr/bin/docker-registry").exists() && !super::have_tool(REGISTRY_BIN) {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir for the registry");
        let port = free_port();
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).expect("registry storage dir");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some(line) = htpasswd {
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, line.trim_end().to_string() + "\n").expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: rbuild-test\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = TestRegistry { child, port, dir };
        registry.wait_ready();
        Some(registry)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The storage directory (to corrupt blobs in).
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The registry's file path of blob `hex`.
    pub fn blob_file(&self, hex: &str) -> PathBuf {
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = http_status(self.port, "/v2/")
                && (status == 200 || status == 401)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("registry did not start: {}", self.log());
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// The status of a plain HTTP GET on 127.0.0.1:`port`.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
