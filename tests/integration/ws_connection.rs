//! The WebSocket connection itself: who may open one (401 / 403 before the
//! upgrade), and what happens to a client that stops reading.

use crate::common::{TestServer, WsClient, connect_ws, message_id, ws_request};
use futures::StreamExt;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn an_upgrade_without_a_valid_session_is_401_before_any_socket_opens() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    for (label, headers) in [
        ("no credentials", vec![]),
        (
            "unknown bearer token",
            vec![("authorization", "Bearer not-a-session")],
        ),
        (
            "unknown cookie",
            vec![("cookie", "natter_session=not-a-session")],
        ),
        (
            "another cookie's name",
            vec![("cookie", "session=whatever")],
        ),
    ] {
        let refused = connect_ws(&server.base, &headers)
            .await
            .err()
            .unwrap_or_else(|| panic!("{label}: the upgrade must be refused"));
        assert_eq!(refused.status, 401, "{label}: {refused:?}");
        let body: Value = serde_json::from_str(&refused.body).unwrap();
        assert_eq!(body["code"], "unauthorized", "{label}");
    }
    assert_eq!(server.state.chat.hub.connection_count(), 0);

    // A session that ended (logout) no longer opens one either.
    let auth = format!("Bearer {}", alice.token);
    assert!(
        connect_ws(&server.base, &[("authorization", &auth)])
            .await
            .is_ok()
    );
    let logout = alice
        .post("/api/v1/auth/logout", &serde_json::json!({}))
        .await;
    assert_eq!(logout.status(), 204);
    let refused = connect_ws(&server.base, &[("authorization", &auth)])
        .await
        .err()
        .expect("refused after logout");
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn logout_closes_the_sessions_open_sockets() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mut ws = alice.ws().await;
    let logout = alice
        .post("/api/v1/auth/logout", &serde_json::json!({}))
        .await;
    assert_eq!(logout.status(), 204);
    let close = ws.next_close().await;
    assert_eq!(close, Some(4001), "closed as signed out");
}

#[tokio::test]
async fn past_the_per_user_limit_the_oldest_connection_is_closed() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut oldest = alice.ws().await;
    let mut others = Vec::new();
    for _ in 0..32 {
        others.push(alice.ws().await);
    }
    assert_eq!(oldest.next_close().await, Some(4002));
    // The 32 newest all still receive.
    let mut bob_ws = bob.ws().await;
    let id = message_id();
    bob_ws
        .send_and_ack(&bob.send_frame(conversation, &id, "to every tab"))
        .await;
    for ws in &mut others {
        assert_eq!(ws.recv().await["payload"]["message_id"], id);
    }
}

#[tokio::test]
async fn an_upgrade_from_another_sites_page_is_refused_and_our_own_or_none_is_not() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let cookie = format!("natter_session={}", alice.token);
    let bearer = format!("Bearer {}", alice.token);
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    for (label, headers) in [
        (
            "another site, cookie",
            vec![
                ("cookie", cookie.as_str()),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "another site, bearer",
            vec![
                ("authorization", bearer.as_str()),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "another port of our host",
            vec![("cookie", cookie.as_str()), ("origin", other_port.as_str())],
        ),
        (
            "an opaque origin",
            vec![("cookie", cookie.as_str()), ("origin", "null")],
        ),
    ] {
        let refused = connect_ws(&server.base, &headers)
            .await
            .err()
            .unwrap_or_else(|| panic!("{label}: the upgrade must be refused"));
        assert_eq!(refused.status, 403, "{label}: {refused:?}");
        let body: Value = serde_json::from_str(&refused.body).unwrap();
        assert_eq!(body["code"], "forbidden", "{label}");
    }
    assert_eq!(
        server.state.chat.hub.connection_count(),
        0,
        "no refused socket was registered"
    );

    // Our own page (the browser sends our origin), and a client that sends
    // none, both connect and chat.
    let mut own = alice
        .ws_with_cookie(Some(&server.base))
        .await
        .expect("own origin connects");
    let mut no_origin = alice
        .ws_with_cookie(None)
        .await
        .expect("no origin connects");
    let id = message_id();
    own.send_and_ack(&alice.send_frame(conversation, &id, "from our page"))
        .await;
    let received = no_origin.recv().await;
    assert_eq!(received["event"], "message.receive");
    assert_eq!(received["payload"]["message_id"], id);
}

#[tokio::test]
async fn a_configured_origin_may_connect() {
    let server =
        TestServer::start_with(&[("NATTER_ALLOWED_ORIGINS", r#"["https://chat.example.com"]"#)])
            .await;
    let alice = server.user("alice").await;
    assert!(
        alice
            .ws_with_cookie(Some("https://chat.example.com"))
            .await
            .is_ok()
    );
    let refused = alice
        .ws_with_cookie(Some("https://chat.example.org"))
        .await
        .err()
        .expect("an unlisted origin is refused");
    assert_eq!(refused.status, 403);
}

/// The TCP states (`/proc/net/tcp`, hex) of the server's side of connections
/// from `client`.
fn server_side_states(server: SocketAddr, client: SocketAddr) -> Vec<String> {
    let hex = |addr: SocketAddr| match addr {
        SocketAddr::V4(v4) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        ),
        SocketAddr::V6(_) => unreachable!("the tests listen on 127.0.0.1"),
    };
    let (local, remote) = (hex(server), hex(client));
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str()))
                .then(|| fields[3].to_owned())
        })
        .collect()
}

const TCP_ESTABLISHED: &str = "01";

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_and_everyone_else_gets_every_message() {
    let server = TestServer::start_with(&[("NATTER_OUTBOUND_QUEUE", "8")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = server.conversation(&alice, &[&bob, &carol]).await;
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;

    // Carol's socket reads nothing once open; a small receive buffer fills
    // the pipe sooner.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let carol_addr = tcp.local_addr().unwrap();
    let auth = format!("Bearer {}", carol.token);
    let (stalled, _) = tokio_tungstenite::client_async(
        ws_request(&server.base, &[("authorization", &auth)]),
        tokio_tungstenite::MaybeTlsStream::Plain(tcp),
    )
    .await
    .unwrap();
    let mut stalled = WsClient { stream: stalled };
    assert_eq!(server.state.chat.hub.connection_count(), 3);

    // The largest messages, a few in flight at a time (not more than the
    // queue holds: a burst of acks larger than it is too slow by
    // definition), until Carol's queue overflows and the server lets go of
    // her.
    // 4,000 four-byte characters: 16 KB a frame fills the pipe in fewer.
    let content = "\u{1F4AC}".repeat(4000);
    let mut sent = Vec::new();
    let mut kicked = false;
    while sent.len() < 3000 {
        let window: Vec<String> = (0..4).map(|_| message_id()).collect();
        for id in &window {
            alice_ws
                .send_json(&alice.send_frame(group, id, &content))
                .await;
        }
        for id in &window {
            let ack = alice_ws.recv().await;
            assert_eq!(ack["event"], "message.ack", "{ack}");
            assert_eq!(ack["payload"]["message_id"], *id, "acks in send order");
        }
        // Bob keeps up, in order, whatever happens to Carol.
        for id in &window {
            let received = bob_ws.recv().await;
            assert_eq!(received["event"], "message.receive");
            assert_eq!(received["payload"]["message_id"], *id);
        }
        sent.extend(window);
        if server.state.chat.hub.connection_count() == 2 {
            kicked = true;
            break;
        }
    }
    eprintln!("Carol was cut off after {} messages", sent.len());
    assert!(
        kicked,
        "a client that never reads is disconnected ({} messages sent)",
        sent.len()
    );
    assert!(!server.state.chat.hub.is_online(carol.id));

    // The server does not hold on to the dead socket waiting for a reader
    // that will never come: its side of the TCP connection is closed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let states = server_side_states(server.addr, carol_addr);
        if !states.iter().any(|s| s == TCP_ESTABLISHED) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still holds Carol's socket open: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // More messages still reach Bob at once.
    let id = message_id();
    alice_ws
        .send_and_ack(&alice.send_frame(group, &id, "still flowing"))
        .await;
    assert_eq!(bob_ws.recv().await["payload"]["message_id"], id);
    sent.push(id);

    // When Carol reads again she finds the connection ended short of the
    // end; she reconnects and catches up from history.
    let mut seen = 0;
    loop {
        match tokio::time::timeout(crate::common::PATIENCE, stalled.stream.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => seen += 1,
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => break,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("Carol's socket neither ended nor delivered"),
        }
    }
    assert!(
        seen < sent.len(),
        "she missed some: {seen} of {}",
        sent.len()
    );
    let mut cursor = String::new();
    let mut history = Vec::new();
    loop {
        let page: Value = carol
            .get(&format!("/api/v1/chat/{group}?limit=100{cursor}"))
            .await
            .json()
            .await
            .unwrap();
        for m in page["messages"].as_array().unwrap() {
            history.push(m["message_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    history.reverse();
    assert_eq!(history, sent, "history holds every message, in order");
}

#[tokio::test]
async fn an_idle_client_that_answers_pings_stays_and_a_silent_one_is_dropped() {
    let server = TestServer::start_with(&[("NATTER_PING_INTERVAL_SECS", "1")]).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    // Alice reads (and so answers pings); Bob's client never reads again.
    let mut alice_ws = alice.ws().await;
    let _silent = bob.ws().await;
    assert_eq!(server.state.chat.hub.connection_count(), 2);
    // Three ping intervals of silence drop a peer; wait a little longer.
    alice_ws.expect_silence(Duration::from_millis(4500)).await;
    assert!(server.state.chat.hub.is_online(alice.id), "Alice stays");
    assert!(!server.state.chat.hub.is_online(bob.id), "Bob is gone");
    let id = message_id();
    alice_ws
        .send_and_ack(&alice.send_frame(conversation, &id, "still here"))
        .await;
}
