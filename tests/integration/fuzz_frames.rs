//! Arbitrary frames against the protocol decoder and a live connection:
//! never a panic, always a spec error or a valid event, and a bad frame never
//! closes the connection.

use crate::common::{TestServer, message_id};
use natter::protocol::{
    ClientEvent, ErrorCode, MAX_CONTENT_CHARS, MAX_FRAME_BYTES, MAX_PRESENCE_SUBSCRIPTION,
    MessageId, decode_client_frame,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::time::Duration;

/// JSON values of every shape, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718")),
        Just(json!("user_0190a6f8c2b47cc1a1b2c3d4e5f60719")),
        Just(json!("msg_ok")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("event".to_owned()),
                    Just("payload".to_owned()),
                    Just("conversation_id".to_owned()),
                    Just("sender_id".to_owned()),
                    Just("message_id".to_owned()),
                    Just("content".to_owned()),
                    Just("timestamp".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Frames that are nearly right: a real event name with a payload whose
/// fields are each right, wrong or missing.
fn near_miss_frame() -> impl Strategy<Value = Value> {
    let event = prop_oneof![
        Just(json!("message.send")),
        Just(json!("conversation.read")),
        Just(json!("conversation.delivered")),
        Just(json!("presence.subscribe")),
        Just(json!("typing")),
        Just(json!("typing.stop")),
        Just(json!("message.edit")),
        Just(json!("message.delete")),
        Just(json!("reaction.add")),
        Just(json!("reaction.remove")),
        Just(json!("message.receive")),
        Just(json!(7)),
        ".{0,12}".prop_map(Value::String),
    ];
    let field = |good: Value| {
        prop_oneof![
            3 => Just(Some(good)),
            1 => Just(None),
            1 => any_json().prop_map(Some),
        ]
    };
    (
        event,
        field(json!("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718")),
        field(json!("user_0190a6f8c2b47cc1a1b2c3d4e5f60719")),
        field(json!("msg_abc-123")),
        prop_oneof![3 => ".{0,60}".prop_map(|s| Some(json!(s))), 1 => Just(None), 1 => any_json().prop_map(Some)],
        field(json!(1_713_087_600_000i64)),
        field(json!("act_abc-123")),
        prop_oneof![2 => Just(Some(json!("👍"))), 1 => ".{0,4}".prop_map(|s| Some(json!(s))), 1 => Just(None)],
    )
        .prop_map(|(event, conv, sender, id, content, ts, action, emoji)| {
            let mut payload = serde_json::Map::new();
            for (key, value) in [
                ("conversation_id", conv),
                ("sender_id", sender),
                ("message_id", id),
                ("content", content),
                ("timestamp", ts),
                ("action_id", action),
                ("emoji", emoji),
            ] {
                if let Some(value) = value {
                    payload.insert(key.to_owned(), value);
                }
            }
            json!({"event": event, "payload": payload})
        })
}

fn check_decoded(text: &str) {
    match decode_client_frame(text) {
        Ok(ClientEvent::Send(m)) => {
            assert!(text.len() <= MAX_FRAME_BYTES);
            assert!(!m.content.trim().is_empty());
            assert!(m.content.chars().count() <= MAX_CONTENT_CHARS);
            assert!(MessageId::parse(m.message_id.as_str()).is_some());
            assert!(m.timestamp >= 0);
        }
        Ok(ClientEvent::Read(r) | ClientEvent::Delivered(r)) => {
            assert!(MessageId::parse(r.message_id.as_str()).is_some());
        }
        Ok(ClientEvent::PresenceSubscribe(s)) => {
            assert!(s.user_ids.len() <= MAX_PRESENCE_SUBSCRIPTION);
        }
        Ok(ClientEvent::Typing(t) | ClientEvent::TypingStop(t)) => {
            assert!(text.contains(&t.conversation_id.to_string()));
        }
        Ok(ClientEvent::Edit(e)) => {
            assert!(!e.content.trim().is_empty());
            assert!(e.content.chars().count() <= MAX_CONTENT_CHARS);
            assert!(MessageId::parse(e.action_id.as_str()).is_some());
        }
        Ok(ClientEvent::Delete(d)) => {
            assert!(MessageId::parse(d.action_id.as_str()).is_some());
        }
        Ok(ClientEvent::React(r) | ClientEvent::Unreact(r)) => {
            assert!(!r.emoji.is_empty() && r.emoji.len() <= 32);
            assert!(!r.emoji.chars().any(char::is_alphanumeric));
        }
        Err(e) => {
            assert!(matches!(
                e.code,
                ErrorCode::InvalidJson
                    | ErrorCode::UnknownEvent
                    | ErrorCode::InvalidPayload
                    | ErrorCode::TooLarge
            ));
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_decodes_to_a_valid_event_or_a_spec_error(text in ".{0,300}") {
        check_decoded(&text);
    }

    #[test]
    fn any_json_decodes_to_a_valid_event_or_a_spec_error(value in any_json()) {
        check_decoded(&value.to_string());
    }

    #[test]
    fn near_misses_decode_to_a_valid_event_or_a_spec_error(value in near_miss_frame()) {
        check_decoded(&value.to_string());
    }
}

#[tokio::test]
async fn a_live_connection_survives_hundreds_of_arbitrary_frames_and_stores_nothing() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    let mut ws = alice.ws().await;

    let mut runner = TestRunner::deterministic();
    let strategy = prop_oneof![any_json(), near_miss_frame()];
    let mut sent = 0;
    for _ in 0..300 {
        let frame = strategy.new_tree(&mut runner).unwrap().current();
        // The conversation in the fuzzed frames is not a real one, so even a
        // well-formed send must be refused: nothing may be stored.
        ws.send_json(&frame).await;
        sent += 1;
        let reply = ws.recv().await;
        assert_eq!(reply["event"], "error", "{frame} -> {reply}");
    }
    ws.send_text("\u{0}\u{ffff} not json").await;
    assert_eq!(ws.recv().await["payload"]["code"], "invalid_json");
    ws.stream
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![0, 1, 2].into(),
        ))
        .await
        .unwrap();
    assert_eq!(ws.recv().await["payload"]["code"], "invalid_json");

    // After all that, the same connection still sends and receives.
    let id = message_id();
    ws.send_and_ack(&alice.send_frame(conversation, &id, "still here"))
        .await;
    ws.expect_silence(Duration::from_millis(200)).await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(
        stored, 1,
        "only the one good message of {sent} frames was stored"
    );
}

use futures::SinkExt;
