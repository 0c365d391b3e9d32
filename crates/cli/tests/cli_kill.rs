//! Killing rbuild (SIGKILL) mid-build — during a RUN and during a COPY of many files — and
//! building again: the rebuild succeeds, the store is intact, earlier cached steps still hit,
//! no mount and no sandbox process is left behind.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Store, assert_success, can_run, context, mounts_mentioning, path_str, stderr};

/// Starts a plain-progress build and kills it (SIGKILL) once a stderr line contains
/// `marker`, `delay` later. Returns the stderr read until then.
fn kill_build_when(store: &Store, dir: &str, marker: &str, delay: Duration) -> String {
    let mut child = store
        .command(&["build", "--progress=plain", dir])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("starting rbuild");
    let reader = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(marker) {
            std::thread::sleep(delay);
            break;
        }
    }
    assert!(
        seen.contains(marker),
        "the build never reached {marker:?}:\n{seen}"
    );
    // Child::kill sends SIGKILL.
    child.kill().expect("SIGKILL rbuild");
    let _ = child.wait();
    seen
}

/// Processes whose command line is exactly `words` (NUL-separated in /proc).
fn processes_running(words: &[&str]) -> Vec<String> {
    let wanted = words.join("\0");
    let mut found = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                let text = String::from_utf8_lossy(&cmdline);
                if text.trim_end_matches('\0') == wanted {
                    found.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
    }
    found
}

fn assert_no_process_within(words: &[&str], limit: Duration) {
    let start = Instant::now();
    loop {
        let left = processes_running(words);
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{words:?} survived rbuild's death: pids {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigkill_during_run_then_rebuild_succeeds_with_an_intact_store() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    // A duration no other test uses, to find exactly this sandbox's process.
    let ctx = context(
        "FROM busybox\nCOPY a /a\nRUN echo cached-step > /cached\nRUN sleep 47\n",
        &[("a", "a\n")],
    );
    let dir = path_str(ctx.path());
    kill_build_when(&store, &dir, "RUN sleep 47", Duration::from_millis(1500));
    assert_no_process_within(&["sleep", "47"], Duration::from_secs(5));

    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nCOPY a /a\nRUN echo cached-step > /cached\nRUN echo after-kill\n",
    )
    .unwrap();
    let out = store.rbuild(&["build", "--progress=plain", "-t", "recovered", &dir]);
    assert_success(&out, "rebuild after SIGKILL");
    assert_eq!(
        stderr(&out).matches("CACHED").count(),
        2,
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("after-kill"), "{}", stderr(&out));

    let images = store.rbuild(&["images"]);
    assert_success(&images, "images after the kill");
    // What the killed build left (temporary files, an unfinished layer) can be pruned, and
    // the cache still hits afterwards.
    assert_success(&store.rbuild(&["prune"]), "prune after the kill");
    let again = store.rbuild(&["build", "--progress=plain", &dir]);
    assert_success(&again, "rebuild after prune");
    assert_eq!(
        stderr(&again).matches("CACHED").count(),
        3,
        "{}",
        stderr(&again)
    );
    let run = store.rbuild(&["run", "--rm", "recovered", "cat", "/cached"]);
    assert_eq!(support::stdout(&run), "cached-step\n", "{}", stderr(&run));
    let mounts = mounts_mentioning(store.root());
    assert!(mounts.is_empty(), "stray mounts: {mounts:#?}");
}

#[test]
fn sigkill_during_a_copy_of_many_files_then_rebuild_succeeds() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUN echo base > /base\nCOPY many /many\n",
        &[],
    );
    for d in 0..20 {
        let sub = ctx.path().join(format!("many/d{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..150 {
            std::fs::write(sub.join(format!("f{f}")), format!("{d}/{f}\n")).unwrap();
        }
    }
    let dir = path_str(ctx.path());
    kill_build_when(&store, &dir, "COPY many /many", Duration::from_millis(150));
    assert!(mounts_mentioning(store.root()).is_empty());

    let out = store.rbuild(&["build", "--progress=plain", "-t", "copied", &dir]);
    assert_success(&out, "rebuild after SIGKILL in COPY");
    assert!(
        stderr(&out).contains("CACHED"),
        "the RUN before still hits: {}",
        stderr(&out)
    );
    let run = store.rbuild(&[
        "run",
        "--rm",
        "copied",
        "sh",
        "-c",
        "find /many -type f | wc -l",
    ]);
    assert_eq!(support::stdout(&run).trim(), "3000", "{}", stderr(&run));
    let again = store.rbuild(&["build", "--progress=plain", &dir]);
    assert_eq!(
        stderr(&again).matches("CACHED").count(),
        2,
        "{}",
        stderr(&again)
    );
    let mounts = mounts_mentioning(store.root());
    assert!(mounts.is_empty(), "stray mounts: {mounts:#?}");
}
