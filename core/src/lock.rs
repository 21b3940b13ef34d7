//! Locks that keep writers apart.
//!
//! On disk, a process lock: an exclusive `flock` on a file that also records the holder's process
//! id, for the message another process shows. The kernel releases the lock when its holder exits,
//! even by `kill -9`, so a crash never leaves a store or a job locked.
//!
//! In an object store, where there is no `flock` and writers may be on different machines, a
//! [`Lease`]: an object taken with a conditional put (create only if absent), renewed by its holder
//! while it writes, and taken over by another writer only when it expired or when its holder, on
//! the same machine, is no longer running. Renewals and take-overs are conditional on the object's
//! version, so two writers never both believe they hold it for longer than one lease.

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

/// How long a lease lasts unless renewed, and how often its holder renews it.
const LEASE: std::time::Duration = std::time::Duration::from_secs(60);
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// A writer's lease on an object-store lock object; released (deleted) when dropped.
pub struct Lease {
    shared: std::sync::Arc<Shared>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    objects: crate::location::Objects,
    relative: String,
    /// The version of the lock object this holder last wrote; `Err` once the lease was lost.
    version: std::sync::Mutex<Result<object_store::UpdateVersion, String>>,
    stopped: (std::sync::Mutex<bool>, std::sync::Condvar),
}

/// What a lock object says.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Holder {
    /// `host:pid`, for messages.
    holder: String,
    host: String,
    /// The kernel's boot id: a process id names a live process only within one boot.
    boot: Option<String>,
    pid: u32,
    /// Seconds since the epoch.
    expires: i64,
}

impl Holder {
    fn me() -> Holder {
        let host = read_trimmed("/proc/sys/kernel/hostname")
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown-host".into());
        let pid = std::process::id();
        let expires = chrono::Utc::now().timestamp() + LEASE.as_secs() as i64;
        Holder {
            holder: format!("{host}:{pid}"),
            host,
            boot: read_trimmed("/proc/sys/kernel/random/boot_id"),
            pid,
            expires,
        }
    }

    /// Expired, or held by a process of this machine's current boot that is gone.
    fn is_stale(&self) -> bool {
        if self.expires < chrono::Utc::now().timestamp() {
            return true;
        }
        let me = Holder::me();
        let here = self.host == me.host && self.boot.is_some() && self.boot == me.boot;
        here && self.pid != me.pid && !Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Lease {
    /// Takes the lease at `relative` under `objects`, telling `waiting` who holds it (once) and
    /// waiting while another writer does.
    pub fn acquire(
        objects: &crate::location::Objects,
        relative: &str,
        waiting: &dyn Fn(&str),
    ) -> crate::error::Result<Lease> {
        use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
        let path = objects.path(relative);
        let mut told = false;
        loop {
            let create = PutOptions { mode: PutMode::Create, ..Default::default() };
            match objects.run(objects.store().put_opts(&path, body(&Holder::me())?, create)) {
                Ok(put) => {
                    return Ok(Lease::start(
                        objects,
                        relative,
                        UpdateVersion { e_tag: put.e_tag, version: put.version },
                    ));
                }
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(objects.error(relative, e)),
            }
            let held = objects.run(async {
                let got = objects.store().get(&path).await?;
                let meta = got.meta.clone();
                Ok::<_, object_store::Error>((got.bytes().await?, meta))
            });
            let (text, meta) = match held {
                Ok(held) => held,
                // Released between the two requests: try again.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(objects.error(relative, e)),
            };
            // A lock object that is not one of ours is taken over like an expired one.
            let holder: Option<Holder> = serde_json::from_slice(&text).ok();
            if holder.as_ref().is_none_or(Holder::is_stale) {
                let current = UpdateVersion { e_tag: meta.e_tag, version: meta.version };
                let update = PutOptions { mode: PutMode::Update(current), ..Default::default() };
                match objects.run(objects.store().put_opts(&path, body(&Holder::me())?, update)) {
                    Ok(put) => {
                        return Ok(Lease::start(
                            objects,
                            relative,
                            UpdateVersion { e_tag: put.e_tag, version: put.version },
                        ));
                    }
                    // Another writer took it over first.
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => continue,
                    Err(e) => return Err(objects.error(relative, e)),
                }
            }
            if !told {
                waiting(holder.map(|h| h.holder).as_deref().unwrap_or("unknown"));
                told = true;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }

    fn start(objects: &crate::location::Objects, relative: &str, version: object_store::UpdateVersion) -> Lease {
        let shared = std::sync::Arc::new(Shared {
            objects: objects.clone(),
            relative: relative.to_string(),
            version: std::sync::Mutex::new(Ok(version)),
            stopped: (std::sync::Mutex::new(false), std::sync::Condvar::new()),
        });
        let renewing = shared.clone();
        let renewer = std::thread::Builder::new()
            .name("spoor-lease".into())
            .spawn(move || {
                let (stopped, wake) = &renewing.stopped;
                let mut stop = stopped.lock().unwrap_or_else(|e| e.into_inner());
                while !*stop {
                    stop = wake.wait_timeout(stop, RENEW_EVERY).unwrap_or_else(|e| e.into_inner()).0;
                    if !*stop && renewing.renew().is_err() {
                        break;
                    }
                }
            })
            .ok();
        Lease { shared, renewer }
    }

    /// Renews the lease, or says why this writer no longer holds it: called before a commit, so
    /// an ingest commits only while its lease has a full term left.
    pub fn confirm(&self) -> crate::error::Result<()> {
        self.shared.renew().map_err(crate::error::Error::User)
    }
}

impl Shared {
    fn renew(&self) -> Result<(), String> {
        use object_store::{PutMode, PutOptions, UpdateVersion};
        let mut version = self.version.lock().unwrap_or_else(|e| e.into_inner());
        let current = version.clone()?;
        let lost = |why: String| {
            format!(
                "{}/{}: this writer's lease on the store was lost ({why}); nothing of this ingest was committed",
                self.objects.url(),
                self.relative
            )
        };
        let update = PutOptions { mode: PutMode::Update(current), ..Default::default() };
        let holder = body(&Holder::me()).map_err(|e| e.to_string())?;
        match self.objects.run(self.objects.store().put_opts(&self.objects.path(&self.relative), holder, update)) {
            Ok(put) => {
                *version = Ok(UpdateVersion { e_tag: put.e_tag, version: put.version });
                Ok(())
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                let why = lost("another writer took it over after it expired".into());
                *version = Err(why.clone());
                Err(why)
            }
            // A failed request is not a lost lease: the next renewal may get through, and a
            // commit checks again.
            Err(e) => Err(lost(e.to_string())),
        }
    }
}

fn body(holder: &Holder) -> crate::error::Result<object_store::PutPayload> {
    let text = serde_json::to_vec(holder).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    Ok(object_store::PutPayload::from(text))
}

impl Drop for Lease {
    /// Stops renewing and removes the lock object, if it is still this writer's.
    fn drop(&mut self) {
        use object_store::ObjectStoreExt;
        let (stopped, wake) = &self.shared.stopped;
        *stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        let ours = self.shared.version.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (objects, path) = (&self.shared.objects, self.shared.objects.path(&self.shared.relative));
        if let Ok(ours) = ours {
            // Object stores have no conditional delete: compare, then delete.
            let still_ours = objects.run(objects.store().head(&path)).is_ok_and(|meta| meta.e_tag == ours.e_tag);
            if still_ours {
                let _ = objects.run(objects.store().delete(&path));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::{ObjectStoreExt, PutPayload};

    fn objects() -> crate::location::Objects {
        crate::location::Objects::for_tests(std::sync::Arc::new(object_store::memory::InMemory::new()))
    }

    fn write_holder(objects: &crate::location::Objects, holder: &Holder) {
        let text = serde_json::to_vec(holder).unwrap();
        objects.run(objects.store().put(&objects.path(".lock"), PutPayload::from(text))).unwrap();
    }

    fn read_holder(objects: &crate::location::Objects) -> Option<Holder> {
        let got = objects.run(async { objects.store().get(&objects.path(".lock")).await?.bytes().await });
        got.ok().map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn a_lease_is_held_until_dropped_and_then_removed() {
        let objects = objects();
        let lease = Lease::acquire(&objects, ".lock", &|_| panic!("nobody holds it")).unwrap();
        let holder = read_holder(&objects).unwrap();
        assert_eq!(holder.pid, std::process::id());
        assert!(!holder.is_stale(), "a live lease of this process is not stale");
        lease.confirm().unwrap();
        drop(lease);
        assert!(read_holder(&objects).is_none(), "released");
    }

    #[test]
    fn an_expired_lease_or_one_of_a_dead_process_is_taken_over() {
        let objects = objects();
        let expired = Holder { expires: chrono::Utc::now().timestamp() - 1, pid: 1, ..Holder::me() };
        write_holder(&objects, &expired);
        let lease = Lease::acquire(&objects, ".lock", &|_| panic!("an expired lease is not waited for")).unwrap();
        drop(lease);

        // Unexpired, on this machine, by a process id that no process has.
        let dead = Holder { pid: u32::MAX - 1, ..Holder::me() };
        assert!(dead.is_stale());
        write_holder(&objects, &dead);
        drop(Lease::acquire(&objects, ".lock", &|_| panic!("a dead holder is not waited for")).unwrap());

        // Unexpired, on another machine: waited for (here, until it expires: it is rewritten
        // as expired once the waiting writer says who it waits for).
        let elsewhere = Holder { host: "elsewhere".into(), holder: "elsewhere:7".into(), ..Holder::me() };
        assert!(!elsewhere.is_stale());
        write_holder(&objects, &elsewhere);
        let told = std::sync::Mutex::new(Vec::new());
        let lease = Lease::acquire(&objects, ".lock", &|holder| {
            told.lock().unwrap().push(holder.to_string());
            write_holder(&objects, &Holder { expires: 0, ..Holder { host: "elsewhere".into(), ..Holder::me() } });
        })
        .unwrap();
        assert_eq!(*told.lock().unwrap(), ["elsewhere:7"]);
        drop(lease);
    }

    #[test]
    fn a_lease_taken_over_is_lost_and_its_commit_refused() {
        let objects = objects();
        let lease = Lease::acquire(&objects, ".lock", &|_| {}).unwrap();
        // Another writer took it over (as after this one paused past its expiry).
        write_holder(&objects, &Holder { host: "elsewhere".into(), holder: "elsewhere:9".into(), ..Holder::me() });
        let refused = lease.confirm().unwrap_err().to_string();
        assert!(refused.contains("lease on the store was lost"), "{refused}");
        drop(lease);
        assert_eq!(read_holder(&objects).unwrap().host, "elsewhere", "the new holder's lease is left alone");
    }
}
