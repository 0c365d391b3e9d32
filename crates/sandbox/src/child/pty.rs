//! The command's pseudo-terminal: made by the init on the sandbox's own devpts instance (so
//! the command sees `/dev/pts/0`, as in Docker), its master sent to the parent, its slave
//! made the command's controlling terminal and standard streams. No allocation (see `child`).

use std::os::raw::{c_int, c_long};

use super::plan::TerminalPlan;
use super::report::Failure;
use super::sys::{self, SysResult};
use crate::error::SetupStep;

/// Opens a new terminal pair inside the sandbox, sets its size, gives the slave to
/// `owner_uid`, sends the master to the parent and returns the slave. Runs after
/// `pivot_root`, so `/dev/ptmx` is the sandbox's.
pub(super) fn create(plan: &TerminalPlan, owner_uid: u32) -> Result<c_int, Failure> {
    let result = open_pair(plan, owner_uid);
    sys::close(plan.socket_fd);
    result.map_err(|errno| Failure::new(SetupStep::CreateTerminal, errno))
}

fn open_pair(plan: &TerminalPlan, owner_uid: u32) -> SysResult<c_int> {
    let master = sys::open(c"/dev/ptmx", libc::O_RDWR | libc::O_NOCTTY, 0)?;
    let slave = (|| {
        let unlock: c_int = 0;
        sys::ioctl_ptr(master, libc::TIOCSPTLCK, &unlock)?;
        sys::ioctl_ptr(master, libc::TIOCSWINSZ, &plan.size)?;
        // TIOCGPTPEER opens the slave through the master, not by a path the image controls.
        let flags = (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as c_long;
        let slave = sys::ioctl_int(master, libc::TIOCGPTPEER, flags)?;
        let handed_over = (|| {
            // Like runc: the terminal belongs to the user the command runs as (group tty stays).
            if owner_uid != 0 {
                sys::fchown(slave, owner_uid, u32::MAX)?;
            }
            sys::send_fd(plan.socket_fd, master)
        })();
        match handed_over {
            Ok(()) => Ok(slave),
            Err(e) => {
                sys::close(slave);
                Err(e)
            }
        }
    })();
    sys::close(master);
    slave
}

/// In the command process: a new session whose controlling terminal is `slave`, which also
/// becomes stdin, stdout and stderr.
pub(super) fn attach(slave: c_int) -> Result<(), Failure> {
    let fail = |errno| Failure::new(SetupStep::AttachTerminal, errno);
    sys::setsid().map_err(fail)?;
    sys::ioctl_int(slave, libc::TIOCSCTTY, 0).map_err(fail)?;
    for target in 0..3 {
        sys::dup2(slave, target).map_err(fail)?;
    }
    Ok(())
}
