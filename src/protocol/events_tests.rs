use super::*;
use crate::protocol::{Emoji, MAX_CONTENT_CHARS};
use serde_json::{Value, json};

fn conv() -> ConversationId {
    ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap()
}
fn user() -> UserId {
    UserId::parse("user_0190a6f8c2b47cc1a1b2c3d4e5f60719").unwrap()
}
fn mid(text: &str) -> MessageId {
    MessageId::parse(text).unwrap()
}

fn send_frame(content: &str) -> String {
    json!({"event": "message.send", "payload": {
        "conversation_id": conv(), "sender_id": user(),
        "message_id": "msg_xyz789", "content": content, "timestamp": 1713087600000i64}})
    .to_string()
}

fn code_of(frame: &str) -> ErrorCode {
    decode_client_frame(frame).unwrap_err().code
}

#[test]
fn server_events_have_the_exact_spec_json() {
    let message = MessagePayload {
        conversation_id: conv(),
        sender_id: user(),
        message_id: mid("msg_xyz789"),
        content: Content::parse("hey").unwrap(),
        timestamp: 1713087600000,
        reply_to: None,
        reply: None,
        change: None,
        attachments: vec![],
        mentions: Vec::new(),
    };
    let as_json = |event: ServerEvent| serde_json::from_str::<Value>(&event.to_json()).unwrap();
    assert_eq!(
        as_json(ServerEvent::Receive(message.clone())),
        json!({"event": "message.receive", "payload": {
            "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "sender_id": "user_0190a6f8c2b47cc1a1b2c3d4e5f60719",
            "message_id": "msg_xyz789", "content": "hey", "timestamp": 1713087600000i64}})
    );
    assert_eq!(
        as_json(ServerEvent::Ack(AckPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            timestamp: 1713087600000,
            change: None,
        })),
        json!({"event": "message.ack", "payload": {
            "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "message_id": "msg_xyz789", "timestamp": 1713087600000i64}})
    );
    assert_eq!(
        as_json(ServerEvent::Read(MarkerPayload {
            conversation_id: conv(),
            user_id: user(),
            message_id: mid("msg_1"),
            unread_count: Some(3),
        })),
        json!({"event": "conversation.read", "payload": {
            "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "user_id": user().to_string(), "message_id": "msg_1", "unread_count": 3}})
    );
    // Without a count (a delivered marker), the field is left out.
    assert_eq!(
        as_json(ServerEvent::Delivered(MarkerPayload {
            conversation_id: conv(),
            user_id: user(),
            message_id: mid("msg_1"),
            unread_count: None,
        })),
        json!({"event": "conversation.delivered", "payload": {
            "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "user_id": user().to_string(), "message_id": "msg_1"}})
    );
    assert_eq!(
        as_json(ServerEvent::Presence(PresencePayload {
            user_id: user(),
            online: false,
            last_seen: Some(1713087600000),
        })),
        json!({"event": "presence", "payload": {
            "user_id": user().to_string(), "online": false, "last_seen": 1713087600000i64}})
    );
    assert_eq!(
        as_json(ServerEvent::Error(
            ApiError::new(ErrorCode::Conflict, "taken").about(Some(mid("msg_1")))
        )),
        json!({"event": "error", "payload": {"code": "conflict", "message": "taken", "message_id": "msg_1"}})
    );
    assert_eq!(
        as_json(ServerEvent::Error(
            ApiError::new(ErrorCode::InvalidJson, "bad").about(None)
        )),
        json!({"event": "error", "payload": {"code": "invalid_json", "message": "bad"}})
    );
}

#[test]
fn client_events_round_trip_through_the_decoder() {
    let send = ClientEvent::Send(MessagePayload {
        conversation_id: conv(),
        sender_id: user(),
        message_id: mid("msg_xyz789"),
        content: Content::parse("hey").unwrap(),
        timestamp: 1713087600000,
        reply_to: None,
        reply: None,
        change: None,
        attachments: vec![],
        mentions: Vec::new(),
    });
    let text = serde_json::to_string(&send).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        serde_json::from_str::<Value>(&send_frame("hey")).unwrap()
    );
    assert_eq!(decode_client_frame(&text).unwrap(), send);

    let read = ClientEvent::Read(ReadPayload {
        conversation_id: conv(),
        message_id: mid("msg_1"),
    });
    let text = serde_json::to_string(&read).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"event": "conversation.read", "payload": {
            "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718", "message_id": "msg_1"}})
    );
    assert_eq!(decode_client_frame(&text).unwrap(), read);

    for (event, name) in [
        (
            ClientEvent::Typing(TypingNotice {
                conversation_id: conv(),
            }),
            "typing",
        ),
        (
            ClientEvent::TypingStop(TypingNotice {
                conversation_id: conv(),
            }),
            "typing.stop",
        ),
    ] {
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"event": name, "payload": {
                "conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"}})
        );
        assert_eq!(decode_client_frame(&text).unwrap(), event);
    }
}

#[test]
fn each_kind_of_bad_frame_gets_its_code() {
    assert_eq!(code_of("not json"), ErrorCode::InvalidJson);
    assert_eq!(code_of("[1,2]"), ErrorCode::InvalidJson);
    assert_eq!(code_of(r#"{"payload":{}}"#), ErrorCode::InvalidJson);
    assert_eq!(
        code_of(r#"{"event":"message.destroy","payload":{}}"#),
        ErrorCode::UnknownEvent
    );
    assert_eq!(
        code_of(r#"{"event":"message.send"}"#),
        ErrorCode::InvalidPayload
    );
    assert_eq!(
        code_of(r#"{"event":"message.send","payload":{"content":"x"}}"#),
        ErrorCode::InvalidPayload
    );
    assert_eq!(code_of(&send_frame("")), ErrorCode::InvalidPayload);
    assert_eq!(code_of(&send_frame("  \n ")), ErrorCode::InvalidPayload);
    assert_eq!(
        code_of(&send_frame(&"é".repeat(MAX_CONTENT_CHARS + 1))),
        ErrorCode::TooLarge
    );
    assert_eq!(
        code_of(&" ".repeat(MAX_FRAME_BYTES + 1)),
        ErrorCode::TooLarge
    );
    let bad_id = send_frame("hi").replace("msg_xyz789", "msg xyz");
    assert_eq!(code_of(&bad_id), ErrorCode::InvalidPayload);
    let user_as_conv = send_frame("hi").replace("conv_", "user_");
    assert_eq!(code_of(&user_as_conv), ErrorCode::InvalidPayload);
}

#[test]
fn content_at_the_limit_is_accepted_and_counted_in_characters() {
    // 4,000 two-byte characters: 8,000 bytes but exactly at the limit.
    assert!(decode_client_frame(&send_frame(&"é".repeat(MAX_CONTENT_CHARS))).is_ok());
}

#[test]
fn an_invalid_payload_still_names_its_message_id_when_readable() {
    let frame = json!({"event": "message.send", "payload": {
        "conversation_id": "nope", "message_id": "msg_keep", "content": "x"}})
    .to_string();
    let error = decode_client_frame(&frame).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidPayload);
    assert_eq!(error.message_id, Some(mid("msg_keep")));
    let too_long = decode_client_frame(&send_frame(&"x".repeat(5000))).unwrap_err();
    assert_eq!(too_long.message_id, Some(mid("msg_xyz789")));
}

#[test]
fn timestamps_far_in_the_future_are_clamped_to_the_server_clock() {
    let now = 1_700_000_000_000;
    assert_eq!(clamp_timestamp(now + 60_000, now), now + 60_000);
    assert_eq!(clamp_timestamp(now + 60_001, now), now);
    assert_eq!(clamp_timestamp(now - 3_600_000, now), now - 3_600_000);
    assert_eq!(clamp_timestamp(i64::MAX, now), now);
}

#[test]
fn only_json_objects_are_frames_and_payloads() {
    // serde would read these arrays as the fields in order; the wire format
    // is objects only.
    let payload: Value =
        serde_json::from_str::<Value>(&send_frame("hi")).unwrap()["payload"].clone();
    let as_array = json!(["message.send", payload]).to_string();
    assert_eq!(code_of(&as_array), ErrorCode::InvalidJson);
    let positional = json!({"event": "message.send", "payload": [
        "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718", "user_0190a6f8c2b47cc1a1b2c3d4e5f60719",
        "msg_xyz789", "hey", 1713087600000i64]})
    .to_string();
    assert_eq!(code_of(&positional), ErrorCode::InvalidPayload);
    let read = json!({"event": "conversation.read", "payload": [
        "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718", "msg_1"]})
    .to_string();
    assert_eq!(code_of(&read), ErrorCode::InvalidPayload);
    // Whitespace around the object is still fine.
    assert!(decode_client_frame(&format!(" \n{}\n", send_frame("hi"))).is_ok());
}

#[test]
fn content_with_a_nul_character_is_invalid() {
    // PostgreSQL text cannot store U+0000.
    let error = decode_client_frame(&send_frame("a\u{0}b")).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidPayload);
    assert_eq!(error.message_id, Some(mid("msg_xyz789")));
}

#[test]
fn the_browser_reads_back_every_server_event_and_refuses_others() {
    let events = [
        ServerEvent::Receive(MessagePayload {
            conversation_id: conv(),
            sender_id: user(),
            message_id: mid("msg_xyz789"),
            content: Content::parse("hey \"you\" \u{1F44B}").unwrap(),
            timestamp: 1713087600000,
            reply_to: None,
            reply: None,
            change: None,
            attachments: vec![],
            mentions: Vec::new(),
        }),
        ServerEvent::Ack(AckPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            timestamp: 1713087600001,
            change: None,
        }),
        ServerEvent::Read(MarkerPayload {
            conversation_id: conv(),
            user_id: user(),
            message_id: mid("msg_xyz789"),
            unread_count: Some(2),
        }),
        ServerEvent::Delivered(MarkerPayload {
            conversation_id: conv(),
            user_id: user(),
            message_id: mid("msg_xyz789"),
            unread_count: None,
        }),
        ServerEvent::Presence(PresencePayload {
            user_id: user(),
            online: true,
            last_seen: None,
        }),
        ServerEvent::PresenceState(PresenceList {
            people: vec![PresencePayload {
                user_id: user(),
                online: false,
                last_seen: None,
            }],
        }),
        ServerEvent::Typing(MemberPayload {
            conversation_id: conv(),
            user_id: user(),
        }),
        ServerEvent::TypingStop(MemberPayload {
            conversation_id: conv(),
            user_id: user(),
        }),
        ServerEvent::Error(
            ApiError::new(ErrorCode::RateLimited, "slow down").about(Some(mid("msg_1"))),
        ),
        ServerEvent::Error(ApiError::new(ErrorCode::InvalidJson, "bad").about(None)),
        ServerEvent::Receive(MessagePayload {
            conversation_id: conv(),
            sender_id: user(),
            message_id: mid("msg_r"),
            content: Content::parse("yes").unwrap(),
            timestamp: 1,
            reply_to: Some(mid("msg_xyz789")),
            reply: Some(Quote {
                message_id: mid("msg_xyz789"),
                sender_id: user(),
                text: None,
            }),
            change: Some(7),
            attachments: vec![],
            mentions: Vec::new(),
        }),
        ServerEvent::ActionAck(ActionAck {
            action_id: mid("act_1"),
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            change: None,
        }),
        ServerEvent::Edited(EditedPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            content: Content::parse("fixed").unwrap(),
            edited_at: 5,
            change: 8,
        }),
        ServerEvent::Deleted(DeletedPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            change: 9,
        }),
        ServerEvent::Reacted(ReactedPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            user_id: user(),
            emoji: Emoji::parse("👍").unwrap(),
            change: 10,
        }),
        ServerEvent::Unreacted(ReactedPayload {
            conversation_id: conv(),
            message_id: mid("msg_xyz789"),
            user_id: user(),
            emoji: Emoji::parse("👍").unwrap(),
            change: 11,
        }),
        ServerEvent::Error(ApiError::forbidden("no").about_action(Some(mid("act_2")))),
    ];
    for event in events {
        assert_eq!(ServerEvent::from_json(&event.to_json()).unwrap(), event);
    }
    // The payload may come first; unknown events and bad payloads are errors.
    let reordered = r#"{"payload": {"conversation_id": "conv_0190a6f8c2b47cc1a1b2c3d4e5f60718", "user_id": "user_0190a6f8c2b47cc1a1b2c3d4e5f60719", "message_id": "m1"}, "event": "conversation.read"}"#;
    assert!(matches!(
        ServerEvent::from_json(reordered),
        Ok(ServerEvent::Read(_))
    ));
    assert!(ServerEvent::from_json(r#"{"event": "nudge", "payload": {}}"#).is_err());
    assert!(ServerEvent::from_json(r#"{"event": "typing", "payload": {}}"#).is_err());
    assert!(ServerEvent::from_json(r#"{"event": "message.ack", "payload": {}}"#).is_err());
    assert!(ServerEvent::from_json(r#"{"payload": {}}"#).is_err());
    assert!(ServerEvent::from_json("[1]").is_err());
}

#[test]
fn actions_decode_with_their_action_id_and_refusals_name_it() {
    let edit = r#"{"event":"message.edit","payload":{"action_id":"act_1","conversation_id":"conv_0190a6f8c2b47cc1a1b2c3d4e5f60718","message_id":"msg_xyz789","content":"fixed"}}"#;
    match decode_client_frame(edit).unwrap() {
        ClientEvent::Edit(e) => {
            assert_eq!((e.action_id, e.content.as_str()), (mid("act_1"), "fixed"))
        }
        other => panic!("{other:?}"),
    }
    let blank = edit.replace("fixed", "  ");
    let error = decode_client_frame(&blank).unwrap_err();
    assert_eq!(
        (error.field.as_deref(), error.action_id, error.message_id),
        (Some("content"), Some(mid("act_1")), None)
    );
    let react = r#"{"event":"reaction.add","payload":{"action_id":"act_2","conversation_id":"conv_0190a6f8c2b47cc1a1b2c3d4e5f60718","message_id":"msg_xyz789","emoji":"not one"}}"#;
    let error = decode_client_frame(react).unwrap_err();
    assert_eq!(
        (
            error.field.as_deref(),
            error.message.as_str(),
            error.action_id
        ),
        (
            Some("emoji"),
            "emoji must be a single emoji",
            Some(mid("act_2"))
        )
    );
}
