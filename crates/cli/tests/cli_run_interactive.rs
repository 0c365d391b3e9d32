//! `rbuild run -i` / `-t` / `-it` end to end: stdin forwarded, a real pseudo-terminal opened
//! by the test as rbuild's terminal (raw mode, window size, resizes, Ctrl-C as a key, the
//! terminal restored afterwards), and signals to rbuild that cancel the run cleanly.

mod support;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{Store, can_run, mounts_mentioning, stderr, stdout};

/// A pseudo-terminal pair opened by the test: the master is the test's keyboard and screen,
/// the slave becomes rbuild's stdin and stdout.
struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

fn check(ret: libc::c_int, what: &str) -> libc::c_int {
    assert!(ret >= 0, "{what}: {}", std::io::Error::last_os_error());
    ret
}

impl Pty {
    fn open(rows: u16, cols: u16) -> Pty {
        // SAFETY: plain system calls on descriptors this test owns.
        unsafe {
            let master = check(
                libc::open(
                    c"/dev/ptmx".as_ptr(),
                    libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
                ),
                "open /dev/ptmx",
            );
            let master = OwnedFd::from_raw_fd(master);
            let unlock: libc::c_int = 0;
            check(
                libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock),
                "unlock",
            );
            let slave = check(
                libc::ioctl(
                    master.as_raw_fd(),
                    libc::TIOCGPTPEER,
                    libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
                ),
                "open the slave",
            );
            let pty = Pty {
                master,
                slave: OwnedFd::from_raw_fd(slave),
            };
            pty.resize(rows, cols);
            pty
        }
    }

    fn resize(&self, rows: u16, cols: u16) {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize.
        check(
            unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) },
            "set the window size",
        );
    }

    /// The slave's local modes (a master answers for its slave).
    fn local_modes(&self) -> libc::tcflag_t {
        // SAFETY: termios is plain data filled by tcgetattr.
        unsafe {
            let mut modes: libc::termios = std::mem::zeroed();
            check(
                libc::tcgetattr(self.master.as_raw_fd(), &mut modes),
                "tcgetattr",
            );
            modes.c_lflag
        }
    }

    fn writer(&self) -> std::fs::File {
        std::fs::File::from(self.master.try_clone().expect("dup master"))
    }

    /// Everything the screen shows, chunk by chunk, from a reading thread (ends at EIO, when
    /// no process holds the slave any more).
    fn screen(&self) -> mpsc::Receiver<String> {
        let mut reader = self.writer();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0
                    || send
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        receive
    }
}

/// Starts `rbuild run ARGS` with the pty's slave as stdin and stdout; the test's copy of the
/// slave is closed so the master reads EIO once rbuild is gone.
fn spawn_on(store: &Store, pty: Pty, args: &[&str]) -> (Child, Pty) {
    let mut command = store.command(args);
    command
        .stdin(Stdio::from(pty.slave.try_clone().expect("dup slave")))
        .stdout(Stdio::from(pty.slave.try_clone().expect("dup slave")))
        .stderr(Stdio::piped());
    let child = command.spawn().expect("starting rbuild");
    (child, pty)
}

/// Reads the screen until it contains `wanted`, or fails after `limit` with what was seen.
fn wait_for(screen: &mpsc::Receiver<String>, seen: &mut String, wanted: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !seen.contains(wanted) {
        let left = deadline.saturating_duration_since(Instant::now());
        match screen.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&chunk),
            Err(_) => panic!("{wanted:?} never appeared on the screen:\n{seen}"),
        }
    }
}

/// Waits for rbuild to end, killing it (and failing) after `limit`.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for rbuild") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("rbuild did not end within {limit:?}; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill on our own unreaped child.
    check(
        unsafe { libc::kill(child.id() as libc::pid_t, signal) },
        "kill",
    );
}

/// The store's snapshot directories (named by digests of their keys).
fn snapshots(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.root().join("snapshots"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Nothing of a run is left in the store: no snapshot beyond `before`, no scratch files,
/// no mount.
fn assert_run_left_nothing(store: &Store, before: &[String]) {
    let sandbox_scratch = store.root().join("run").join("sandbox");
    let leftovers: Vec<_> = std::fs::read_dir(&sandbox_scratch)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "scratch files left: {leftovers:?}");
    assert_eq!(snapshots(store), before, "a run snapshot was left");
    assert!(
        mounts_mentioning(store.root()).is_empty(),
        "mounts left: {:?}",
        mounts_mentioning(store.root())
    );
}

#[test]
fn interactive_forwards_stdin_and_without_it_stdin_is_empty() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let before = snapshots(&store);
    let out = store.rbuild_stdin(&["run", "--rm", "-i", "busybox", "cat"], "hello\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello\n");

    let out = store.rbuild_stdin(
        &[
            "run",
            "--rm",
            "--interactive",
            "busybox",
            "sh",
            "-c",
            "wc -l; exit 7",
        ],
        "a\nb\nc\n",
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "3");

    // -it needs a terminal here, as with Docker (piped input to a terminal never ends)...
    let out = store.rbuild_stdin(&["run", "--rm", "-it", "busybox", "sh"], "echo hi\n");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("not a TTY"), "{}", stderr(&out));
    // ...while -t alone gives the command a terminal whatever rbuild's stdin is.
    let out = store.rbuild_stdin(
        &["run", "--rm", "-t", "busybox", "sh", "-c", "tty; exit 4"],
        "",
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/dev/pts/0\r\n");

    // Without -i the input is not forwarded: cat reads /dev/null and ends at once.
    let out = store.rbuild_stdin(
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat; readlink /proc/self/fd/0",
        ],
        "not forwarded\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "/dev/null\n");
    assert_run_left_nothing(&store, &before);
}

#[test]
fn it_through_a_real_terminal_runs_a_shell_and_restores_the_terminal() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let before = snapshots(&store);
    let pty = Pty::open(33, 101);
    let cooked = pty.local_modes();
    assert_ne!(cooked & libc::ICANON, 0, "a new terminal starts cooked");
    let (mut child, pty) = spawn_on(&store, pty, &["run", "--rm", "-it", "busybox", "sh"]);
    let screen = pty.screen();
    let mut keyboard = pty.writer();
    let mut seen = String::new();
    keyboard
        .write_all(b"tty; stty size; echo $TERM; echo $((6*7)); exit 3\n")
        .unwrap();
    wait_for(&screen, &mut seen, "42", Duration::from_secs(30));
    let code = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(code, Some(3), "screen:\n{seen}");
    assert!(seen.contains("/dev/pts/0"), "{seen}");
    assert!(seen.contains("33 101"), "the window size: {seen}");
    assert!(seen.contains("xterm"), "TERM: {seen}");
    assert_eq!(pty.local_modes(), cooked, "the terminal is restored");
    assert_run_left_nothing(&store, &before);
}

#[test]
fn it_follows_resizes_and_sends_ctrl_c_to_the_container() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let before = snapshots(&store);
    let pty = Pty::open(20, 70);
    let cooked = pty.local_modes();
    let (mut child, pty) = spawn_on(&store, pty, &["run", "--rm", "-it", "busybox", "sh"]);
    let screen = pty.screen();
    let mut keyboard = pty.writer();
    let mut seen = String::new();
    keyboard.write_all(b"stty size\n").unwrap();
    wait_for(&screen, &mut seen, "20 70", Duration::from_secs(30));

    // A resize of rbuild's terminal (the kernel would send SIGWINCH to the foreground
    // group; rbuild is not in the test's terminal session, so the test sends it).
    pty.resize(50, 60);
    signal(&child, libc::SIGWINCH);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains("50 60") {
        assert!(Instant::now() < deadline, "resize never arrived: {seen}");
        keyboard.write_all(b"stty size\n").unwrap();
        if let Ok(chunk) = screen.recv_timeout(Duration::from_millis(300)) {
            seen.push_str(&chunk);
        }
    }

    // Ctrl-C interrupts the container's foreground command, not rbuild.
    keyboard.write_all(b"sleep 30\n").unwrap();
    wait_for(&screen, &mut seen, "sleep 30", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    keyboard.write_all(b"\x03").unwrap();
    keyboard.write_all(b"echo after-sleep-$?\n").unwrap();
    wait_for(
        &screen,
        &mut seen,
        "after-sleep-130",
        Duration::from_secs(10),
    );
    keyboard.write_all(b"exit 5\n").unwrap();
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(30)),
        Some(5),
        "{seen}"
    );
    assert_eq!(pty.local_modes(), cooked, "the terminal is restored");
    assert_run_left_nothing(&store, &before);
}

#[test]
fn sigterm_cancels_the_run_restores_the_terminal_and_leaves_nothing() {
    if !can_run() {
        return;
    }
    let store = Store::new();
    let before = snapshots(&store);
    // Plain: no terminal anywhere.
    let mut child = store
        .command(&["run", "busybox", "sh", "-c", "echo started; sleep 30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rbuild");
    let mut line = [0u8; 8];
    child
        .stdout
        .as_mut()
        .expect("stdout")
        .read_exact(&mut line)
        .expect("the command started");
    let started = Instant::now();
    signal(&child, libc::SIGTERM);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        Some(128 + libc::SIGTERM)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_run_left_nothing(&store, &before);

    // In raw mode: SIGINT from outside (Ctrl-C itself is a key there).
    let pty = Pty::open(24, 80);
    let cooked = pty.local_modes();
    let (mut child, pty) = spawn_on(&store, pty, &["run", "-it", "busybox", "sh"]);
    let screen = pty.screen();
    let mut keyboard = pty.writer();
    let mut seen = String::new();
    keyboard
        .write_all(b"echo $((40+2))-ready; sleep 30\n")
        .unwrap();
    wait_for(&screen, &mut seen, "42-ready", Duration::from_secs(30));
    signal(&child, libc::SIGINT);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        Some(128 + libc::SIGINT)
    );
    assert_eq!(pty.local_modes(), cooked, "the terminal is restored");
    assert_run_left_nothing(&store, &before);
}
