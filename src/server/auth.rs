//! Passwords, session tokens and the signed-in user of a request.
//!
//! Passwords are argon2id hashes (the `argon2` crate's defaults, OWASP's
//! recommended parameters), computed on the blocking pool because each takes
//! tens of milliseconds by design. A session token is 32 random bytes
//! (base64url); the database keeps only its SHA-256. The same token works as
//! the `natter_session` cookie and as `Authorization: Bearer`.

use super::db::sessions::{self, SessionUser};
use super::error::{AppError, AppResult};
use super::hashing::Hasher;
use super::limits::client_addr;
use super::state::AppState;
use crate::protocol::{ApiError, UserId};
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

pub(crate) const COOKIE_NAME: &str = "natter_session";

pub(crate) async fn hash_password(hasher: &Hasher, password: String) -> AppResult<String> {
    hasher
        .run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| AppError::Hash(e.to_string()))
        })
        .await?
}

/// A hash of a password nobody has, verified when the username is unknown so
/// that a wrong name takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"no such user", &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Checks `password` against `hash` (or the dummy hash when `None`).
pub(crate) async fn verify_password(
    hasher: &Hasher,
    password: String,
    hash: Option<String>,
) -> AppResult<bool> {
    hasher
        .run(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
            let ok = PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            known && ok
        })
        .await
}

/// A new session token and the hash the database keeps.
pub(crate) fn new_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// A session's hash as the other nodes hear of it (hex).
pub(crate) fn session_hex(session: &[u8; 32]) -> String {
    session.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash back from [`session_hex`].
pub(crate) fn session_from_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The session token a request carries: `Authorization: Bearer` first, then
/// the cookie.
pub(crate) fn request_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim());
    }
    cookie_token(headers)
}

/// The session token of the request's cookie, if it has one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

/// True when the request reached us over https (directly or through a proxy
/// that says so), so the session cookie must be `Secure`.
fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a new session.
pub(crate) fn session_cookie(token: &str, max_age_secs: i64, request: &HeaderMap) -> HeaderValue {
    let secure = if is_https(request) { "; Secure" } else { "" };
    let max_age = max_age_secs.max(0);
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("natter_session=; Path=/"))
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn clear_cookie(request: &HeaderMap) -> HeaderValue {
    let secure = if is_https(request) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("natter_session=; Path=/; Max-Age=0"))
}

/// The signed-in user of a request; extracting it answers 401 otherwise.
#[derive(Clone, Debug)]
pub(crate) struct CurrentUser {
    pub(crate) id: UserId,
    pub(crate) username: String,
    /// The session's hash, to end it (logout) or to find its connections.
    pub(crate) token_hash: [u8; 32],
    /// When the session ends (seconds since the epoch).
    pub(crate) expires_at: i64,
}

fn unknown_tokens() -> ApiError {
    ApiError::new(
        crate::protocol::ErrorCode::RateLimited,
        "too many requests with tokens that match no session; wait a while",
    )
}

/// Looks the request's session up.
pub(crate) async fn current_user(
    state: &AppState,
    headers: &HeaderMap,
) -> AppResult<Option<CurrentUser>> {
    let Some(token) = request_token(headers) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let user = sessions::user(&state.db, &hash, state.settings.session_lifetime()).await?;
    Ok(user.map(
        |SessionUser {
             id,
             username,
             expires_at,
         }| CurrentUser {
            id,
            username,
            token_hash: hash,
            expires_at,
        },
    ))
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    /// A bearer token is looked up only while its client address has not
    /// sent too many that match no session: then the answer is
    /// `rate_limited` without a lookup, so guessing tokens learns nothing.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .is_some_and(|v| v.as_bytes().starts_with(b"Bearer "));
        let addr = bearer
            .then(|| {
                client_addr(
                    &parts.headers,
                    &parts.extensions,
                    state.settings.trust_proxy_headers,
                )
            })
            .flatten();
        if let Some(addr) = addr
            && state.limits.tokens_refused(addr).is_some()
        {
            return Err(unknown_tokens().into());
        }
        match current_user(&state, &parts.headers).await? {
            Some(user) => Ok(user),
            None => {
                if let Some(addr) = addr {
                    state.limits.unknown_token(addr);
                }
                Err(ApiError::unauthorized().into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_wins_over_the_cookie_and_cookies_are_parsed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; natter_session=fromcookie; b=2"),
        );
        assert_eq!(request_token(&headers), Some("fromcookie"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer fromheader"));
        assert_eq!(request_token(&headers), Some("fromheader"));
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), hash_a);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_behind_https() {
        let mut headers = HeaderMap::new();
        let plain = session_cookie("t", 30, &headers);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            session_cookie("t", 30, &headers)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
