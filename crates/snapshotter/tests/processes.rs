//! Several processes on one store, and processes killed mid-write: this test binary
//! re-runs itself as worker processes (selected by an environment variable).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use rbuild_snapshotter::{ContentStore, Digest, LayerStore};

const ROLE: &str = "RBUILD_SNAPSHOTTER_TEST_ROLE";
const ROOT: &str = "RBUILD_SNAPSHOTTER_TEST_ROOT";

/// A deterministic layer tar with enough files that extraction takes a moment.
fn layer_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for i in 0..300 {
        let body = format!("file {i}\n").repeat(50);
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(body.len() as u64);
        builder
            .append_data(&mut h, format!("dir{}/f{i}", i % 7), body.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn blob() -> Vec<u8> {
    (0..3_000_000u32).map(|i| (i % 253) as u8).collect()
}

fn spawn(role: &str, root: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "worker", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(ROOT, root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The worker side: does nothing unless started by one of the tests below.
#[test]
fn worker() {
    let (Ok(role), Ok(root)) = (std::env::var(ROLE), std::env::var(ROOT)) else {
        return;
    };
    let root = Path::new(&root);
    match role.as_str() {
        "share" => {
            let tar = layer_tar();
            let layers = LayerStore::open(root).unwrap();
            layers.unpack(&Digest::of_bytes(&tar), &tar[..]).unwrap();
            let content = ContentStore::open(root).unwrap();
            let data = blob();
            let mut w = content.writer().unwrap();
            for chunk in data.chunks(65536) {
                w.write_all(chunk).unwrap();
            }
            w.commit(Some(&Digest::of_bytes(&data))).unwrap();
            println!("done");
        }
        "hang-writing" => {
            // Start a blob and a layer extraction, say so, then block forever mid-way.
            let content = ContentStore::open(root).unwrap();
            let mut w = content.writer().unwrap();
            w.write_all(&blob()[..1_000_000]).unwrap();
            let layers = LayerStore::open(root).unwrap();
            let tar = layer_tar();
            let stalling = StallingReader {
                data: tar[..tar.len() / 2].to_vec(),
                pos: 0,
            };
            let _ = layers.unpack(&Digest::of_bytes(&tar), stalling);
            unreachable!("the stalling reader never ends");
        }
        other => panic!("unknown worker role {other}"),
    }
}

/// Gives half a tar, announces it, then sleeps until killed.
struct StallingReader {
    data: Vec<u8>,
    pos: usize,
}

impl Read for StallingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.data.len() {
            println!("stalled");
            std::io::stdout().flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn processes_share_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..4).map(|_| spawn("share", dir.path())).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed");
        assert!(String::from_utf8_lossy(&out.stdout).contains("done"));
    }
    let tar = layer_tar();
    let layers = LayerStore::open(dir.path()).unwrap();
    assert_eq!(layers.list().unwrap(), vec![Digest::of_bytes(&tar)]);
    let content = ContentStore::open(dir.path()).unwrap();
    assert_eq!(content.list().unwrap(), vec![Digest::of_bytes(&blob())]);
    assert_eq!(
        content
            .read_bytes(&Digest::of_bytes(&blob()))
            .unwrap()
            .len(),
        blob().len()
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn killed_writer_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn("hang-writing", dir.path());
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("stalled") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "worker exited early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "a temporary blob and a temporary layer directory: {leftovers:?}"
    );
    let content = ContentStore::open(dir.path()).unwrap();
    let layers = LayerStore::open(dir.path()).unwrap();
    assert!(
        content.list().unwrap().is_empty(),
        "no half-written blob is visible"
    );
    assert!(
        layers.list().unwrap().is_empty(),
        "no half-extracted layer is visible"
    );

    // Fresh leftovers are kept for a few seconds (their writer may not have locked them
    // yet); once old and unlocked, the next open removes them.
    let old = SystemTime::now() - Duration::from_secs(60);
    for path in &leftovers {
        std::fs::File::open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    ContentStore::open(dir.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}
