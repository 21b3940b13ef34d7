//! Where a store lives: a directory (the default), or a prefix in an object store named by a URL
//! (`s3://bucket/prefix`, `gs://…`, `az://…`), reached through `object_store`, the crate
//! DataFusion itself reads with.
//!
//! The store needs only a few operations of its location, defined here once for both: list the
//! objects under a path, read one, create one only if it does not exist (the commit point), rename
//! (a rename on disk; a copy and a delete in an object store), delete, and upload a file written
//! locally. Paths are relative to the store's root, `/`-separated, as the manifest records them.
//!
//! Credentials for object stores come from the environment, as each cloud's own tools read them
//! (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `AWS_REGION`, `GOOGLE_SERVICE_ACCOUNT`,
//! `AZURE_STORAGE_ACCOUNT_NAME`, instance and workload identities, and the rest `object_store`
//! documents), never from hunt or job files.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme, PutMode, PutOptions, PutPayload};
use url::Url;

use crate::error::{Error, Result};

/// A store's root.
#[derive(Debug, Clone)]
pub enum Location {
    Directory(PathBuf),
    Objects(Objects),
}

/// A prefix in an object store.
#[derive(Debug, Clone)]
pub struct Objects {
    /// The store's URL as the user wrote it, without a trailing `/`: what messages name.
    url: String,
    /// The bucket's URL (`s3://bucket`), under which DataFusion finds `objects`.
    bucket: Url,
    objects: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

/// One object (or file) under the store's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Relative to the store's root, `/`-separated.
    pub path: String,
    pub size: u64,
}

/// What [`Location::create_new`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// Something was there already; it is left as it was.
    AlreadyExists,
}

/// Object-store requests run here, whatever runtime (or none) the caller is on: the HTTP
/// clients' connections belong to this runtime, which lives as long as the process, so a store
/// opened under one runtime and read under another (a notebook's calls, a job's cycles) keeps
/// working.
static IO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("spoor-io")
        .enable_all()
        .build()
        .expect("cannot start the object store's I/O runtime")
});

/// Runs an object-store request to its end from synchronous code, also from inside an async
/// runtime (on a scoped thread, since a runtime cannot block on another from its own threads).
fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return IO.block_on(future);
    }
    std::thread::scope(|scope| match scope.spawn(|| IO.block_on(future)).join() {
        Ok(output) => output,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Whether `text` names a store by URL (`s3://…`, `file:///…`) rather than by path.
pub fn is_url(text: &Path) -> bool {
    url_of(text).is_some()
}

fn url_of(text: &Path) -> Option<Url> {
    text.to_str().filter(|t| t.contains("://")).and_then(|t| Url::parse(t).ok())
}

impl Location {
    /// A plain path or `file://` URL is a directory; `s3://`, `gs://`, `az://` (and the other
    /// spellings `object_store` knows for them) are object stores.
    pub fn parse(text: &Path) -> Result<Location> {
        let Some(url) = url_of(text) else {
            return Ok(Location::Directory(text.to_path_buf()));
        };
        if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|()| Error::User(format!("{url}: not a file path")))?;
            return Ok(Location::Directory(path));
        }
        let unsupported = || {
            Error::User(format!(
                "{url}: a store is a directory or an s3://, gs:// or az:// URL (scheme `{}` is not one of them)",
                url.scheme()
            ))
        };
        let (scheme, prefix) = ObjectStoreScheme::parse(&url).map_err(|_| unsupported())?;
        let connector = object_store::client::SpawnedReqwestConnector::new(IO.handle().clone());
        let built: object_store::Result<Arc<dyn ObjectStore>> = match scheme {
            ObjectStoreScheme::AmazonS3 => {
                crate::aws_profile::apply(object_store::aws::AmazonS3Builder::from_env(), |name| {
                    std::env::var(name).ok()
                })
                .map_err(|e| Error::User(format!("{url}: {e}")))?
                .with_url(url.as_str())
                .with_http_connector(connector)
                .build()
                .map(|s| Arc::new(s) as _)
            }
            ObjectStoreScheme::GoogleCloudStorage => object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .with_http_connector(connector)
                .build()
                .map(|s| Arc::new(s) as _),
            ObjectStoreScheme::MicrosoftAzure => object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .with_http_connector(connector)
                .build()
                .map(|s| Arc::new(s) as _),
            _ => return Err(unsupported()),
        };
        let objects = built.map_err(|e| Error::User(format!("{url}: cannot open this object store: {e}")))?;
        let bucket = Url::parse(&url[..url::Position::BeforePath]).map_err(|e| Error::Internal(e.to_string()))?;
        let prefix = ObjectPath::parse(prefix).map_err(|e| Error::User(format!("{url}: {e}")))?;
        let url = url.as_str().trim_end_matches('/').to_string();
        Ok(Location::Objects(Objects { url, bucket, objects, prefix }))
    }

    /// The directory, for a store on disk.
    pub fn directory(&self) -> Option<&Path> {
        match self {
            Location::Directory(root) => Some(root),
            Location::Objects(_) => None,
        }
    }

    /// What messages call `relative`: a path on disk, or a URL.
    pub fn display(&self, relative: &str) -> PathBuf {
        match self {
            Location::Directory(root) if relative.is_empty() => root.clone(),
            Location::Directory(root) => root.join(relative),
            Location::Objects(o) => o.display(relative),
        }
    }

    /// The URL DataFusion lists a directory of the store by (with a trailing `/`).
    pub fn url_of_directory(&self, relative: &str) -> Result<String> {
        match self {
            Location::Directory(root) => {
                let dir = root.join(relative);
                let absolute = dir.canonicalize().map_err(|e| Error::io(&dir, e))?;
                Ok(format!("{}/", absolute.display()))
            }
            Location::Objects(o) => Ok(format!("{}/{relative}/", o.url)),
        }
    }

    /// Lets DataFusion's reads of this store go through its object store client.
    pub fn register_with(&self, runtime: &datafusion::execution::runtime_env::RuntimeEnv) {
        if let Location::Objects(o) = self {
            runtime.register_object_store(&o.bucket, o.objects.clone());
        }
    }

    /// Creates the store's root if it is a directory (an object store has no directories).
    pub fn create(&self) -> Result<()> {
        match self {
            Location::Directory(root) => fs::create_dir_all(root).map_err(|e| Error::io(root, e)),
            Location::Objects(_) => Ok(()),
        }
    }

    /// Whether the store's root exists: the directory, or (in an object store, where a prefix
    /// exists only through its objects) a committed ingest.
    pub fn exists(&self) -> Result<bool> {
        match self {
            Location::Directory(root) => Ok(root.is_dir()),
            Location::Objects(_) => Ok(!self.list(crate::manifest::DIR)?.is_empty()),
        }
    }

    /// Whether the file or object `relative` is there.
    pub fn contains(&self, relative: &str) -> Result<bool> {
        match self {
            Location::Directory(root) => Ok(root.join(relative).is_file()),
            Location::Objects(o) => match block_on(o.objects.head(&o.path(relative))) {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(o.error(relative, e)),
            },
        }
    }

    /// Every file or object under `relative` (recursively), in path order. A missing directory
    /// is empty.
    pub fn list(&self, relative: &str) -> Result<Vec<Listed>> {
        let mut out = match self {
            Location::Directory(root) => {
                let mut out = Vec::new();
                list_directory(root, &root.join(relative), &mut out)?;
                out
            }
            Location::Objects(o) => {
                let under = o.path(relative);
                let listed: Vec<object_store::ObjectMeta> =
                    block_on(o.objects.list(Some(&under)).try_collect()).map_err(|e| o.error(relative, e))?;
                listed
                    .into_iter()
                    .filter_map(|meta| {
                        let path = meta.location.prefix_match(&o.prefix)?.map(|p| p.as_ref().to_string());
                        Some(Listed { path: path.collect::<Vec<_>>().join("/"), size: meta.size })
                    })
                    .collect()
            }
        };
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    pub fn read(&self, relative: &str) -> Result<bytes::Bytes> {
        match self {
            Location::Directory(root) => {
                let path = root.join(relative);
                fs::read(&path).map(bytes::Bytes::from).map_err(|e| Error::io(&path, e))
            }
            Location::Objects(o) => block_on(async { o.objects.get(&o.path(relative)).await?.bytes().await })
                .map_err(|e| o.error(relative, e)),
        }
    }

    /// Writes `contents` at `relative` unless something is there already, durably: on disk a
    /// temporary file, synced, then linked into place (a link, unlike a rename, fails when the
    /// target exists) and the directory synced; in an object store a conditional put.
    pub fn create_new(&self, relative: &str, contents: Vec<u8>) -> Result<Created> {
        match self {
            Location::Directory(root) => {
                let target = root.join(relative);
                let dir = target.parent().unwrap_or(root);
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                let mut temp = tempfile::NamedTempFile::with_prefix_in(crate::store::TEMP_PREFIX, dir)
                    .map_err(|e| Error::io(dir, e))?;
                temp.write_all(&contents)
                    .and_then(|()| temp.as_file().sync_all())
                    .map_err(|e| Error::io(&target, e))?;
                let created = match fs::hard_link(temp.path(), &target) {
                    Ok(()) => Created::Created,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Created::AlreadyExists,
                    Err(e) => return Err(Error::io(&target, e)),
                };
                File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
                Ok(created)
            }
            Location::Objects(o) => {
                let options = PutOptions { mode: PutMode::Create, ..Default::default() };
                match block_on(o.objects.put_opts(&o.path(relative), PutPayload::from(contents), options)) {
                    Ok(_) => Ok(Created::Created),
                    Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
                    Err(e) => Err(o.error(relative, e)),
                }
            }
        }
    }

    /// Moves `from` to `to` (replacing it). `Ok(false)`: `from` was gone and `to` is there, as
    /// when another process finished the move first.
    pub fn rename(&self, from: &str, to: &str) -> Result<bool> {
        match self {
            Location::Directory(root) => {
                let (source, target) = (root.join(from), root.join(to));
                match fs::rename(&source, &target) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && target.exists() => return Ok(false),
                    Err(e) => return Err(Error::io(&target, e)),
                }
                if let Some(dir) = target.parent() {
                    // Persist the rename itself, not only the file's bytes.
                    let _ = File::open(dir).and_then(|d| d.sync_all());
                }
                Ok(true)
            }
            Location::Objects(o) => {
                let (source, target) = (o.path(from), o.path(to));
                match block_on(o.objects.rename(&source, &target)) {
                    Ok(()) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) if block_on(o.objects.head(&target)).is_ok() => Ok(false),
                    Err(e) => Err(o.error(to, e)),
                }
            }
        }
    }

    /// Removes `relative`; one that is already gone is not an error.
    pub fn delete(&self, relative: &str) -> Result<()> {
        match self {
            Location::Directory(root) => match fs::remove_file(root.join(relative)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&root.join(relative), e)),
                _ => Ok(()),
            },
            Location::Objects(o) => match block_on(o.objects.delete(&o.path(relative))) {
                Err(e) if !matches!(e, object_store::Error::NotFound { .. }) => Err(o.error(relative, e)),
                _ => Ok(()),
            },
        }
    }

    /// Copies the local file `local` to `relative` in the object store (in parts, a few in
    /// flight, so a large file is never held in memory whole). On disk there is nothing to do:
    /// files are written in place.
    pub fn upload(&self, local: &Path, relative: &str) -> Result<()> {
        let Location::Objects(o) = self else { return Ok(()) };
        const PART: usize = 8 * 1024 * 1024;
        let mut file = File::open(local).map_err(|e| Error::io(local, e))?;
        let target = o.path(relative);
        block_on(async {
            let upload = o.objects.put_multipart(&target).await.map_err(|e| o.error(relative, e))?;
            let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buffer = vec![0; PART];
            loop {
                let read = std::io::Read::read(&mut file, &mut buffer).map_err(|e| Error::io(local, e))?;
                if read == 0 {
                    break;
                }
                parts.wait_for_capacity(2).await.map_err(|e| o.error(relative, e))?;
                parts.write(&buffer[..read]);
            }
            parts.finish().await.map_err(|e| o.error(relative, e))?;
            Ok(())
        })
    }
}

impl Objects {
    /// An object store at `memory://test`, for tests of what is built on it.
    #[cfg(test)]
    pub fn for_tests(objects: Arc<dyn ObjectStore>) -> Objects {
        let bucket = Url::parse("memory://test").expect("a valid URL");
        Objects { url: "memory://test".into(), bucket, objects, prefix: ObjectPath::from("store") }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    pub fn path(&self, relative: &str) -> ObjectPath {
        relative.split('/').filter(|part| !part.is_empty()).fold(self.prefix.clone(), |path, part| path.join(part))
    }

    pub fn error(&self, relative: &str, e: object_store::Error) -> Error {
        let kind = match &e {
            object_store::Error::NotFound { .. } => std::io::ErrorKind::NotFound,
            object_store::Error::AlreadyExists { .. } => std::io::ErrorKind::AlreadyExists,
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                std::io::ErrorKind::PermissionDenied
            }
            _ => std::io::ErrorKind::Other,
        };
        Error::io(&self.display(relative), std::io::Error::new(kind, e))
    }

    /// `relative` as a URL, for messages.
    fn display(&self, relative: &str) -> PathBuf {
        if relative.is_empty() { PathBuf::from(&self.url) } else { PathBuf::from(format!("{}/{relative}", self.url)) }
    }

    /// Runs a request to its end (see [`block_on`]).
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        block_on(future)
    }
}

fn list_directory(root: &Path, dir: &Path, out: &mut Vec<Listed>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
        Ok(entries) => entries,
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            list_directory(root, &path, out)?;
        } else if kind.is_file() {
            let size = entry.metadata().map_err(|e| Error::io(&path, e))?.len();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push(Listed { path: relative.join("/"), size });
        }
    }
    Ok(())
}

/// DataFusion's object-store registry, which also opens `s3://`, `gs://` and `az://` buckets
/// when a plan first names them (credentials from the environment, as [`Location::parse`]): what
/// a cluster's scheduler and executors read a store with, since a plan sent to them names its
/// files by URL but brings no client along.
#[derive(Debug, Default)]
pub struct ObjectStores {
    known: datafusion::execution::object_store::DefaultObjectStoreRegistry,
}

impl datafusion::execution::object_store::ObjectStoreRegistry for ObjectStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::common::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        let bucket = &url[..url::Position::BeforePath];
        match Location::parse(Path::new(bucket)) {
            Ok(Location::Objects(o)) => {
                self.known.register_store(&o.bucket, o.objects.clone());
                Ok(o.objects)
            }
            Ok(Location::Directory(_)) => self.known.get_store(url),
            Err(e) => Err(datafusion::error::DataFusionError::External(Box::new(e))),
        }
    }
}
