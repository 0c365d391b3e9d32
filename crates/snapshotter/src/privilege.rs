//! Which privileges this process has, for the choices that depend on them.

/// Whether this process is root of the initial user namespace (real root).
///
/// Inside a user namespace the effective uid may be 0 while `trusted.*` xattrs stay
/// forbidden; overlayfs there needs `userxattr` and `user.overlay.*` markers. The
/// initial namespace is recognised by its identity mapping of the whole uid range.
pub(crate) fn is_host_root() -> bool {
    if !rustix::process::geteuid().is_root() {
        return false;
    }
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => {
            let fields: Vec<&str> = map.split_whitespace().collect();
            fields == ["0", "0", "4294967295"]
        }
        // Without /proc we cannot tell; euid 0 is the best evidence left.
        Err(_) => true,
    }
}
