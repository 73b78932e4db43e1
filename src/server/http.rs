//! The HTTP/1.1 server loop, hardened against slow and greedy clients: a
//! request's header must arrive within `header-read-timeout-secs` (which
//! also ends a keep-alive connection idle that long: waiting for the next
//! request is waiting for its header), and one client address (an IPv6
//! /64) holds at most `max-connections-per-address` connections,
//! WebSockets included (the count follows the socket, upgraded or not). Without these, clients
//! that send half a header and then a byte now and then hold a connection
//! each until the process runs out of files. [`read_body_in_time`] holds
//! the request body to a size and a deadline of its own.

use super::limits::ClientAddr;
use crate::protocol::{ApiError, ErrorCode};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::Service;

/// What the loop holds clients to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpLimits {
    pub(crate) header_read: Duration,
    /// Connections per client address at most; 0 for no cap (behind a
    /// proxy every connection comes from the proxy's address).
    pub(crate) per_address: usize,
}

/// Open connections per client address.
#[derive(Default)]
struct Counts(Mutex<HashMap<ClientAddr, usize>>);

impl Counts {
    /// A place for one more connection from `addr`, if it has one left.
    fn take(self: &Arc<Self>, addr: ClientAddr, cap: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(addr).or_default();
        if cap != 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: self.clone(),
            addr,
        })
    }
}

/// One connection's place in [`Counts`], given back when it closes.
struct Slot {
    counts: Arc<Counts>,
    addr: ClientAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.addr);
            }
        }
    }
}

/// A connection that holds its [`Slot`] for as long as it is open, through
/// a WebSocket upgrade too.
struct Counted {
    tcp: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// Serves `router` on `listener` until `stop` resolves; then stops
/// accepting and waits for the open requests to be answered (idle
/// connections close at once; upgraded WebSockets are the chat's to close).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    stop: impl Future<Output = ()>,
) {
    let counts = Arc::new(Counts::default());
    // Every connection task holds a receiver: `closed()` on the sender is
    // "all of them have finished".
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    tokio::pin!(stop);
    loop {
        let (tcp, remote) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files, most likely: let some close.
                    tracing::warn!(error = %e, "accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = counts.take(ClientAddr::from(remote.ip()), limits.per_address) else {
            tracing::debug!(%remote, "too many connections from this address");
            continue;
        };
        // Small frames go out at once: with Nagle's algorithm an ack
        // followed by a delivery on the same socket waits for the client's
        // delayed ACK, 40 ms a message.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            router.clone().call(request)
        });
        let connection = http
            .serve_connection(TokioIo::new(Counted { tcp, _slot: slot }), service)
            .with_upgrades();
        let mut stop_seen = stop_seen.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = async { let _ = stop_seen.wait_for(|stopping| *stopping).await; } => {
                    // Finish the request in hand, take no more.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %remote, "connection");
            }
        });
    }
    drop(listener);
    drop(stop_seen);
    let _ = stopping.send(true);
    stopping.closed().await;
}

/// What a request body is held to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimits {
    /// The whole body must have arrived this long after its header.
    pub(crate) deadline: Duration,
    pub(crate) max_bytes: usize,
}

/// Reads the whole request body before the handler runs: at most
/// `max-body-bytes` (413, `too_large`), all of it within
/// `request-body-timeout-secs` of the header (408, and the connection is
/// closed). A deadline on the whole body, not between its pieces: a client
/// sending a byte every few seconds would pass any gap timeout. Every
/// handler reads the whole body anyway (JSON, forms, server functions), and
/// a body that is already known to be empty is not touched.
pub(crate) async fn read_body_in_time(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if body.size_hint().exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let too_large = || {
        ApiError::new(
            ErrorCode::TooLarge,
            format!("the request body is over {} bytes", limits.max_bytes),
        )
        .into_response()
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return too_large();
    }
    let read = axum::body::to_bytes(body, limits.max_bytes);
    match tokio::time::timeout(limits.deadline, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            if e.into_inner().is::<LengthLimitError>() {
                return too_large();
            }
            ApiError::new(
                ErrorCode::InvalidPayload,
                "the request body could not be read",
            )
            .into_response()
        }
        Err(_) => {
            let error = ApiError::new(
                ErrorCode::InvalidPayload,
                format!(
                    "the request body did not arrive within {} s",
                    limits.deadline.as_secs()
                ),
            );
            let mut response = (StatusCode::REQUEST_TIMEOUT, Json(error)).into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}
