//! Advisory file locks (flock) shared by every rbuild process using one store.
//!
//! flock locks belong to the open file description, so they are released by the kernel
//! when a process dies: a killed rbuild never leaves a store locked.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

use crate::error::{IoContext, StoreError};

/// Whether a lock excludes every other holder or only exclusive ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many holders at once (readers, builders using the store).
    Shared,
    /// One holder (prune, extraction of one layer).
    Exclusive,
}

/// A held flock on a lock file; released on drop.
#[derive(Debug)]
pub struct FileLock {
    // Kept open for the life of the lock; closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// Blocks until the lock on `path` (created if missing) is held in `mode`.
    pub fn acquire(path: &Path, mode: LockMode) -> Result<Self, StoreError> {
        let file = open_lock_file(path)?;
        let op = match mode {
            LockMode::Shared => FlockOperation::LockShared,
            LockMode::Exclusive => FlockOperation::LockExclusive,
        };
        flock(&file, op)
            .map_err(io::Error::from)
            .ctx("lock", path)?;
        Ok(FileLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// Takes the lock if nobody holds a conflicting one, without waiting.
    pub fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<Self>, StoreError> {
        let file = open_lock_file(path)?;
        let op = match mode {
            LockMode::Shared => FlockOperation::NonBlockingLockShared,
            LockMode::Exclusive => FlockOperation::NonBlockingLockExclusive,
        };
        match flock(&file, op) {
            Ok(()) => Ok(Some(FileLock {
                _file: file,
                path: path.to_path_buf(),
            })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(StoreError::io("lock", path, e.into())),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .ctx("open lock file", path)
}

/// Takes an exclusive, non-blocking flock on an already open file; `true` if taken.
pub(crate) fn try_lock_open_file(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
