//! Slow and greedy clients: a header or body that dribbles in, idle
//! connections, and one address opening connection after connection. Each
//! would otherwise hold a socket and a task for as long as it liked.

use crate::common::{TestServer, WsClient, username, ws_request};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;

/// Reads until the server closes the connection (or resets it); what it
/// sent before that.
async fn until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server closes `tcp` within `limit`.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> bool {
    tokio::time::timeout(limit, until_closed(tcp)).await.is_ok()
}

#[tokio::test]
async fn a_client_dribbling_its_header_is_cut_off() {
    let server = TestServer::start_with(&[("NATTER_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: natter\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (mut read, mut write) = tcp.into_split();
    // A header line every 200 ms, for up to 10 s: each keeps the
    // connection busy, none finishes the header.
    let dribble = tokio::spawn(async move {
        for i in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write
                .write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    dribble.abort();
    assert!(
        closed.is_ok(),
        "a header still arriving after 5 s should have been cut off at 1 s"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "cut off before its time: {:?}",
        started.elapsed()
    );
    // The server still answers everyone else.
    let page = reqwest::get(server.url("/login")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed() {
    let server = TestServer::start_with(&[("NATTER_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    // Connects and says nothing.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    // Asks once, keeps the connection, and asks nothing more.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /login HTTP/1.1\r\nHost: natter\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut silent, Duration::from_secs(4)).await,
        "a connection that sent nothing is still open"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(4)).await,
        "an idle keep-alive connection is still open"
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_gets_408_and_changes_nothing() {
    let server = TestServer::start_with(&[("NATTER_REQUEST_BODY_TIMEOUT_SECS", "1")]).await;
    let body = format!(
        r#"{{"username":"{}","password":"correct horse"}}"#,
        username("slow")
    );
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(
        format!(
            "POST /api/v1/auth/register HTTP/1.1\r\nHost: natter\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (mut read, mut write) = tcp.into_split();
    // A byte every 200 ms: no gap is long, the whole takes 10 s.
    let trickle = tokio::spawn(async move {
        for byte in body.into_bytes() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), read.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(closed.is_ok(), "the connection is still open after 5 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "expected 408, got: {answer}"
    );
    assert!(answer.contains(r#""code":"invalid_payload""#), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(
        server.user_count().await,
        0,
        "a cut-off sign-up made an account"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_without_a_length_is_refused() {
    let server = TestServer::start().await;
    // Chunked: no Content-Length to refuse it by up front.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: natter\r\n\
          Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = format!("1000\r\n{}\r\n", " ".repeat(4096));
    for _ in 0..40 {
        if tcp.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let answer = tokio::time::timeout(Duration::from_secs(5), until_closed(&mut tcp))
        .await
        .expect("answered and closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "expected 413, got: {answer}"
    );
    assert!(answer.contains(r#""code":"too_large""#), "{answer}");
    assert_eq!(server.user_count().await, 0);
}

/// A connection to `server` from another loopback address than the one
/// everything else in the test uses (Linux routes all of 127/8 to itself).
async fn connect_from(source: [u8; 4], server: &TestServer) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((std::net::Ipv4Addr::from(source), 0).into())?;
    socket.connect(server.addr).await
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections_websockets_included() {
    let server = TestServer::start_with(&[("NATTER_MAX_CONNECTIONS_PER_ADDRESS", "3")]).await;
    // Signed up from 127.0.0.1; the greedy client is 127.0.0.2.
    let user = server.user("greedy").await;
    const GREEDY: [u8; 4] = [127, 0, 0, 2];
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect_from(GREEDY, &server).await.unwrap());
    }
    // The third place goes to a WebSocket, which keeps it while open.
    let auth = format!("Bearer {}", user.token);
    let (stream, _) = tokio_tungstenite::client_async(
        ws_request(&server.base, &[("authorization", &auth)]),
        MaybeTlsStream::Plain(connect_from(GREEDY, &server).await.unwrap()),
    )
    .await
    .expect("the third connection upgrades");
    let mut ws = WsClient { stream };
    let mut over = connect_from(GREEDY, &server).await.unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(2)).await,
        "a fourth connection from one address was kept"
    );
    // The ones it holds still work, and other addresses are not held back.
    held[0]
        .write_all(b"GET /login HTTP/1.1\r\nHost: natter\r\n\r\n")
        .await
        .unwrap();
    let mut status = [0u8; 12];
    held[0].read_exact(&mut status).await.unwrap();
    assert_eq!(&status, b"HTTP/1.1 200");
    ws.expect_silence(Duration::from_millis(200)).await;
    let page = reqwest::get(server.url("/login")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // Closing one frees its place.
    drop(ws);
    let freed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut next = connect_from(GREEDY, &server).await.unwrap();
            next.write_all(b"GET /login HTTP/1.1\r\nHost: natter\r\n\r\n")
                .await
                .unwrap();
            let mut status = [0u8; 12];
            if next.read_exact(&mut status).await.is_ok() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a freed place is never given back");
    assert_eq!(&freed, b"HTTP/1.1 200");
}
