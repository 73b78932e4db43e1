//! Every WebSocket error code of the spec, sent over a real socket to a real
//! server: each bad frame is answered with its code, stores nothing, reaches
//! nobody, and the same connection's next good send is acked and delivered.

use crate::common::{TestServer, TestUser, WsClient, message_id, now_ms};
use natter::protocol::{ConversationId, MAX_CONTENT_CHARS, MAX_FRAME_BYTES};
use serde_json::{Value, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

/// Alice and Bob in a direct chat, Alice's socket, Bob's socket.
struct Chat {
    server: TestServer,
    alice: TestUser,
    bob: TestUser,
    conversation: ConversationId,
    alice_ws: WsClient,
    bob_ws: WsClient,
    /// Good messages sent so far (each acked and delivered).
    good: i64,
}

impl Chat {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let alice = server.user("alice").await;
        let bob = server.user("bob").await;
        let conversation = server.conversation(&alice, &[&bob]).await;
        let alice_ws = alice.ws().await;
        let bob_ws = bob.ws().await;
        Self {
            server,
            alice,
            bob,
            conversation,
            alice_ws,
            bob_ws,
            good: 0,
        }
    }

    fn payload(&self, content: &str) -> Value {
        json!({"conversation_id": self.conversation, "sender_id": self.alice.id,
               "message_id": message_id(), "content": content, "timestamp": now_ms()})
    }

    /// Sends `frame` on Alice's socket and expects `code` back, naming
    /// `message_id` when one is given; then proves the connection is still
    /// healthy (a good send is acked and reaches Bob) and that the bad frame
    /// stored nothing and reached nobody.
    async fn refused(&mut self, label: &str, frame: &str, code: &str, message_id: Option<&str>) {
        self.alice_ws.send_text(frame).await;
        let reply = self.alice_ws.recv().await;
        assert_eq!(reply["event"], "error", "{label}: {reply}");
        assert_eq!(reply["payload"]["code"], code, "{label}: {reply}");
        assert!(
            !reply["payload"]["message"]
                .as_str()
                .unwrap_or("")
                .is_empty(),
            "{label}: an error explains itself: {reply}"
        );
        match message_id {
            Some(id) => assert_eq!(reply["payload"]["message_id"], id, "{label}: {reply}"),
            None => assert!(
                reply["payload"].get("message_id").is_none(),
                "{label}: {reply}"
            ),
        }
        self.still_works(label).await;
    }

    async fn still_works(&mut self, label: &str) {
        let id = message_id();
        let content = format!("good after {label}");
        self.alice_ws
            .send_and_ack(&self.alice.send_frame(self.conversation, &id, &content))
            .await;
        self.good += 1;
        let received = self.bob_ws.expect_event("message.receive").await;
        assert_eq!(
            received["content"], content,
            "{label}: Bob gets only the good message"
        );
        assert_eq!(
            self.server.message_count().await,
            self.good,
            "{label}: nothing of the bad frame was stored"
        );
    }
}

#[tokio::test]
async fn frames_that_are_not_json_objects_are_invalid_json() {
    let mut chat = Chat::start().await;
    // The fields of a good send, as an array instead of an object.
    let as_array = json!(["message.send", chat.payload("hi")]).to_string();
    for (label, frame) in [
        ("plain text", "hello"),
        (
            "truncated JSON",
            r#"{"event": "message.send", "payload": {"#,
        ),
        ("an array", as_array.as_str()),
        ("a string", r#""message.send""#),
        ("no event field", r#"{"payload": {"content": "hi"}}"#),
        ("empty frame", ""),
    ] {
        chat.refused(label, frame, "invalid_json", None).await;
    }
    // A binary frame is not JSON text either.
    use futures::SinkExt;
    chat.alice_ws
        .stream
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            br#"{"event":"message.send"}"#.to_vec().into(),
        ))
        .await
        .unwrap();
    chat.alice_ws.expect_error("invalid_json").await;
    chat.still_works("binary frame").await;
}

#[tokio::test]
async fn events_the_server_does_not_take_are_unknown_event() {
    let mut chat = Chat::start().await;
    let payload = chat.payload("hi");
    for event in [
        "message.destroy",
        "message.receive",
        "message.ack",
        "MESSAGE.SEND",
        "",
    ] {
        let frame = json!({"event": event, "payload": payload}).to_string();
        chat.refused(event, &frame, "unknown_event", None).await;
    }
}

#[tokio::test]
async fn missing_or_wrong_fields_empty_content_and_bad_ids_are_invalid_payload() {
    let mut chat = Chat::start().await;
    let good = chat.payload("hi");
    let with = |key: &str, value: Value| {
        let mut payload = good.clone();
        payload[key] = value;
        payload
    };
    let without = |key: &str| {
        let mut payload = good.clone();
        payload.as_object_mut().unwrap().remove(key);
        payload
    };
    let id = good["message_id"].as_str().unwrap().to_owned();
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("empty content", with("content", json!("")), Some(&id)),
        ("blank content", with("content", json!(" \n\t ")), Some(&id)),
        (
            "content not a string",
            with("content", json!(42)),
            Some(&id),
        ),
        ("no content", without("content"), Some(&id)),
        ("no conversation", without("conversation_id"), Some(&id)),
        ("no sender", without("sender_id"), Some(&id)),
        ("no timestamp", without("timestamp"), Some(&id)),
        ("no message id", without("message_id"), None),
        (
            "message id with a space",
            with("message_id", json!("msg xyz")),
            None,
        ),
        (
            "message id of 65 characters",
            with("message_id", json!("m".repeat(65))),
            None,
        ),
        ("empty message id", with("message_id", json!("")), None),
        (
            "message id with a non-ASCII letter",
            with("message_id", json!("msg_é")),
            None,
        ),
        (
            "conversation id too short",
            with("conversation_id", json!("conv_123")),
            Some(&id),
        ),
        (
            "a user id as the conversation",
            with("conversation_id", json!(chat.alice.id)),
            Some(&id),
        ),
        (
            "a conversation id as the sender",
            with("sender_id", json!(chat.conversation)),
            Some(&id),
        ),
        (
            "timestamp as a string",
            with("timestamp", json!("1713087600000")),
            Some(&id),
        ),
        (
            "negative timestamp",
            with("timestamp", json!(-1)),
            Some(&id),
        ),
        (
            "fractional timestamp",
            with("timestamp", json!(1.5)),
            Some(&id),
        ),
        // PostgreSQL text cannot hold U+0000: such a message must be refused
        // up front, not fail the whole batch it lands in.
        (
            "content with a NUL character",
            with("content", json!("a\u{0}b")),
            Some(&id),
        ),
    ];
    for (label, payload, echoed) in cases {
        let frame = json!({"event": "message.send", "payload": payload}).to_string();
        chat.refused(label, &frame, "invalid_payload", echoed).await;
    }
    for (label, frame) in [
        ("no payload", json!({"event": "message.send"})),
        (
            "payload not an object",
            json!({"event": "message.send", "payload": "hi"}),
        ),
        (
            "payload as an array of the fields",
            json!({"event": "message.send", "payload": [
                chat.conversation, chat.alice.id, message_id(), "hi", now_ms()]}),
        ),
        (
            "read marker without a message id",
            json!({"event": "conversation.read", "payload": {"conversation_id": chat.conversation}}),
        ),
    ] {
        chat.refused(label, &frame.to_string(), "invalid_payload", None)
            .await;
    }
}

#[tokio::test]
async fn content_over_4000_characters_and_frames_over_64_kib_are_too_large() {
    let mut chat = Chat::start().await;
    // Exactly 4,000 characters (8,000 bytes) is allowed and stored whole.
    let at_limit = "é".repeat(MAX_CONTENT_CHARS);
    let id = message_id();
    chat.alice_ws
        .send_and_ack(&chat.alice.send_frame(chat.conversation, &id, &at_limit))
        .await;
    chat.good += 1;
    let received = chat.bob_ws.expect_event("message.receive").await;
    assert_eq!(received["content"], at_limit);
    let (stored, _, _) = chat.server.stored(&id).await.unwrap();
    assert_eq!(stored.chars().count(), MAX_CONTENT_CHARS);

    for (label, content) in [
        ("4,001 ASCII characters", "x".repeat(MAX_CONTENT_CHARS + 1)),
        (
            "4,001 two-byte characters",
            "é".repeat(MAX_CONTENT_CHARS + 1),
        ),
    ] {
        let id = message_id();
        let frame = chat
            .alice
            .send_frame(chat.conversation, &id, &content)
            .to_string();
        assert!(frame.len() < MAX_FRAME_BYTES);
        chat.refused(label, &frame, "too_large", Some(&id)).await;
    }

    // A frame over 64 KiB is refused before it is even parsed.
    let id = message_id();
    let mut payload = chat.payload("hi");
    payload["message_id"] = json!(id);
    payload["padding"] = json!("p".repeat(MAX_FRAME_BYTES));
    let frame = json!({"event": "message.send", "payload": payload}).to_string();
    assert!(frame.len() > MAX_FRAME_BYTES);
    chat.refused("a 64 KiB frame", &frame, "too_large", None)
        .await;
    let huge = chat
        .alice
        .send_frame(chat.conversation, &message_id(), &"y".repeat(70_000))
        .to_string();
    chat.refused("70,000 characters of content", &huge, "too_large", None)
        .await;
}

#[tokio::test]
async fn a_spoofed_sender_or_a_non_participant_is_forbidden() {
    let mut chat = Chat::start().await;
    // Alice writes as Bob, in a conversation both are in.
    let id = message_id();
    let spoofed = chat
        .bob
        .send_frame(chat.conversation, &id, "I am Bob, honest")
        .to_string();
    chat.refused("spoofed sender", &spoofed, "forbidden", Some(&id))
        .await;

    // Alice writes, as herself, into Carol and Dave's chat.
    let carol = chat.server.user("carol").await;
    let dave = chat.server.user("dave").await;
    let theirs = chat.server.conversation(&carol, &[&dave]).await;
    let mut dave_ws = dave.ws().await;
    let id = message_id();
    let intruding = chat.alice.send_frame(theirs, &id, "let me in").to_string();
    chat.refused("not a participant", &intruding, "forbidden", Some(&id))
        .await;
    // ... nor may she mark their messages read.
    let read = json!({"event": "conversation.read", "payload": {
        "conversation_id": theirs, "message_id": "msg_whatever"}})
    .to_string();
    chat.refused(
        "read marker in another's chat",
        &read,
        "forbidden",
        Some("msg_whatever"),
    )
    .await;
    dave_ws.expect_silence(QUIET).await;
}

#[tokio::test]
async fn an_unknown_conversation_is_not_found() {
    let mut chat = Chat::start().await;
    let id = message_id();
    let frame = chat
        .alice
        .send_frame(ConversationId::new_v7(), &id, "anyone there?")
        .to_string();
    chat.refused("unknown conversation", &frame, "not_found", Some(&id))
        .await;
    let read = json!({"event": "conversation.read", "payload": {
        "conversation_id": ConversationId::new_v7(), "message_id": "msg_1"}})
    .to_string();
    chat.refused(
        "read in an unknown conversation",
        &read,
        "not_found",
        Some("msg_1"),
    )
    .await;
}

#[tokio::test]
async fn reusing_a_stored_message_id_for_other_content_is_a_conflict() {
    let mut chat = Chat::start().await;
    let id = message_id();
    chat.alice_ws
        .send_and_ack(&chat.alice.send_frame(chat.conversation, &id, "original"))
        .await;
    chat.good += 1;
    chat.bob_ws.expect_event("message.receive").await;
    let frame = chat
        .alice
        .send_frame(chat.conversation, &id, "edited")
        .to_string();
    chat.refused("other content", &frame, "conflict", Some(&id))
        .await;
    let (content, _, _) = chat.server.stored(&id).await.unwrap();
    assert_eq!(content, "original", "the stored message is untouched");
}

#[tokio::test]
async fn the_database_refusing_a_batch_is_unavailable_and_a_retry_then_works() {
    let mut chat = Chat::start().await;
    // Make every insert fail as a broken database would.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON messages \
             FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&chat.server.db)
    .await
    .unwrap();
    let id = message_id();
    let frame = chat.alice.send_frame(chat.conversation, &id, "try me");
    chat.alice_ws.send_json(&frame).await;
    let error = chat.alice_ws.expect_error("unavailable").await;
    assert_eq!(error["payload"]["message_id"], id);
    chat.bob_ws.expect_silence(QUIET).await;
    assert_eq!(chat.server.message_count().await, 0);

    sqlx::raw_sql("DROP TRIGGER refuse ON messages")
        .execute(&chat.server.db)
        .await
        .unwrap();
    // The same message, retried as the spec tells the client to.
    chat.alice_ws.send_and_ack(&frame).await;
    let received = chat.bob_ws.expect_event("message.receive").await;
    assert_eq!(received["message_id"], id);
    assert_eq!(chat.server.message_count().await, 1);
}

#[tokio::test]
async fn a_burst_of_bad_frames_then_a_good_one_on_the_same_connection() {
    let mut chat = Chat::start().await;
    let stranger = ConversationId::new_v7();
    let frames = [
        "nope".to_owned(),
        json!({"event": "nudge", "payload": {}}).to_string(),
        json!({"event": "message.send", "payload": {"content": ""}}).to_string(),
        chat.alice
            .send_frame(chat.conversation, &message_id(), "")
            .to_string(),
        chat.bob
            .send_frame(chat.conversation, &message_id(), "spoof")
            .to_string(),
        chat.alice
            .send_frame(stranger, &message_id(), "lost")
            .to_string(),
        chat.alice
            .send_frame(chat.conversation, &message_id(), &"z".repeat(5000))
            .to_string(),
    ];
    // All sent back to back, without waiting for the answers.
    for frame in &frames {
        chat.alice_ws.send_text(frame).await;
    }
    let id = message_id();
    chat.alice_ws
        .send_json(&chat.alice.send_frame(chat.conversation, &id, "finally"))
        .await;
    let mut codes = Vec::new();
    for _ in &frames {
        let reply = chat.alice_ws.recv().await;
        assert_eq!(reply["event"], "error", "{reply}");
        codes.push(reply["payload"]["code"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        codes,
        [
            "invalid_json",
            "unknown_event",
            "invalid_payload",
            "invalid_payload",
            "forbidden",
            "not_found",
            "too_large"
        ],
        "answered in order, one each"
    );
    let ack = chat.alice_ws.expect_event("message.ack").await;
    assert_eq!(ack["message_id"], id);
    let received = chat.bob_ws.expect_event("message.receive").await;
    assert_eq!(received["content"], "finally");
    chat.bob_ws.expect_silence(QUIET).await;
    chat.alice_ws.expect_silence(QUIET).await;
    assert_eq!(chat.server.message_count().await, 1);
}

/// One path per action: a send refused over the WebSocket and the same send
/// posted from the page without JavaScript get the same code and the same
/// words.
#[tokio::test]
async fn the_form_and_the_websocket_refuse_a_send_alike() {
    let mut chat = Chat::start().await;
    let carol = chat.server.user("carol").await;
    let dave = chat.server.user("dave").await;
    let theirs = chat.server.conversation(&carol, &[&dave]).await;
    let cases = [
        (
            "not a participant",
            theirs.to_string(),
            "let me in".to_owned(),
        ),
        (
            "4,001 characters",
            chat.conversation.to_string(),
            "x".repeat(4001),
        ),
        ("blank", chat.conversation.to_string(), "   ".to_owned()),
    ];
    for (label, conversation, content) in cases {
        let id = message_id();
        let frame = json!({"event": "message.send", "payload": {
            "conversation_id": conversation, "sender_id": chat.alice.id,
            "message_id": id, "content": content, "timestamp": 1}})
        .to_string();
        chat.alice_ws.send_text(&frame).await;
        let over_ws = chat.alice_ws.recv().await["payload"].clone();
        let form = reqwest::Client::new()
            .post(chat.server.url("/api/send"))
            .header("cookie", format!("natter_session={}", chat.alice.token))
            .form(&[
                ("conversation_id", conversation.as_str()),
                ("message_id", id.as_str()),
                ("content", content.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let status = form.status().as_u16();
        let by_form: serde_json::Value = form.json().await.unwrap();
        assert_eq!(by_form["code"], over_ws["code"], "{label}");
        assert_eq!(by_form["message"], over_ws["message"], "{label}");
        assert_eq!(by_form["field"], over_ws["field"], "{label}");
        let expected_status = match over_ws["code"].as_str() {
            Some("forbidden") => 403,
            Some("too_large") => 413,
            _ => 400,
        };
        assert_eq!(status, expected_status, "{label}: {by_form}");
    }
    assert_eq!(chat.server.message_count().await, 0, "nothing stored");
}
