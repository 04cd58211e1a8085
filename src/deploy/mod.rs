//! `relsite deploy`: publishes a built output folder to object storage, uploading only what
//! changed.
//!
//! The target holds a deployment record, `.relsite-deploy.json` below the site's prefix: every
//! object relsite put there, with the SHA-256 and size of its bytes. A deploy compares the output
//! with it by content, never by time, uploads what is new or changed, and deletes only objects
//! the record names, so other keys in the bucket are never touched. Without a record (a first
//! deploy, or one that cannot be read) every file is uploaded and nothing is deleted.
//!
//! Uploads go in an order that keeps the live site whole: IPAs, icons and the theme's files
//! first, then manifests, then build pages, then everything that links to them; the record after that, and deletions last. A deploy stopped at any point leaves pages
//! that link only to objects that exist, and running it again finishes the job.

mod target;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use target::Target;

use crate::layout::{
    HEADERS_FILE, NOT_FOUND_PAGE, ROBOTS_FILE, SHARE_DIR, is_index_path, is_token,
};
use crate::published::INDEX_FILE;

/// The deployment record's name below the prefix.
pub const RECORD: &str = ".relsite-deploy.json";

/// Changes whenever the record changes meaning; a record of a later format is not touched.
const FORMAT: u32 = 1;

/// Files up to this size are uploaded in one request; larger ones in parts of this size.
const PART: usize = 8 * 1024 * 1024;

/// Uploads in flight at once.
const CONCURRENT: usize = 8;

/// What relsite put in the target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub relsite: String,
    pub format: u32,
    /// By key below the prefix.
    pub objects: BTreeMap<String, Object>,
    /// Keys to delete that a stopped deploy did not get to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_delete: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    /// SHA-256 of the bytes, lowercase hex; `None` while an upload may be under way.
    pub sha256: Option<String>,
    pub size: u64,
}

/// In which order a file goes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// IPAs, icons and the theme's files: what manifests and pages link to.
    Files,
    /// A build's manifest, which names its IPA and icons.
    Manifests,
    /// A build's own page.
    BuildPages,
    /// An app's `latest/` and further list pages.
    AppSubPages,
    /// An app's page and feeds, which link to the above.
    AppPages,
    /// The catalog page, the site feed, the not-found page and the hosts' files.
    SitePages,
    /// `catalog.json`, the catalog's state: once everything it lists is up.
    Index,
}

impl Stage {
    /// The stage of the output file at `path`: a build's files lie at `<app>/<build>/<file>`
    /// (or `i/<token>/<file>` for secret install files); `<app>/latest/` and `<app>/page/` hold
    /// pages of the app; below `s/<token>/`, files are staged as they would be at the root.
    pub fn of(path: &str) -> Stage {
        let parts: Vec<&str> = path.split('/').collect();
        let name = parts.last().copied().unwrap_or_default();
        let page = name.ends_with(".html")
            || matches!(
                name,
                "feed.xml" | "releases.json" | "latest.json" | HEADERS_FILE | ROBOTS_FILE
            );
        let app_folder = |part: &str| part == "latest" || part == "page";
        if let [SHARE_DIR, token, rest @ ..] = parts.as_slice()
            && is_token(token)
            && !rest.is_empty()
        {
            // Below a secret folder, files are what they would be at the root.
            return Stage::of(&rest.join("/"));
        }
        match parts.as_slice() {
            [INDEX_FILE] => Stage::Index,
            [_] if page || name == NOT_FOUND_PAGE => Stage::SitePages,
            [_, build, _] if !app_folder(build) => match name {
                "index.html" => Stage::BuildPages,
                "manifest.plist" => Stage::Manifests,
                _ => Stage::Files,
            },
            [_, folder, _, ..] if app_folder(folder) && page => Stage::AppSubPages,
            [_, _] if page => Stage::AppPages,
            _ => Stage::Files,
        }
    }

    /// Every stage, in the order uploads go.
    pub const ORDER: [Stage; 7] = [
        Stage::Files,
        Stage::Manifests,
        Stage::BuildPages,
        Stage::AppSubPages,
        Stage::AppPages,
        Stage::SitePages,
        Stage::Index,
    ];
}

/// Content type and caching of an object, by its file name: per-build files (IPAs, icons)
/// never change at their path and are cached for good; manifests, pages and feeds briefly.
/// The same table as `_headers`.
pub fn headers_of(path: &str) -> (&'static str, &'static str) {
    const SHORT: &str = "public, max-age=300";
    const FOREVER: &str = "public, max-age=31536000, immutable";
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("ipa") => ("application/octet-stream", FOREVER),
        Some("plist") => ("text/xml; charset=utf-8", SHORT),
        Some("png") => ("image/png", FOREVER),
        Some("html") => ("text/html; charset=utf-8", SHORT),
        Some("json") => ("application/json", SHORT),
        Some("xml") => ("application/atom+xml", SHORT),
        Some("txt") => ("text/plain; charset=utf-8", SHORT),
        Some("css") => ("text/css; charset=utf-8", SHORT),
        Some("js" | "mjs") => ("text/javascript; charset=utf-8", SHORT),
        Some("svg") => ("image/svg+xml", SHORT),
        Some("jpg" | "jpeg") => ("image/jpeg", SHORT),
        Some("gif") => ("image/gif", SHORT),
        Some("webp") => ("image/webp", SHORT),
        Some("ico") => ("image/x-icon", SHORT),
        Some("woff2") => ("font/woff2", SHORT),
        Some("woff") => ("font/woff", SHORT),
        Some("ttf") => ("font/ttf", SHORT),
        Some("webmanifest") => ("application/manifest+json", SHORT),
        _ if name == HEADERS_FILE => ("text/plain; charset=utf-8", SHORT),
        _ => ("application/octet-stream", SHORT),
    }
}

/// A file of the output to publish.
#[derive(Debug, Clone)]
pub struct LocalFile {
    /// Below the output folder, with `/`.
    pub path: String,
    pub file: PathBuf,
    pub size: u64,
    pub sha256: String,
}

/// What is known of output files: each one's stamp and SHA-256 when it was last hashed.
pub type Hashes = BTreeMap<String, (crate::fs::Stamp, String)>;

/// Every file of the output folder but relsite's marker, hashed, sorted by path: a file whose
/// stamp (size, modification time, inode) is the one in `known` is not read again. Returns the
/// hashes to keep for the next time too.
pub fn local_files(output: &Path, known: &Hashes) -> Result<(Vec<LocalFile>, Hashes), String> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(output).sort_by_file_name() {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(output)
            .map_err(|e| e.to_string())?;
        let path = crate::diag::display_path(rel);
        if path == crate::write::MARKER {
            continue;
        }
        found.push((path, entry.path().to_path_buf()));
    }
    let hashed: Vec<(LocalFile, Option<crate::fs::Stamp>)> = found
        .into_par_iter()
        .map(|(path, file)| {
            let before = crate::fs::Stamp::of(&file);
            if let (Some(stamp), Some((known, sha256))) = (before, known.get(&path))
                && stamp == *known
            {
                let size = stamp.size;
                let sha256 = sha256.clone();
                let local = LocalFile {
                    path,
                    file,
                    size,
                    sha256,
                };
                return Ok((local, before));
            }
            let (size, sha256) =
                hash_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            // Kept for the next time only when the file did not change while it was read.
            let after = crate::fs::Stamp::of(&file).filter(|s| Some(*s) == before);
            let local = LocalFile {
                path,
                file,
                size,
                sha256,
            };
            Ok((local, after))
        })
        .collect::<Result<_, String>>()?;
    let hashes = hashed
        .iter()
        .filter_map(|(f, stamp)| Some((f.path.clone(), ((*stamp)?, f.sha256.clone()))))
        .collect();
    Ok((hashed.into_iter().map(|(f, _)| f).collect(), hashes))
}

/// The MD5 of a file's bytes, lowercase hex, as an S3 ETag gives it.
fn md5_file(file: &Path) -> std::io::Result<String> {
    use md5::Digest;
    use std::io::Read;
    let mut reader = crate::fs::open_regular(file)?;
    let mut hasher = md5::Md5::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::text::hex(&hasher.finalize()))
}

fn hash_file(file: &Path) -> std::io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut reader = crate::fs::open_regular(file)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    let mut size = 0;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, crate::text::hex(&hasher.finalize())))
}

/// What a deploy does: uploads by stage, what it keeps, deletes, and the record it leaves.
#[derive(Debug)]
pub struct Plan {
    pub uploads: Vec<(Stage, LocalFile)>,
    pub kept: usize,
    pub deletes: Vec<String>,
    /// The record before, `None` when there was none.
    pub previous: Option<Record>,
    pub record: Record,
}

impl Plan {
    /// Compares the output with the record of the last deploy. `elsewhere` are files of the
    /// catalog that are published but not in the output (the IPAs and icons of builds not at
    /// hand): kept as they are, never uploaded or deleted.
    pub fn new(files: Vec<LocalFile>, previous: Option<Record>, elsewhere: &[String]) -> Plan {
        let mut record = Record {
            relsite: env!("CARGO_PKG_VERSION").to_string(),
            format: FORMAT,
            objects: BTreeMap::new(),
            pending_delete: Vec::new(),
        };
        let mut uploads = Vec::new();
        let mut kept = 0;
        for file in files {
            let object = Object {
                sha256: Some(file.sha256.clone()),
                size: file.size,
            };
            let same = previous
                .as_ref()
                .and_then(|p| p.objects.get(&file.path))
                .is_some_and(|old| *old == object);
            if same {
                kept += 1;
            } else {
                uploads.push((Stage::of(&file.path), file.clone()));
            }
            record.objects.insert(file.path, object);
        }
        // Files published before stay recorded as relsite's; a path the catalog lists that no
        // record has is not claimed, so it is never deleted.
        for path in elsewhere {
            if record.objects.contains_key(path) {
                continue;
            }
            if let Some(object) = previous.as_ref().and_then(|p| p.objects.get(path)) {
                kept += 1;
                record.objects.insert(path.clone(), object.clone());
            }
        }
        uploads.sort_by(|(a, fa), (b, fb)| a.cmp(b).then_with(|| fa.path.cmp(&fb.path)));
        let mut deletes: Vec<String> = previous
            .iter()
            .flat_map(|p| p.objects.keys().chain(&p.pending_delete))
            .filter(|key| !record.objects.contains_key(*key))
            .cloned()
            .collect();
        // Pages before what they link to: the reverse of the upload order.
        deletes.sort_by(|a, b| Stage::of(b).cmp(&Stage::of(a)).then_with(|| a.cmp(b)));
        deletes.dedup();
        Plan {
            uploads,
            kept,
            deletes,
            previous,
            record,
        }
    }

    /// Without a record, compares each file to upload with the object at its key: one of the
    /// same size whose ETag is the MD5 of the file's bytes is the same, and is kept (and
    /// recorded). `remote` is the target's listing, by key: size and ETag.
    pub fn keep_matching(&mut self, remote: &BTreeMap<String, (u64, String)>) {
        let same: Vec<bool> = self
            .uploads
            .par_iter()
            .map(|(_, file)| {
                remote.get(&file.path).is_some_and(|(size, etag)| {
                    *size == file.size
                        && md5_file(&file.file).is_ok_and(|md5| *etag.trim_matches('"') == md5)
                })
            })
            .collect();
        let mut same = same.into_iter();
        let before = self.uploads.len();
        self.uploads.retain(|_| !same.next().unwrap_or(false));
        self.kept += before - self.uploads.len();
    }

    /// Without a record, takes as relsite's the files of published builds that the catalog
    /// lists and the target holds: the catalog relsite wrote is the only word left on them.
    pub fn claim_published(
        &mut self,
        elsewhere: &[String],
        remote: &BTreeMap<String, (u64, String)>,
    ) {
        for path in elsewhere {
            if self.record.objects.contains_key(path) {
                continue;
            }
            if let Some((size, _)) = remote.get(path) {
                self.kept += 1;
                self.record.objects.insert(
                    path.clone(),
                    Object {
                        sha256: None,
                        size: *size,
                    },
                );
            }
        }
    }

    pub fn upload_bytes(&self) -> u64 {
        self.uploads.iter().map(|(_, f)| f.size).sum()
    }

    /// Whether the deploy changes nothing in the target.
    pub fn is_empty(&self) -> bool {
        self.uploads.is_empty() && self.deletes.is_empty() && self.previous.is_some()
    }
}

/// Why a deploy stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("{url}: {why}")]
    Store { url: String, why: String },
    #[error(
        "{url}: its deployment record was written by relsite {relsite} (format {format}); this relsite writes format {FORMAT}: update relsite"
    )]
    Newer {
        url: String,
        relsite: String,
        format: u32,
    },
}

/// A deploy to one target.
pub struct Deploy {
    target: Target,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    /// Whether objects are given a content type and caching.
    headers: bool,
    runtime: tokio::runtime::Runtime,
}

impl Deploy {
    pub fn open(target: &Target) -> Result<Deploy, DeployError> {
        // TLS with the ring provider, the one ureq uses too; set once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (store, prefix) = target.open().map_err(|why| DeployError::Store {
            url: target.url.to_string(),
            why,
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| DeployError::Store {
                url: target.url.to_string(),
                why: format!("cannot start the uploader: {e}"),
            })?;
        Ok(Deploy {
            target: target.clone(),
            store,
            prefix,
            headers: target.has_headers(),
            runtime,
        })
    }

    fn key(&self, path: &str) -> StorePath {
        let mut key = self.prefix.clone();
        for part in path.split('/') {
            key = key.clone().join(part);
        }
        key
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeployError {
        DeployError::Store {
            url: self.target.url.to_string(),
            why: format!("{what}: {e}"),
        }
    }

    /// The record in the target: `None` when there is none or it cannot be read (then every
    /// file is uploaded and nothing deleted); an error when the store cannot be reached or the
    /// record is of a newer relsite.
    pub fn record(&self) -> Result<(Option<Record>, Option<String>), DeployError> {
        let key = self.key(RECORD);
        let got = self
            .runtime
            .block_on(async { self.store.get(&key).await?.bytes().await });
        let bytes = match got {
            Ok(bytes) => bytes,
            Err(object_store::Error::NotFound { .. }) => return Ok((None, None)),
            Err(e) => return Err(self.fail("cannot read the deployment record", e)),
        };
        #[derive(Deserialize)]
        struct Version {
            relsite: String,
            format: u32,
        }
        if let Ok(v) = serde_json::from_slice::<Version>(&bytes)
            && v.format > FORMAT
        {
            return Err(DeployError::Newer {
                url: self.target.url.to_string(),
                relsite: v.relsite,
                format: v.format,
            });
        }
        match serde_json::from_slice::<Record>(&bytes) {
            Ok(record) if record.format == FORMAT => Ok((Some(record), None)),
            Ok(_) | Err(_) => Ok((
                None,
                Some(format!(
                    "{}: the deployment record {RECORD} cannot be read: every file is compared with the object at its key (uploaded where that cannot be told), and nothing is deleted",
                    self.target.url
                )),
            )),
        }
    }

    /// The builds of the catalog published in the target, from its index at `index` (a path
    /// below the prefix); none when there is no index yet (a first deploy).
    /// `recorded`: the keys the target's deployment record lists. When they hold no index at
    /// `index` but one at another index path (the site got a secret, or a new one), that one is
    /// read; when they list objects but no index at all, that is an error, not a first deploy.
    pub fn published(
        &self,
        index: &str,
        recorded: &[&str],
    ) -> Result<Vec<crate::published::PublishedBuild>, DeployError> {
        let index = if recorded.contains(&index) {
            index
        } else {
            recorded
                .iter()
                .copied()
                .find(|key| is_index_path(key))
                .unwrap_or(index)
        };
        let key = self.key(index);
        let got = self.runtime.block_on(async {
            let result = self.store.get(&key).await?;
            if result.meta.size > crate::published::MAX_INDEX_BYTES {
                return Ok(None);
            }
            result.bytes().await.map(Some)
        });
        let bytes = match got {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Err(self.fail(
                    "cannot read the published catalog",
                    format!(
                        "{index} is larger than the {} MiB relsite reads",
                        crate::published::MAX_INDEX_BYTES >> 20
                    ),
                ));
            }
            Err(object_store::Error::NotFound { .. }) if recorded.is_empty() => {
                return Ok(Vec::new());
            }
            Err(object_store::Error::NotFound { .. }) => {
                return Err(self.fail(
                    "cannot start from the published catalog",
                    format!(
                        "the deployment record lists objects but there is no {}: a deploy of the builds at hand alone would delete every other build's files; deploy once without --from-published from a folder that holds every build",
                        crate::layout::redacted(index)
                    ),
                ));
            }
            Err(e) => return Err(self.fail("cannot read the published catalog", e)),
        };
        let from = format!(
            "{}/{}",
            self.target.url.as_str().trim_end_matches('/'),
            crate::layout::redacted(index)
        );
        crate::published::parse(&bytes, &from).map_err(|d| DeployError::Store {
            url: self.target.url.to_string(),
            why: d.message,
        })
    }

    /// Every object below the prefix, by key below it: size and ETag.
    pub fn listing(&self) -> Result<BTreeMap<String, (u64, String)>, DeployError> {
        use futures_util::TryStreamExt;
        let listed: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.store.list(Some(&self.prefix)).try_collect())
            .map_err(|e| self.fail("cannot list the target", e))?;
        let prefix = self.prefix.as_ref();
        Ok(listed
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.as_ref();
                let rel = if prefix.is_empty() {
                    key
                } else {
                    key.strip_prefix(prefix)?.strip_prefix('/')?
                };
                Some((rel.to_string(), (meta.size, meta.e_tag?)))
            })
            .collect())
    }

    fn put_record(&self, record: &Record) -> Result<(), DeployError> {
        let bytes = serde_json::to_vec(record).map_err(|e| self.fail("the record", e))?;
        let mut attributes = Attributes::new();
        if self.headers {
            attributes.insert(Attribute::ContentType, "application/json".into());
            attributes.insert(Attribute::CacheControl, "no-store".into());
        }
        let options = PutOptions {
            attributes,
            ..Default::default()
        };
        let key = self.key(RECORD);
        self.runtime
            .block_on(self.store.put_opts(&key, PutPayload::from(bytes), options))
            .map(drop)
            .map_err(|e| self.fail("cannot write the deployment record", e))
    }

    /// Carries out `plan`, calling `uploaded` after each file (and `deleted` after each key).
    pub fn run(
        &self,
        plan: &Plan,
        uploaded: &(dyn Fn(&LocalFile) + Sync),
        deleted: &dyn Fn(&str),
    ) -> Result<(), DeployError> {
        // Keys about to be uploaded for the first time are recorded as relsite's first, so a
        // stop midway never leaves an object no record names.
        let previous = plan.previous.clone().unwrap_or_default();
        let new_keys: Vec<&str> = plan
            .uploads
            .iter()
            .map(|(_, f)| f.path.as_str())
            .filter(|p| !previous.objects.contains_key(*p))
            .collect();
        if !new_keys.is_empty() {
            let mut claimed = previous.clone();
            claimed.relsite = plan.record.relsite.clone();
            claimed.format = FORMAT;
            for key in new_keys {
                claimed.objects.insert(
                    key.to_string(),
                    Object {
                        sha256: None,
                        size: 0,
                    },
                );
            }
            self.put_record(&claimed)?;
        }
        for stage in Stage::ORDER {
            let files: Vec<&LocalFile> = plan
                .uploads
                .iter()
                .filter(|(s, _)| *s == stage)
                .map(|(_, f)| f)
                .collect();
            self.upload_all(&files, uploaded)?;
        }
        let mut record = plan.record.clone();
        record.pending_delete = plan.deletes.clone();
        if plan.previous.as_ref() != Some(&record) {
            self.put_record(&record)?;
        }
        for key in &plan.deletes {
            let path = self.key(key);
            match self.runtime.block_on(self.store.delete(&path)) {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => deleted(key),
                Err(e) => return Err(self.fail(&format!("cannot delete {key}"), e)),
            }
        }
        if !plan.deletes.is_empty() {
            self.put_record(&plan.record)?;
        }
        Ok(())
    }

    fn upload_all(
        &self,
        files: &[&LocalFile],
        uploaded: &(dyn Fn(&LocalFile) + Sync),
    ) -> Result<(), DeployError> {
        self.runtime.block_on(async {
            let mut running = tokio::task::JoinSet::new();
            let mut next = files.iter();
            let mut failed = None;
            loop {
                while failed.is_none() && running.len() < CONCURRENT {
                    let Some(file) = next.next() else { break };
                    let store = Arc::clone(&self.store);
                    let key = self.key(&file.path);
                    let file = (*file).clone();
                    let headers = self.headers;
                    running.spawn(async move {
                        let result = upload(store, key, &file, headers).await;
                        (file, result)
                    });
                }
                let Some(done) = running.join_next().await else {
                    break;
                };
                match done {
                    Ok((file, Ok(()))) => uploaded(&file),
                    Ok((file, Err(why))) => {
                        failed
                            .get_or_insert(self.fail(&format!("cannot upload {}", file.path), why));
                    }
                    Err(e) => {
                        failed.get_or_insert(self.fail("an upload task stopped", e));
                    }
                }
            }
            failed.map_or(Ok(()), Err)
        })
    }
}

/// Uploads one file with its content type and caching: in one request when small, else in
/// parts read from the file as they go, so a large IPA is never held whole.
async fn upload(
    store: Arc<dyn ObjectStore>,
    key: StorePath,
    file: &LocalFile,
    headers: bool,
) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut attributes = Attributes::new();
    if headers {
        let (content_type, cache_control) = headers_of(&file.path);
        attributes.insert(Attribute::ContentType, content_type.into());
        attributes.insert(Attribute::CacheControl, cache_control.into());
    }
    let mut source = tokio::fs::File::open(&file.file)
        .await
        .map_err(|e| format!("{}: {e}", file.file.display()))?;
    if file.size <= PART as u64 {
        let mut bytes = Vec::with_capacity(file.size as usize);
        source
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| format!("{}: {e}", file.file.display()))?;
        if bytes.len() as u64 != file.size
            || crate::text::sha256_hex([bytes.as_slice()]) != file.sha256
        {
            return Err(format!("{} changed while deploying", file.file.display()));
        }
        let options = PutOptions {
            attributes,
            ..Default::default()
        };
        store
            .put_opts(&key, PutPayload::from(bytes), options)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut writer = object_store::buffered::BufWriter::with_capacity(store, key, PART)
        .with_max_concurrency(2)
        .with_attributes(attributes);
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut sent = 0u64;
    loop {
        let mut chunk = vec![0; 1 << 20];
        let n = source
            .read(&mut chunk)
            .await
            .map_err(|e| format!("{}: {e}", file.file.display()))?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        sha2::Digest::update(&mut hasher, &chunk);
        sent += n as u64;
        if let Err(e) = writer.put(chunk.into()).await {
            let _ = writer.abort().await;
            return Err(e.to_string());
        }
    }
    if sent != file.size || crate::text::hex(&sha2::Digest::finalize(hasher)) != file.sha256 {
        let _ = writer.abort().await;
        return Err(format!("{} changed while deploying", file.file.display()));
    }
    writer.shutdown().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_up_before_the_pages_that_link_to_them() {
        for (path, stage) in [
            ("com.a/1.0-1/App.ipa", Stage::Files),
            ("com.a/1.0-1/icon-57.png", Stage::Files),
            ("assets/style.css", Stage::Files),
            ("com.a/1.0-1/manifest.plist", Stage::Manifests),
            ("com.a/1.0-1/index.html", Stage::BuildPages),
            ("com.a/latest/index.html", Stage::AppSubPages),
            ("com.a/latest/beta/index.html", Stage::AppSubPages),
            ("com.a/page/2/index.html", Stage::AppSubPages),
            ("com.a/index.html", Stage::AppPages),
            ("com.a/feed.xml", Stage::AppPages),
            ("com.a/releases.json", Stage::AppPages),
            ("index.html", Stage::SitePages),
            ("404.html", Stage::SitePages),
            ("feed.xml", Stage::SitePages),
            ("_headers", Stage::SitePages),
            ("robots.txt", Stage::SitePages),
            ("catalog.json", Stage::Index),
            // A private catalog's install files, its index and an unlisted channel's pages.
            ("i/0123456789abcdef0123456789abcdef/App.ipa", Stage::Files),
            (
                "i/0123456789abcdef0123456789abcdef/icon-57.png",
                Stage::Files,
            ),
            (
                "i/0123456789abcdef0123456789abcdef/manifest.plist",
                Stage::Manifests,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/catalog.json",
                Stage::Index,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/index.html",
                Stage::SitePages,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/com.a/index.html",
                Stage::AppPages,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/com.a/feed.xml",
                Stage::AppPages,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/com.a/1.0-1/index.html",
                Stage::BuildPages,
            ),
            (
                "s/0123456789abcdef0123456789abcdef/com.a/latest/qa/index.html",
                Stage::AppSubPages,
            ),
        ] {
            assert_eq!(Stage::of(path), stage, "{path}");
        }
        assert!(Stage::ORDER.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn each_kind_has_its_content_type_and_caching() {
        assert_eq!(
            headers_of("a/1/manifest.plist"),
            ("text/xml; charset=utf-8", "public, max-age=300")
        );
        assert_eq!(
            headers_of("a/1/A.ipa"),
            (
                "application/octet-stream",
                "public, max-age=31536000, immutable"
            )
        );
        assert_eq!(headers_of("a/index.html").0, "text/html; charset=utf-8");
        assert_eq!(
            headers_of("a/1/icon-512.png").1,
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers_of("feed.xml").0, "application/atom+xml");
    }

    fn local(path: &str, sha: &str) -> LocalFile {
        LocalFile {
            path: path.into(),
            file: PathBuf::from(path),
            size: 1,
            sha256: sha.into(),
        }
    }

    #[test]
    fn a_plan_uploads_what_changed_and_deletes_only_what_it_recorded() {
        let first = Plan::new(
            vec![local("a/1/A.ipa", "x"), local("index.html", "y")],
            None,
            &[],
        );
        assert_eq!(first.uploads.len(), 2);
        assert!(first.deletes.is_empty());
        let same = Plan::new(
            vec![local("a/1/A.ipa", "x"), local("index.html", "y")],
            Some(first.record.clone()),
            &[],
        );
        assert!(same.is_empty(), "{same:?}");
        let mut previous = first.record.clone();
        previous.pending_delete = vec!["old/gone.html".into()];
        let next = Plan::new(
            vec![local("a/1/A.ipa", "x"), local("b.html", "z")],
            Some(previous),
            &["index.html".to_string(), "c/1/C.ipa".to_string()],
        );
        let uploads: Vec<&str> = next.uploads.iter().map(|(_, f)| f.path.as_str()).collect();
        assert_eq!(uploads, ["b.html"]);
        assert_eq!(
            next.deletes,
            ["old/gone.html"],
            "published elsewhere, so kept"
        );
        assert_eq!(next.kept, 2);
        assert!(
            !next.record.objects.contains_key("c/1/C.ipa"),
            "listed in a catalog but never recorded: not claimed"
        );
        let gone = Plan::new(vec![], Some(first.record.clone()), &[]);
        assert_eq!(
            gone.deletes,
            ["index.html", "a/1/A.ipa"],
            "pages go before their files"
        );
    }

    #[test]
    fn a_file_whose_stamp_is_known_is_not_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.html"), b"a").unwrap();
        std::fs::write(dir.path().join("b.html"), b"b").unwrap();
        std::fs::write(dir.path().join(crate::write::MARKER), b"marker").unwrap();
        let (files, hashes) = local_files(dir.path(), &Hashes::new()).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.html", "b.html"], "the marker is not published");
        assert_eq!(files[0].sha256, crate::text::sha256_hex([&b"a"[..]]));
        let mut known = hashes.clone();
        known.get_mut("a.html").unwrap().1 = "known".into();
        known.get_mut("b.html").unwrap().0.modified_ns += 1;
        let (files, _) = local_files(dir.path(), &known).unwrap();
        assert_eq!(files[0].sha256, "known", "taken from what was known");
        assert_eq!(
            files[1].sha256,
            crate::text::sha256_hex([&b"b"[..]]),
            "hashed again"
        );
    }
}
