//! One upload, streamed into the store as it arrives: never held whole in
//! memory (a small file is one `put` of what arrived; a larger one a
//! multipart upload of 5 MiB parts, at most two in flight), counted against
//! the size limit and the uploader's day as it comes, and given up at once
//! (nothing kept) when it goes over either or stalls.

use super::Files;
use super::images::{self, Refused};
use crate::protocol::{ApiError, Attachment, AttachmentId, ErrorCode};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::{PutPayload, WriteMultipart};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Bytes held before a file counts as large: one multipart part (S3's
/// smallest but the last).
const PART: usize = 5 * 1024 * 1024;

/// Parts uploaded at once at most, per file.
const PARTS_IN_FLIGHT: usize = 2;

/// What the uploader said of the file.
pub(crate) struct Declared {
    pub(crate) name: String,
    /// The `Content-Type` given (header or multipart part), if any.
    pub(crate) content_type: Option<String>,
}

/// The limits one upload is held to as it arrives.
#[derive(Clone, Copy)]
pub(crate) struct Allowance {
    /// Bytes the uploader may still upload today.
    pub(crate) today: u64,
    /// Nothing arriving for this long gives the upload up.
    pub(crate) stall: Duration,
}

pub(crate) fn too_large(max: u64) -> ApiError {
    ApiError {
        field: Some("file".into()),
        ..ApiError::new(
            ErrorCode::TooLarge,
            format!("a file is at most {max} bytes"),
        )
    }
}

pub(crate) fn over_the_day() -> ApiError {
    ApiError {
        field: Some("file".into()),
        ..ApiError::new(
            ErrorCode::RateLimited,
            "you have uploaded all you may for today; try again tomorrow",
        )
    }
}

pub(crate) fn store_failed(error: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %error, "attachment store failed");
    ApiError::new(
        ErrorCode::Unavailable,
        "attachments cannot be stored right now; try again",
    )
}

fn stalled() -> ApiError {
    ApiError::new(ErrorCode::InvalidPayload, "the upload stalled")
}

/// Where the bytes are going: held while small, then a multipart upload.
enum Sink {
    Small(Vec<Bytes>, usize),
    Large(WriteMultipart),
}

impl Files {
    /// Stores `body` as a new attachment: its bytes (and an image's
    /// thumbnail) in the store. The row is the caller's to write; if it
    /// cannot, [`Files::forget`] the objects.
    pub(crate) async fn receive<S, E>(
        &self,
        body: S,
        declared: Declared,
        allowance: Allowance,
    ) -> Result<Attachment, ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let id = AttachmentId::new_v7();
        let key = self.object(id);
        let mut body = std::pin::pin!(body);
        let mut sink = Sink::Small(Vec::new(), 0);
        let mut size: u64 = 0;
        let mut image: Option<(&'static str, Spool)> = None;
        let mut first = true;
        let outcome: Result<(), ApiError> = async {
            loop {
                let chunk = match tokio::time::timeout(allowance.stall, body.next()).await {
                    Err(_) => return Err(stalled()),
                    Ok(None) => break,
                    Ok(Some(Err(e))) => {
                        tracing::debug!(error = %e, "upload body");
                        return Err(ApiError::new(
                            ErrorCode::InvalidPayload,
                            "the upload could not be read",
                        ));
                    }
                    Ok(Some(Ok(chunk))) => chunk,
                };
                if chunk.is_empty() {
                    continue;
                }
                size += chunk.len() as u64;
                if size > self.max_bytes {
                    return Err(too_large(self.max_bytes));
                }
                if size > allowance.today {
                    return Err(over_the_day());
                }
                if first {
                    first = false;
                    if let Some(kind) = images::sniff(&chunk) {
                        image = Some((kind, Spool::create(self.spool.join(id.to_string())).await?));
                    }
                }
                if let Some((_, spool)) = &mut image {
                    spool.write(&chunk).await?;
                }
                self.push(&mut sink, &key, chunk).await?;
            }
            if size == 0 {
                return Err(ApiError {
                    field: Some("file".into()),
                    ..ApiError::new(ErrorCode::InvalidPayload, "the file is empty")
                });
            }
            Ok(())
        }
        .await;
        if let Err(refused) = outcome {
            if let Sink::Large(writer) = sink
                && let Err(e) = writer.abort().await
            {
                tracing::debug!(error = %e, "aborting an upload");
            }
            if let Some((_, spool)) = image {
                spool.remove().await;
            }
            return Err(refused);
        }
        match sink {
            Sink::Small(parts, _) => {
                let payload: PutPayload = parts.into_iter().collect();
                self.store
                    .put(&key, payload)
                    .await
                    .map_err(|e| store_failed(&e))?;
            }
            Sink::Large(writer) => {
                writer.finish().await.map_err(|e| store_failed(&e))?;
            }
        }
        if let Err(e) = self.settle(&key).await {
            self.drop_object(id).await;
            return Err(store_failed(&e));
        }
        let mut file = Attachment {
            attachment_id: id,
            name: crate::protocol::clean_file_name(&declared.name),
            size,
            content_type: declared_type(declared.content_type.as_deref()),
            width: None,
            height: None,
        };
        if let Some((kind, mut spool)) = image {
            let measured = match spool.file.flush().await {
                Ok(()) => self.measure(&spool.path).await,
                Err(e) => Err(Refused::Unreadable(e.to_string())),
            };
            spool.remove().await;
            match measured {
                Ok(thumb) => {
                    let key = self.thumbnail(id);
                    let stored = match self.store.put(&key, thumb.bytes.into()).await {
                        Ok(_) => self.settle(&key).await.map_err(|e| store_failed(&e)),
                        Err(e) => Err(store_failed(&e)),
                    };
                    if let Err(refused) = stored {
                        self.drop_object(id).await;
                        return Err(refused);
                    }
                    file.content_type = kind.to_owned();
                    file.width = Some(thumb.width);
                    file.height = Some(thumb.height);
                }
                Err(refused @ (Refused::TooManyPixels(_) | Refused::TooMuchMemory)) => {
                    self.drop_object(id).await;
                    return Err(ApiError {
                        field: Some("file".into()),
                        ..ApiError::new(ErrorCode::TooLarge, refused.to_string())
                    });
                }
                Err(Refused::Unreadable(why)) => {
                    // Kept as a plain file, never shown inline.
                    tracing::debug!(%why, "image without a thumbnail");
                    file.content_type = "application/octet-stream".into();
                }
            }
        }
        Ok(file)
    }

    /// Adds `chunk` to what is being stored, switching to a multipart
    /// upload once more than one part has arrived.
    async fn push(
        &self,
        sink: &mut Sink,
        key: &object_store::path::Path,
        chunk: Bytes,
    ) -> Result<(), ApiError> {
        match sink {
            Sink::Small(parts, held) if *held + chunk.len() <= PART => {
                *held += chunk.len();
                parts.push(chunk);
            }
            Sink::Small(parts, _) => {
                let upload = self
                    .store
                    .put_multipart(key)
                    .await
                    .map_err(|e| store_failed(&e))?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
                for part in std::mem::take(parts) {
                    writer.put(part);
                }
                writer.put(chunk);
                *sink = Sink::Large(writer);
            }
            Sink::Large(writer) => {
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| store_failed(&e))?;
                writer.put(chunk);
            }
        }
        Ok(())
    }

    /// Measures and thumbnails an image, a core at a time.
    async fn measure(&self, path: &std::path::Path) -> Result<images::Thumbnail, Refused> {
        let Ok(_turn) = self.decoders.acquire().await else {
            return Err(Refused::Unreadable("shutting down".into()));
        };
        let path = path.to_owned();
        let max_pixels = self.max_pixels;
        tokio::task::spawn_blocking(move || images::thumbnail(&path, max_pixels))
            .await
            .unwrap_or_else(|e| Err(Refused::Unreadable(e.to_string())))
    }

    async fn drop_object(&self, id: AttachmentId) {
        self.forget(&[crate::server::db::attachments::Gone { id, image: true }])
            .await;
    }
}

/// The declared type as stored: `type/subtype` in lower case without its
/// parameters, or `application/octet-stream` when there is none or it is
/// not one. Never one of the inline image types (only bytes that are one
/// get those).
fn declared_type(given: Option<&str>) -> String {
    let essence = given
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) && !images::is_inline(&essence) => essence,
        _ => "application/octet-stream".into(),
    }
}

/// An image's bytes on local disk while it arrives, to decode from once it
/// is whole.
struct Spool {
    path: PathBuf,
    file: tokio::fs::File,
}

impl Spool {
    async fn create(path: PathBuf) -> Result<Self, ApiError> {
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| store_failed(&e))?;
        Ok(Self { path, file })
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| store_failed(&e))
    }

    async fn remove(self) {
        drop(self.file);
        if let Err(e) = tokio::fs::remove_file(&self.path).await {
            tracing::debug!(error = %e, "spool file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::declared_type;

    #[test]
    fn a_declared_type_is_kept_only_when_it_is_one_and_never_claims_an_image() {
        assert_eq!(
            declared_type(Some("Application/PDF; x=1")),
            "application/pdf"
        );
        assert_eq!(declared_type(Some("text/html")), "text/html");
        assert_eq!(declared_type(Some("image/svg+xml")), "image/svg+xml");
        assert_eq!(declared_type(Some("image/png")), "application/octet-stream");
        assert_eq!(declared_type(Some("nonsense")), "application/octet-stream");
        assert_eq!(declared_type(Some("a/b c")), "application/octet-stream");
        assert_eq!(declared_type(None), "application/octet-stream");
    }
}
