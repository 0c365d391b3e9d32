//! The command sees its own root, PID namespace, hostname and (optionally) network.

mod common;

use std::fs;

use common::{OverlayFixture, can_run, run, sh};
use rbuild_sandbox::{Network, SandboxSpec};

#[test]
fn host_files_are_invisible() {
    if !can_run("host_files_are_invisible") {
        return;
    }
    let fx = OverlayFixture::new();
    let marker = fx.dir.path().join("host-marker");
    fs::write(&marker, "secret").unwrap();
    let script = format!(
        "test -e {} && echo LEAK; test -e /work && echo LEAK; test -e /proc/1/root/work && echo LEAK; ls /",
        marker.display()
    );
    let out = sh(&fx, &script);
    assert!(!out.contains("LEAK"), "host paths visible: {out}");
    let mut top: Vec<&str> = out.split_whitespace().collect();
    top.sort();
    assert_eq!(
        top,
        [
            "bin", "dev", "etc", "home", "proc", "root", "sbin", "sys", "tmp", "usr"
        ]
    );
}

#[test]
fn command_runs_as_pid_2_under_an_init() {
    if !can_run("command_runs_as_pid_2_under_an_init") {
        return;
    }
    let fx = OverlayFixture::new();
    // The init is PID 1; the command, its first child, is PID 2. `ps` lists only the
    // sandbox's processes.
    let out = sh(&fx, "echo $$ $PPID; ps -o pid | tail -n +2");
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&fields[..2], ["2", "1"]);
    let pids: Vec<u32> = fields[2..].iter().map(|p| p.parse().unwrap()).collect();
    assert!(pids.contains(&1) && pids.contains(&2), "ps: {pids:?}");
    assert!(
        pids.iter().all(|p| *p < 10),
        "ps sees host processes: {pids:?}"
    );
}

#[test]
fn hostname_is_set() {
    if !can_run("hostname_is_set") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(fx.rootfs(), ["hostname"]).hostname("buildbox");
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success());
    assert_eq!(output.stdout(), "buildbox\n");
    // The default hostname is also in the generated /etc/hosts.
    assert!(sh(&fx, "hostname; cat /etc/hosts").contains("localhost rbuild"));
}

#[test]
fn network_none_has_only_loopback_up() {
    if !can_run("network_none_has_only_loopback_up") {
        return;
    }
    let fx = OverlayFixture::new();
    let spec = SandboxSpec::new(
        fx.rootfs(),
        ["sh", "-c", "ls /sys/class/net; ip link show lo"],
    )
    .network(Network::None);
    let (outcome, output) = run(&spec);
    assert!(outcome.exit.success(), "{}", output.stderr());
    let out = output.stdout();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("lo"));
    let link = lines.collect::<Vec<_>>().join("\n");
    assert!(link.contains("LOOPBACK,UP"), "lo is not up: {link}");
    assert!(!out.contains("eth"), "host interfaces visible: {out}");
}

#[test]
fn dev_proc_and_sys_are_minimal_and_safe() {
    if !can_run("dev_proc_and_sys_are_minimal_and_safe") {
        return;
    }
    let fx = OverlayFixture::new();
    let out = sh(
        &fx,
        "ls /dev | tr '\\n' ' '; echo; echo x > /dev/null && echo null-ok; \
         head -c 4 /dev/zero | wc -c; touch /sys/x 2>/dev/null || echo sys-ro; \
         test -c /dev/pts/ptmx && echo pts-ok; test -d /dev/shm && touch /dev/shm/f && echo shm-ok; \
         readlink /dev/fd; cat /proc/self/status | grep -c Pid",
    );
    let first = out.lines().next().unwrap();
    assert_eq!(
        first.split_whitespace().collect::<Vec<_>>(),
        [
            "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout",
            "tty", "urandom", "zero"
        ]
    );
    for expected in [
        "null-ok",
        "\n4\n",
        "sys-ro",
        "pts-ok",
        "shm-ok",
        "/proc/self/fd",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in {out}");
    }
}

#[test]
fn ipc_namespace_is_private() {
    if !can_run("ipc_namespace_is_private") {
        return;
    }
    let fx = OverlayFixture::new();
    let host = fs::read_link("/proc/self/ns/ipc").unwrap();
    let inside = sh(
        &fx,
        "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts",
    );
    assert!(
        !inside.contains(host.to_str().unwrap()),
        "same IPC namespace as the host: {inside}"
    );
}
