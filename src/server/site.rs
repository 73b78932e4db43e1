//! The site's files: the WebAssembly bundle, its JavaScript, the CSS and the
//! assets from `public/`, as cargo-leptos left them in the site root.
//!
//! The bundle's files carry a hash of their content in their names
//! (`natter.<hash>.wasm`; `hash-files` in `Cargo.toml` and `Leptos.toml`),
//! listed in `hash.txt` beside the server binary, so a browser may keep them
//! for a year without asking again: a new build has new names. A release
//! build also leaves brotli and gzip copies beside each file (cargo-leptos
//! `--precompress`), sent to browsers that accept them, so nothing is
//! compressed per request.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use leptos::config::LeptosOptions;
use std::convert::Infallible;
use std::path::PathBuf;
use tower::Service;
use tower_http::services::ServeDir;

/// For a hashed file: any cache may keep it for a year and never revalidate.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// For a file whose name stays the same across builds: keep it, but ask the
/// server (a cheap 304) before each use.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Where Leptos looks for the bundle's hashed names: `hash.txt` beside the
/// running binary (cargo-leptos writes it next to the binary it builds).
fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(&*options.hash_file))
}

/// Checks the bundle the pages will name, once at start-up:
///
/// - a binary with no `hash.txt` beside it (built by plain `cargo build` or
///   `cargo test` rather than cargo-leptos) gets file hashing turned off, so
///   the pages name the plain file names such a build's site holds instead
///   of logging a missing file on every render;
/// - a bundle built without `--split` still imports its lazy parts from a
///   placeholder module and cannot start in a browser: said loudly, since
///   the pages themselves would only show it in the browser's console.
pub(crate) fn check_bundle(options: &mut LeptosOptions) {
    let mut js_name = format!("{}.js", options.output_name);
    if options.hash_files {
        match hash_file(options).map(|path| (std::fs::read_to_string(&path), path)) {
            Some((Ok(hashes), path)) => {
                tracing::debug!(hashes = %path.display(), "bundle files have hashed names");
                if let Some(hash) = hashes.lines().find_map(|l| l.strip_prefix("js:")) {
                    js_name = format!("{}.{}.js", options.output_name, hash.trim());
                }
            }
            other => {
                tracing::info!(
                    expected = ?other.map(|(_, path)| path),
                    "no hash file beside the binary: the bundle is served under its plain names"
                );
                options.hash_files = false;
            }
        }
    }
    let js = PathBuf::from(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join(js_name);
    if std::fs::read_to_string(&js).is_ok_and(|text| text.contains(UNSPLIT_MARK)) {
        tracing::error!(
            bundle = %js.display(),
            "the WebAssembly bundle was built without --split and cannot start in a browser; \
             build it with .ci/build (cargo leptos build --release --precompress --split)"
        );
    }
}

/// What wasm-bindgen leaves in the JavaScript of a bundle whose lazy parts
/// were never split out.
const UNSPLIT_MARK: &str = "__wasm_split_placeholder__";

/// The site root as a service: its files with their caching rules, and
/// `not_found` for any other path.
pub(crate) fn files<S>(options: &LeptosOptions, not_found: S) -> Router
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let policy = CachePolicy {
        pkg_prefix: format!("/{}/", options.site_pkg_dir),
        hashed: options.hash_files,
    };
    let files = ServeDir::new(&*options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .not_found_service(not_found);
    Router::new()
        .fallback_service(files)
        .layer(from_fn_with_state(policy, cache_policy))
}

#[derive(Clone)]
struct CachePolicy {
    pkg_prefix: String,
    hashed: bool,
}

/// Sets how long a browser may keep a file it was given; the 404 page and
/// errors keep the default (`no-store`, set for every response).
async fn cache_policy(State(policy): State<CachePolicy>, request: Request, next: Next) -> Response {
    let immutable = policy.hashed && request.uri().path().starts_with(&policy.pkg_prefix);
    let mut response = next.run(request).await;
    let served = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    if served {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}
