//! Process locks: an exclusive `flock` on a file that also records the holder's process id, for
//! the message another process shows. The kernel releases the lock when its holder exits, even
//! by `kill -9`, so a crash never leaves a store or a job locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

/// Held until dropped.
#[derive(Debug)]
pub struct ProcessLock {
    _file: File,
}

/// What to do when another process holds the lock.
pub enum WhenHeld<'a> {
    /// Give up: `Ok(Err(holder))`.
    GiveUp,
    /// Tell `waiting` the holder's process id, then wait for the lock.
    Wait(&'a dyn Fn(&str)),
}

/// Takes the lock at `path` (creating the file).
pub fn acquire(path: &Path, when_held: WhenHeld) -> std::io::Result<Result<ProcessLock, String>> {
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path).unwrap_or_default().trim().to_string();
            match when_held {
                WhenHeld::GiveUp => return Ok(Err(holder)),
                WhenHeld::Wait(waiting) => {
                    waiting(&holder);
                    file.lock()?;
                }
            }
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(Ok(ProcessLock { _file: file }))
}
