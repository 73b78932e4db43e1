//! Guards in front of every HTTP request: security headers, cross-site
//! request refusal, per-address limits on sign-up and log-in, and a cap on
//! request bodies.

use super::limits::client_addr;
use super::state::AppState;
use super::ws::origin;
use crate::protocol::{ApiError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue,
    REFERRER_POLICY, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

/// A page's Content-Security-Policy: scripts only from this origin or the
/// inline hydration scripts carrying this response's nonce, WebAssembly
/// compilation for the bundle, and nothing from anywhere else.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         connect-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; \
         manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The nonce Leptos put on the page's inline scripts.
fn page_nonce(html: &[u8]) -> Option<&str> {
    const MARK: &[u8] = b" nonce=\"";
    let start = html.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let len = html[start..].iter().position(|&b| b == b'"')?;
    let nonce = std::str::from_utf8(&html[start..start + len]).ok()?;
    nonce
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        .then_some(nonce)
}

/// Gives every HTML page the policy for its own nonce. Pages are rendered
/// whole before they are sent (`SsrMode::Async`), so reading the body here
/// costs no streaming; doing it at the HTTP layer keeps the header and the
/// page's nonce in step whatever the renderer does with its response
/// options.
pub(crate) async fn page_security_policy(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(html) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal().into_response();
    };
    if let Some(policy) =
        page_nonce(&html).and_then(|n| HeaderValue::from_str(&page_policy(n)).ok())
    {
        parts.headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    Response::from_parts(parts, axum::body::Body::from(html))
}

/// Headers every response carries (a page's own Content-Security-Policy,
/// with its nonce, and a static file's caching rule take precedence over the
/// defaults here).
pub(crate) fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 6] {
    [
        // Pages and API answers hold one person's messages: no cache, shared
        // or private, may keep them.
        SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")),
        SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Same-origin referrers only: the no-JavaScript form posts go back to
        // the page they came from by it.
        SetResponseHeaderLayer::if_not_present(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
    ]
}

/// Refuses a state-changing request that another site's page makes (CSRF),
/// whether or not it carries the session cookie: with it, it would act as
/// our user; without it, a forged log-in would sign the victim into the
/// attacker's account (log-in CSRF). What the browser says about the
/// request's origin decides: `Sec-Fetch-Site`, and `Origin` (which
/// browsers send on every cross-origin and every form `POST`). Server
/// functions are covered too (they are `POST`s). Requests without either
/// header are not a browser's and pass, as do those authenticated by a
/// bearer token, which another site's page cannot set without our consent.
pub(crate) async fn same_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.headers().contains_key(AUTHORIZATION) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let allowed = &state.settings.allowed_origins;
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = matches!(fetch_site, Some("cross-site" | "same-site"))
        && !origin::is_listed(headers, allowed);
    if cross_site || !origin::is_allowed(headers, allowed) {
        return ApiError::forbidden("cross-site requests are refused").into_response();
    }
    next.run(request).await
}

/// The account endpoints the per-address limit applies to: the JSON API and
/// the pages' server functions.
fn is_auth_attempt(request: &Request) -> bool {
    request.method() == Method::POST
        && matches!(
            request.uri().path(),
            "/api/v1/auth/register" | "/api/v1/auth/login" | "/api/register" | "/api/login"
        )
}

/// Per-address limits on attempts to sign up or log in (guessing passwords,
/// creating accounts in bulk): 429 with `Retry-After` past them.
pub(crate) async fn limit_auth_attempts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_auth_attempt(&request)
        && let Some(client) = client_addr(
            request.headers(),
            request.extensions(),
            state.settings.trust_proxy_headers,
        )
        && let Err(wait) = state.limits.check_auth_attempt(client)
    {
        return too_many("Too many attempts; wait a moment and try again", wait);
    }
    next.run(request).await
}

/// 429 `rate_limited` with `Retry-After` (whole seconds, at least one).
pub(crate) fn too_many(message: &str, wait: Duration) -> Response {
    let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
    if let Ok(seconds) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(RETRY_AFTER, seconds);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::page_nonce;

    #[test]
    fn finds_the_pages_nonce_and_nothing_that_could_break_the_header() {
        assert_eq!(
            page_nonce(br#"<script type="module" nonce="aB9+/_-=">"#),
            Some("aB9+/_-=")
        );
        assert_eq!(page_nonce(br#"<script nonce="x'; script-src *">"#), None);
        assert_eq!(page_nonce(b"<p>no scripts</p>"), None);
    }
}
