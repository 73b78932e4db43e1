//! Same-origin checks for cookie-authenticated requests (WebSocket upgrades
//! and form posts): a browser always sends `Origin` on these, so an `Origin`
//! naming another site means another site's page is making the request with
//! our user's cookie (cross-site WebSocket hijacking, CSRF).

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// True when the request's `Origin` is one of `allowed`.
pub(crate) fn is_listed(headers: &HeaderMap, allowed: &[String]) -> bool {
    headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| allowed.iter().any(|a| a.trim_end_matches('/') == origin))
}

/// True when the request has no `Origin` (not a browser, or a same-origin
/// navigation), or its `Origin` is this server's own or one of `allowed`.
pub(crate) fn is_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if is_listed(headers, allowed) {
        return true;
    }
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static(host));
        if let Some(origin) = origin {
            h.insert(ORIGIN, HeaderValue::from_static(origin));
        }
        h
    }

    #[test]
    fn own_origin_and_no_origin_pass_others_do_not() {
        assert!(is_allowed(&headers(None, "chat.local:3000"), &[]));
        assert!(is_allowed(
            &headers(Some("http://chat.local:3000"), "chat.local:3000"),
            &[]
        ));
        assert!(!is_allowed(
            &headers(Some("http://evil.example"), "chat.local:3000"),
            &[]
        ));
        assert!(!is_allowed(
            &headers(Some("http://chat.local:3001"), "chat.local:3000"),
            &[]
        ));
        assert!(!is_allowed(&headers(Some("null"), "chat.local:3000"), &[]));
    }

    #[test]
    fn configured_origins_pass() {
        let allowed = ["https://chat.example.com/".to_owned()];
        assert!(is_allowed(
            &headers(Some("https://chat.example.com"), "internal:3000"),
            &allowed
        ));
    }
}
