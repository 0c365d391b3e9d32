//! `-o` outputs checked with skopeo, and the plain and rawjson progress formats.

mod support;

use support::{Store, assert_success, can_run, context, have_program, path_str, stderr, stdout};

fn skopeo_or_skip() -> bool {
    if have_program("skopeo") {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must have skopeo (scripts/test.sh installs it)"
    );
    eprintln!("skipped: needs skopeo (apt-get install skopeo)");
    false
}

#[test]
fn oci_docker_and_local_outputs() {
    if !can_run() || !skopeo_or_skip() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUN echo inside > /made\nLABEL stage=out\n",
        &[],
    );
    let out_dir = tempfile::tempdir().unwrap();
    let oci = out_dir.path().join("img-oci.tar");
    let docker = out_dir.path().join("img-docker.tar");
    let local = out_dir.path().join("rootfs");
    let out = store.rbuild(&[
        "build",
        "-t",
        "outputs",
        "-o",
        &format!("type=oci,dest={}", path_str(&oci)),
        "-o",
        &format!("type=docker,dest={}", path_str(&docker)),
        "-o",
        &format!("type=local,dest={}", path_str(&local)),
        &path_str(ctx.path()),
    ]);
    assert_success(&out, "build with three outputs");
    assert_eq!(
        std::fs::read_to_string(local.join("made")).unwrap(),
        "inside\n"
    );
    assert!(local.join("bin/busybox").exists());

    for (transport, file) in [("oci-archive", &oci), ("docker-archive", &docker)] {
        let inspect = std::process::Command::new("skopeo")
            .arg("inspect")
            .arg(format!("{transport}:{}", file.display()))
            .output()
            .unwrap();
        assert_success(&inspect, transport);
        let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
        assert_eq!(json["Labels"]["stage"], "out", "{transport}: {json}");
        assert_eq!(
            json["Layers"].as_array().map(Vec::len),
            Some(2),
            "{transport}: {json}"
        );
        assert_eq!(json["Os"], "linux");
    }
}

#[test]
fn rawjson_is_one_json_event_per_line() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context("FROM busybox\nRUN echo from-run\n", &[]);
    let out = store.rbuild(&["build", "--progress=rawjson", &path_str(ctx.path())]);
    assert_success(&out, "rawjson build");
    let mut kinds = Vec::new();
    for line in stdout(&out).lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
        kinds.push(event["event"].as_str().unwrap_or_default().to_string());
        if event["event"] == "step_output" {
            assert!(
                event["data"].as_str().unwrap().contains("from-run"),
                "{event}"
            );
        }
    }
    for wanted in [
        "step_started",
        "step_missed",
        "step_output",
        "step_finished",
        "image_written",
    ] {
        assert!(
            kinds.iter().any(|k| k == wanted),
            "no {wanted} in {kinds:?}"
        );
    }
}

#[test]
fn plain_progress_shows_cached_steps_and_why_a_step_missed() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let ctx = context(
        "FROM busybox\nRUN echo one > /one\nCOPY input /input\nRUN cat /input\n",
        &[("input", "first\n")],
    );
    let dir = path_str(ctx.path());
    let first = store.rbuild(&["build", "--progress=plain", &dir]);
    assert_success(&first, "first build");
    assert!(
        stderr(&first).contains("first"),
        "RUN output shown: {}",
        stderr(&first)
    );

    let again = store.rbuild(&["build", "--progress=plain", &dir]);
    assert_success(&again, "rebuild");
    let text = stderr(&again);
    assert_eq!(text.matches("CACHED").count(), 3, "{text}");
    assert!(!text.contains("cache miss"), "{text}");

    std::fs::write(ctx.path().join("input"), "second\n").unwrap();
    let changed = store.rbuild(&["build", "--progress=plain", &dir]);
    assert_success(&changed, "rebuild after a change");
    let text = stderr(&changed);
    assert_eq!(
        text.matches("CACHED").count(),
        1,
        "only RUN echo one hits: {text}"
    );
    assert!(text.contains("cache miss: file changed: input"), "{text}");
    assert!(text.contains("second"), "{text}");
}
