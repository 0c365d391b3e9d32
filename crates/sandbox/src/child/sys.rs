//! Thin wrappers over the raw Linux system calls the sandbox needs.
//!
//! Everything here is safe to call in a child created by a raw `clone` from a multi-threaded
//! parent: no allocation, no locks, no panics. Errors are plain errno values.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long, c_uint};

/// An errno value.
pub(crate) type Errno = i32;
pub(crate) type SysResult<T> = Result<T, Errno>;

// Mount API constants (linux/mount.h); libc does not export them all.
pub(crate) const FSOPEN_CLOEXEC: c_uint = 1;
pub(crate) const FSCONFIG_SET_FLAG: c_uint = 0;
pub(crate) const FSCONFIG_SET_STRING: c_uint = 1;
pub(crate) const FSCONFIG_CMD_CREATE: c_uint = 6;
pub(crate) const FSMOUNT_CLOEXEC: c_uint = 1;
pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub(crate) const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub(crate) const MOUNT_ATTR_NODEV: u64 = 0x4;
pub(crate) const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const MOVE_MOUNT_F_EMPTY_PATH: c_uint = 0x4;
const OPEN_TREE_CLONE: c_uint = 1;
const AT_RECURSIVE: c_uint = 0x8000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The current thread's errno.
pub(crate) fn errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn check(ret: c_long) -> SysResult<c_long> {
    if ret < 0 { Err(errno()) } else { Ok(ret) }
}

fn check_fd(ret: c_long) -> SysResult<c_int> {
    check(ret).map(|fd| fd as c_int)
}

/// Creates a child process like `fork`, with extra namespace flags, without running the C
/// library's fork handlers (which could deadlock on locks held by the parent's other threads).
/// Returns 0 in the child and the child's pid in the parent.
pub(crate) fn clone_process(namespace_flags: c_int) -> SysResult<libc::pid_t> {
    let flags = (namespace_flags | libc::SIGCHLD) as c_long;
    // SAFETY: a null stack makes clone behave like fork: the child runs on a copy of this stack.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            0 as c_long,
            0 as c_long,
            0 as c_long,
            0 as c_long,
        )
    };
    check(ret).map(|pid| pid as libc::pid_t)
}

pub(crate) fn exit_now(code: c_int) -> ! {
    // SAFETY: _exit never returns and runs no destructors or atexit handlers.
    unsafe { libc::_exit(code) }
}

pub(crate) fn close(fd: c_int) {
    // SAFETY: closing a descriptor we own; errors are irrelevant here.
    unsafe { libc::close(fd) };
}

pub(crate) fn write_all(fd: c_int, mut bytes: &[u8]) -> SysResult<()> {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length come from a valid slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let e = errno();
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Reads into `buf`, retrying on EINTR. Returns the count (0 at end of file).
pub(crate) fn read(fd: c_int, buf: &mut [u8]) -> SysResult<usize> {
    loop {
        // SAFETY: the pointer and length come from a valid mutable slice.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

pub(crate) fn open(path: &CStr, flags: c_int, mode: libc::mode_t) -> SysResult<c_int> {
    // SAFETY: path is NUL-terminated.
    check_fd(
        unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, mode as c_uint) } as c_long,
    )
}

pub(crate) fn openat(
    dirfd: c_int,
    path: &CStr,
    flags: c_int,
    mode: libc::mode_t,
) -> SysResult<c_int> {
    // SAFETY: path is NUL-terminated.
    check_fd(unsafe {
        libc::openat(
            dirfd,
            path.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as c_uint,
        )
    } as c_long)
}

/// Opens `path` below `root`, resolving every symlink and `..` as if `root` were `/`, so a
/// hostile root file system cannot point a mount at a host path.
pub(crate) fn open_in_root(root: c_int, path: &CStr, flags: c_int) -> SysResult<c_int> {
    // SAFETY: open_how is plain data.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: path is NUL-terminated and `how` is a valid open_how of the size passed.
    check_fd(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root as c_long,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

pub(crate) fn mkdirat(dirfd: c_int, name: &CStr, mode: libc::mode_t) -> SysResult<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mkdirat(dirfd, name.as_ptr(), mode) } as c_long).map(drop)
}

pub(crate) fn symlinkat(target: &CStr, dirfd: c_int, name: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dirfd, name.as_ptr()) } as c_long).map(drop)
}

pub(crate) fn mount_legacy(
    source: *const c_char,
    target: &CStr,
    fstype: *const c_char,
    flags: libc::c_ulong,
    data: *const c_char,
) -> SysResult<()> {
    // SAFETY: every pointer is null or NUL-terminated.
    check(unsafe { libc::mount(source, target.as_ptr(), fstype, flags, data.cast()) } as c_long)
        .map(drop)
}

/// Opens a new file system context (`fsopen`).
pub(crate) fn fsopen(fstype: &CStr) -> SysResult<c_int> {
    // SAFETY: fstype is NUL-terminated.
    check_fd(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

pub(crate) fn fsconfig_string(fs: c_int, key: &CStr, value: &CStr) -> SysResult<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0 as c_int,
        )
    })
    .map(drop)
}

pub(crate) fn fsconfig_flag(fs: c_int, key: &CStr) -> SysResult<()> {
    // SAFETY: key is NUL-terminated.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            std::ptr::null::<c_char>(),
            0 as c_int,
        )
    })
    .map(drop)
}

pub(crate) fn fsconfig_create(fs: c_int) -> SysResult<()> {
    // SAFETY: no pointers are passed.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<c_char>(),
            std::ptr::null::<c_char>(),
            0 as c_int,
        )
    })
    .map(drop)
}

/// Turns a configured file system context into a detached mount with `attrs`.
pub(crate) fn fsmount(fs: c_int, attrs: u64) -> SysResult<c_int> {
    // SAFETY: plain syscall on a descriptor.
    check_fd(unsafe { libc::syscall(libc::SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs as c_uint) })
}

/// Clones the mount at `path` (recursively if asked) into a detached mount.
pub(crate) fn open_tree_clone(path: &CStr, recursive: bool) -> SysResult<c_int> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as c_uint;
    if recursive {
        flags |= AT_RECURSIVE;
    }
    // SAFETY: path is NUL-terminated.
    check_fd(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })
}

/// Sets attributes (e.g. read-only) on a detached mount tree.
pub(crate) fn mount_setattr(tree: c_int, set: u64, recursive: bool) -> SysResult<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as c_uint;
    if recursive {
        flags |= AT_RECURSIVE;
    }
    // SAFETY: the empty path is NUL-terminated and attr is a valid mount_attr of the size given.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree,
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// Attaches a detached mount onto `to_path` relative to `to_dirfd` (empty path: the
/// descriptor itself).
pub(crate) fn move_mount(mount: c_int, to_dirfd: c_int, to_path: &CStr) -> SysResult<()> {
    let mut flags = MOVE_MOUNT_F_EMPTY_PATH;
    if to_path.is_empty() {
        flags |= 0x40; // MOVE_MOUNT_T_EMPTY_PATH
    }
    // SAFETY: both paths are NUL-terminated.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            mount,
            c"".as_ptr(),
            to_dirfd,
            to_path.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

/// Reads the kernel's error message for a failed file system context, if any, into `buf`.
pub(crate) fn fs_context_message(fs: c_int, buf: &mut [u8]) -> usize {
    read(fs, buf).unwrap_or(0)
}

pub(crate) fn pivot_root(new_root: &CStr, put_old: &CStr) -> SysResult<()> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
        .map(drop)
}

/// Marks every descriptor from `first` up as close-on-exec.
pub(crate) fn cloexec_from(first: c_uint) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    })
    .map(drop)
}

/// Returns a descriptor that becomes readable when process `pid` exits.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> SysResult<c_int> {
    // SAFETY: plain syscall.
    check_fd(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as c_uint) })
}

pub(crate) fn dup2(from: c_int, to: c_int) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::dup2(from, to) } as c_long).map(drop)
}

/// Starts a new session with no controlling terminal; the caller becomes its leader.
pub(crate) fn setsid() -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setsid() } as c_long).map(drop)
}

/// An `ioctl` whose argument is a pointer to `arg`.
pub(crate) fn ioctl_ptr<T>(fd: c_int, request: libc::Ioctl, arg: &T) -> SysResult<c_int> {
    // SAFETY: arg is a valid reference of the type the request expects (the callers' duty).
    check_fd(unsafe { libc::ioctl(fd, request, arg as *const T) } as c_long)
}

/// An `ioctl` with an integer argument.
pub(crate) fn ioctl_int(fd: c_int, request: libc::Ioctl, arg: c_long) -> SysResult<c_int> {
    // SAFETY: the request takes an integer argument (the callers' duty).
    check_fd(unsafe { libc::ioctl(fd, request, arg) } as c_long)
}

pub(crate) fn fchown(fd: c_int, uid: u32, gid: u32) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fchown(fd, uid, gid) } as c_long).map(drop)
}

/// Room for one descriptor's control message, 8-byte aligned as `cmsghdr` requires.
type FdControl = [u64; 4];

/// Sends descriptor `fd` over the unix socket `socket` (one payload byte carries it).
pub(crate) fn send_fd(socket: c_int, fd: c_int) -> SysResult<()> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control: FdControl = [0; 4];
    // SAFETY: msghdr is plain data; the control buffer is aligned and larger than
    // CMSG_SPACE(sizeof(int)) (24 bytes), so CMSG_FIRSTHDR is non-null and in bounds.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<c_int>() as u32) as usize;
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<c_int>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<c_int>(), fd);
        loop {
            let sent = libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL);
            if sent >= 0 {
                return Ok(());
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(e);
            }
        }
    }
}

/// Receives one descriptor sent with [`send_fd`], close-on-exec. `Ok(None)`: the sender
/// closed the socket without sending one.
pub(crate) fn recv_fd(socket: c_int) -> SysResult<Option<c_int>> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut control: FdControl = [0; 4];
    // SAFETY: as in send_fd; the kernel fills at most msg_controllen bytes.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of::<FdControl>();
        let received = loop {
            let n = libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC);
            if n >= 0 {
                break n;
            }
            let e = errno();
            if e != libc::EINTR {
                return Err(e);
            }
        };
        if received == 0 {
            return Ok(None);
        }
        let header = libc::CMSG_FIRSTHDR(&msg);
        if header.is_null()
            || (*header).cmsg_level != libc::SOL_SOCKET
            || (*header).cmsg_type != libc::SCM_RIGHTS
        {
            return Ok(None);
        }
        Ok(Some(std::ptr::read_unaligned(
            libc::CMSG_DATA(header).cast::<c_int>(),
        )))
    }
}

/// Closes every descriptor from 3 up except those in `keep` (unsorted, `-1` entries are
/// ignored). Uses only the stack.
pub(crate) fn close_all_except(keep: &[c_int; 6]) {
    let mut sorted = *keep;
    sorted.sort_unstable();
    let mut next: c_uint = 3;
    for fd in sorted {
        if fd < 0 || (fd as c_uint) < next {
            continue;
        }
        if (fd as c_uint) > next {
            // SAFETY: plain syscall; closing descriptors this process does not need.
            unsafe { libc::syscall(libc::SYS_close_range, next, fd as c_uint - 1, 0 as c_uint) };
        }
        next = fd as c_uint + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, next, c_uint::MAX, 0 as c_uint) };
}
