//! `POST /api/v1/chat/:id/attachments` and `GET /api/v1/attachments/:id`
//! (and `/thumb`): docs/protocol.md 3.14 and 3.15.

use super::images;
use super::upload::{Allowance, Declared, over_the_day, store_failed, too_large};
use crate::protocol::{ApiError, Attachment, AttachmentId, ConversationId};
use crate::server::auth::CurrentUser;
use crate::server::chat::service::refusal;
use crate::server::db;
use crate::server::error::AppResult;
use crate::server::limits::Action;
use crate::server::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::Stream;
use object_store::{GetOptions, GetRange};
use serde::Deserialize;
use std::time::Duration;

/// What a multipart body may carry besides the file (boundaries, part
/// headers, small fields).
const FORM_OVERHEAD: u64 = 64 * 1024;

/// The routes that stream files, and the no-JavaScript send form that
/// carries them.
pub(crate) fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/chat/{conversation_id}/attachments", post(upload))
        .route("/api/v1/attachments/{attachment_id}", get(download))
        .route("/api/v1/attachments/{attachment_id}/thumb", get(thumbnail))
        .route("/c/{conversation_id}/send", post(super::form::send))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(Deserialize)]
pub(crate) struct UploadQuery {
    name: Option<String>,
}

fn no_conversation() -> ApiError {
    ApiError::not_found("no such conversation")
}

fn no_attachment() -> ApiError {
    ApiError::not_found("no such attachment")
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `POST /api/v1/chat/{conversation_id}/attachments`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(conversation): Path<String>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    let conversation = ConversationId::parse(&conversation).ok_or_else(no_conversation)?;
    let multipart = is_multipart(request.headers());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let overhead = if multipart { FORM_OVERHEAD } else { 0 };
    let allowance = admit(&state, &user, conversation, declared, overhead).await?;
    let file = if multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::invalid("file", e.body_text()))?;
        let field = loop {
            match form.next_field().await {
                Ok(Some(field)) if field.file_name().is_some() => break field,
                Ok(Some(_)) => continue,
                Ok(None) => return Err(ApiError::invalid("file", "the form has no file").into()),
                Err(e) => return Err(ApiError::invalid("file", e.body_text()).into()),
            }
        };
        let declared = Declared {
            name: field.file_name().unwrap_or_default().to_owned(),
            content_type: field.content_type().map(str::to_owned),
        };
        keep(&state, &user, conversation, field, declared, allowance).await?
    } else {
        let declared = Declared {
            name: query.name.unwrap_or_default(),
            content_type: request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        let body = request.into_body().into_data_stream();
        keep(&state, &user, conversation, body, declared, allowance).await?
    };
    Ok((StatusCode::CREATED, Json(file)))
}

/// The checks before any of an upload's body is read, in the contract's
/// order: its declared size, the uploader's budget and day, membership.
/// What the body is then held to.
pub(crate) async fn admit(
    state: &AppState,
    user: &CurrentUser,
    conversation: ConversationId,
    declared: Option<u64>,
    overhead: u64,
) -> AppResult<Allowance> {
    let files = &state.files;
    if declared.is_some_and(|len| len > files.max_bytes.saturating_add(overhead)) {
        return Err(too_large(files.max_bytes).into());
    }
    state.limits.check(user.id, Action::Upload)?;
    let used = db::attachments::uploaded_today(&state.db, user.id).await?;
    let today = files.daily_bytes.saturating_sub(used);
    if declared.is_some_and(|len| len.saturating_sub(overhead) > today) {
        return Err(over_the_day().into());
    }
    match state.chat.members.get(&state.db, conversation).await? {
        Some(members) if members.contains(user.id) => {
            if members.blocked() {
                return Err(refusal::blocked().into());
            }
        }
        _ => return Err(no_conversation().into()),
    }
    Ok(Allowance {
        today,
        stall: Duration::from_secs(state.settings.request_body_timeout_secs.max(1)),
    })
}

/// Stores an admitted upload's bytes, then its row.
pub(crate) async fn keep<S, E>(
    state: &AppState,
    user: &CurrentUser,
    conversation: ConversationId,
    body: S,
    declared: Declared,
    allowance: Allowance,
) -> AppResult<Attachment>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let file = state.files.receive(body, declared, allowance).await?;
    if let Err(e) = db::attachments::insert(&state.db, &file, conversation, user.id).await {
        state
            .files
            .forget(&[db::attachments::Gone {
                id: file.attachment_id,
                image: file.is_image(),
            }])
            .await;
        return Err(e.into());
    }
    Ok(file)
}

/// `GET /api/v1/attachments/{attachment_id}`.
pub(crate) async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, &user, &id, false, &headers).await
}

/// `GET /api/v1/attachments/{attachment_id}/thumb`.
pub(crate) async fn thumbnail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, &user, &id, true, &headers).await
}

async fn serve(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    thumb: bool,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let id = AttachmentId::parse(id).ok_or_else(no_attachment)?;
    let file = db::attachments::readable(&state.db, id, user.id)
        .await?
        .ok_or_else(no_attachment)?;
    if thumb && !file.is_image() {
        return Err(no_attachment().into());
    }
    let etag = if thumb {
        format!("\"{id}.thumb\"")
    } else {
        format!("\"{id}\"")
    };
    let mut out = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    set(header::ETAG, &etag);
    set(
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable",
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    let (key, content_type) = if thumb {
        (state.files.thumbnail(id), "image/jpeg")
    } else {
        (state.files.object(id), file.content_type.as_str())
    };
    set(header::CONTENT_TYPE, content_type);
    let inline = thumb || images::is_inline(&file.content_type);
    set(
        header::CONTENT_DISPOSITION,
        &disposition(if inline { "inline" } else { "attachment" }, &file.name),
    );
    // A range of the file (its size is known; a thumbnail is sent whole).
    let wanted = if thumb {
        Wanted::Whole
    } else {
        wanted(headers.get(header::RANGE), file.size)
    };
    let range = match wanted {
        Wanted::Whole => None,
        Wanted::Part(start, end) => Some((start, end)),
        Wanted::Unsatisfiable => {
            set(header::CONTENT_RANGE, &format!("bytes */{}", file.size));
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out).into_response());
        }
    };
    let options = GetOptions {
        range: range.map(|(start, end)| GetRange::Bounded(start..end + 1)),
        ..GetOptions::default()
    };
    let found = match state.files.store.get_opts(&key, options).await {
        Ok(found) => found,
        Err(object_store::Error::NotFound { .. }) => {
            tracing::warn!(%id, thumb, "attachment row without its object");
            return Err(no_attachment().into());
        }
        Err(e) => return Err(store_failed(&e).into()),
    };
    let length = found.range.end - found.range.start;
    set(header::ACCEPT_RANGES, if thumb { "none" } else { "bytes" });
    set(header::CONTENT_LENGTH, &length.to_string());
    let status = match range {
        Some((start, end)) => {
            set(
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{}", file.size),
            );
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    Ok((status, out, Body::from_stream(found.into_stream())).into_response())
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range (`a-b`, `a-`, `-n`); several ranges, another unit or
/// a malformed header ask for the whole file.
fn wanted(header: Option<&HeaderValue>, size: u64) -> Wanted {
    let Some(spec) = header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), number(first), number(last)) {
        // The last n bytes.
        (true, _, Some(n)) if n > 0 => Wanted::Part(size.saturating_sub(n), size - 1),
        (true, _, Some(_)) => Wanted::Unsatisfiable,
        (false, Some(start), _) if start >= size => Wanted::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => Wanted::Part(start, size - 1),
        (false, Some(start), Some(end)) if end >= start => Wanted::Part(start, end.min(size - 1)),
        _ => Wanted::Whole,
    }
}

/// `inline` or `attachment`, with the name for every browser: an ASCII
/// `filename` and the exact one as `filename*` (RFC 6266, 8187).
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut exact = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            exact.push(b as char);
        } else {
            exact.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(range: &str, size: u64) -> Wanted {
        wanted(Some(&HeaderValue::from_str(range).unwrap()), size)
    }

    #[test]
    fn a_range_header_asks_for_one_part_or_the_whole() {
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(ask("bytes=0-3", 10), Wanted::Part(0, 3));
        assert_eq!(ask("bytes=4-", 10), Wanted::Part(4, 9));
        assert_eq!(ask("bytes=-3", 10), Wanted::Part(7, 9));
        assert_eq!(ask("bytes=-30", 10), Wanted::Part(0, 9));
        assert_eq!(ask("bytes=5-100", 10), Wanted::Part(5, 9));
        assert_eq!(ask("bytes=10-", 10), Wanted::Unsatisfiable);
        assert_eq!(ask("bytes=-0", 10), Wanted::Unsatisfiable);
        assert_eq!(ask("bytes=0-1,3-4", 10), Wanted::Whole);
        assert_eq!(ask("bytes=3-1", 10), Wanted::Whole);
        assert_eq!(ask("items=0-1", 10), Wanted::Whole);
        assert_eq!(ask("bytes=x-1", 10), Wanted::Whole);
    }

    #[test]
    fn a_disposition_names_the_file_safely_for_every_browser() {
        assert_eq!(
            disposition("attachment", "a \"b\".html"),
            "attachment; filename=\"a _b_.html\"; filename*=UTF-8''a%20%22b%22.html"
        );
        assert_eq!(
            disposition("inline", "été.jpg"),
            "inline; filename=\"_t_.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg"
        );
    }
}
