//! Attachments (docs/protocol.md 2.21, 3.14, 3.15): the bytes in an object
//! store, behind the `object_store` crate's one interface (a folder under
//! `data-dir` by default, an S3-compatible bucket by URL: nothing past
//! [`Files::open`] knows which), their rows in PostgreSQL
//! ([`crate::server::db::attachments`]), uploads streamed in
//! ([`upload`]), images measured and thumbnailed ([`images`]), and the
//! HTTP routes ([`routes`]).

pub(crate) mod form;
pub(crate) mod images;
pub(crate) mod routes;
pub(crate) mod upload;

use super::config::Settings;
use super::db::attachments::{self as rows, Gone};
use crate::protocol::AttachmentId;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The store and the rules every upload is held to.
pub(crate) struct Files {
    store: Arc<dyn ObjectStore>,
    /// Where natter's objects are in the store.
    prefix: Key,
    /// The folder of the default store: the crate's local backend writes
    /// without `fsync`, so natter syncs each file and the folder itself
    /// before it acknowledges an upload (a bucket is durable when it
    /// answers).
    folder: Option<PathBuf>,
    /// Where an image being uploaded is also written, to be decoded from
    /// once it is whole (never held in memory).
    spool: PathBuf,
    /// Images decoded at once at most (a core each).
    decoders: Semaphore,
    pub(crate) max_bytes: u64,
    pub(crate) daily_bytes: u64,
    pub(crate) max_pixels: u64,
    /// How long (seconds) an upload may wait to be sent.
    pub(crate) unsent_secs: u64,
}

/// The store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("attachments-store {url:?}: {source}")]
    Url {
        url: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot make {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Files {
    /// The store `attachments-store` names: empty for `<data-dir>/attachments`;
    /// otherwise any URL the crate knows (`s3://bucket/prefix` with the
    /// `AWS_*` environment, `file:///path`, `memory:///`).
    pub(crate) fn open(settings: &Settings) -> Result<Self, StoreError> {
        let folder = |path: PathBuf| {
            std::fs::create_dir_all(&path)
                .map(|()| path.clone())
                .map_err(|source| StoreError::Folder { path, source })
        };
        let spool = folder(settings.data_dir.join("uploading"))?;
        let url = settings.attachments_store.trim();
        let mut local_root = None;
        let (store, prefix): (Arc<dyn ObjectStore>, Key) = if url.is_empty() {
            let root = folder(settings.data_dir.join("attachments"))?;
            let local = LocalFileSystem::new_with_prefix(&root).map_err(|e| StoreError::Url {
                url: root.display().to_string(),
                source: Box::new(e),
            })?;
            local_root = Some(root);
            (Arc::new(local), Key::default())
        } else {
            let bad = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Url {
                url: url.to_owned(),
                source,
            };
            let parsed = url::Url::parse(url).map_err(|e| bad(Box::new(e)))?;
            // The builders' own names for their settings, from the
            // environment (AWS_ACCESS_KEY_ID → aws_access_key_id).
            let options = settings.store_options.iter().cloned();
            let (store, prefix) =
                object_store::parse_url_opts(&parsed, options).map_err(|e| bad(Box::new(e)))?;
            (Arc::from(store), prefix)
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            store,
            prefix,
            folder: local_root,
            spool,
            decoders: Semaphore::new(cores),
            max_bytes: settings.max_attachment_bytes,
            daily_bytes: settings.upload_daily_bytes,
            max_pixels: settings.max_image_pixels,
            unsent_secs: settings.unsent_upload_secs,
        })
    }

    /// The key of a file's bytes.
    fn object(&self, id: AttachmentId) -> Key {
        self.prefix.child(id.to_string())
    }

    /// The key of an image's thumbnail.
    fn thumbnail(&self, id: AttachmentId) -> Key {
        self.prefix.child(format!("{id}.thumb"))
    }

    /// Makes a stored object durable before it is acknowledged: on the
    /// default folder store, `fsync` of the file and of the folder that
    /// names it; nothing for a bucket.
    async fn settle(&self, key: &Key) -> std::io::Result<()> {
        let Some(root) = &self.folder else {
            return Ok(());
        };
        let file = root.join(key.as_ref());
        let root = root.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&file)?.sync_all()?;
            std::fs::File::open(&root)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Deletes the objects of files whose rows are gone (a deleted message's,
    /// swept uploads). A failure is logged: the object is then an orphan no
    /// row points to, which nobody can fetch.
    pub(crate) async fn forget(&self, gone: &[Gone]) {
        for file in gone {
            let mut keys = vec![self.object(file.id)];
            if file.image {
                keys.push(self.thumbnail(file.id));
            }
            for key in keys {
                match self.store.delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => tracing::warn!(error = %e, %key, "attachment not deleted"),
                }
            }
        }
    }

    /// Every tenth of `unsent-upload-secs` (at most every 10 minutes),
    /// deletes the uploads that waited longer than that to be sent.
    pub(crate) async fn sweep(self: Arc<Self>, db: PgPool) {
        let every = Duration::from_secs((self.unsent_secs / 10).clamp(1, 600));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                let age = i64::try_from(self.unsent_secs).unwrap_or(i64::MAX);
                match rows::sweep(&db, age, 500).await {
                    Ok(gone) if gone.is_empty() => break,
                    Ok(gone) => {
                        tracing::debug!(files = gone.len(), "unsent uploads deleted");
                        self.forget(&gone).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sweeping unsent uploads failed");
                        break;
                    }
                }
            }
        }
    }
}
