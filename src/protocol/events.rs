//! WebSocket frames: `{"event": "<name>", "payload": {...}}`, both ways.
//!
//! Decoding a client frame is a pure function so that the server, the tests
//! and the fuzzer all exercise the same code: it either yields a valid
//! [`ClientEvent`] or a [`FrameError`] carrying the spec's error code, and it
//! never panics whatever the input.

use super::error::ErrorCode;
use super::ids::{ConversationId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Content longer than this many characters (Unicode scalar values) is refused
/// with `too_large`.
pub const MAX_CONTENT_CHARS: usize = 4000;
/// A text frame longer than this many bytes is refused with `too_large`.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// `message.send`, client → server; also the body of `message.receive`,
/// server → every other connection of every participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePayload {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub message_id: MessageId,
    pub content: String,
    /// The sender's clock in milliseconds since the epoch, as sent, unless it
    /// was more than 60 s ahead of the server (then the server's time).
    pub timestamp: i64,
}

/// `message.ack`, server → the sending connection, once the message is
/// committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub timestamp: i64,
}

/// `conversation.read`, both ways: everything up to `message_id` is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// `error`, server → the connection whose frame it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
}

/// Every frame a client may send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", content = "payload")]
pub enum ClientEvent {
    #[serde(rename = "message.send")]
    Send(MessagePayload),
    #[serde(rename = "conversation.read")]
    Read(ReadPayload),
}

/// Every frame the server sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "payload")]
pub enum ServerEvent {
    #[serde(rename = "message.receive")]
    Receive(MessagePayload),
    #[serde(rename = "message.ack")]
    Ack(AckPayload),
    #[serde(rename = "conversation.read")]
    Read(ReadPayload),
    #[serde(rename = "error")]
    Error(ErrorPayload),
}

impl ServerEvent {
    /// Reads a frame from the server. Written out rather than derived from
    /// the adjacently tagged enum: serde would buffer every payload into a
    /// generic value first, and that machinery is a sizeable part of the
    /// browser's bundle.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawFrame = serde_json::from_str(text)?;
        let payload = raw.payload.map_or("null", RawValue::get);
        Ok(match raw.event.unwrap_or_default() {
            "message.receive" => Self::Receive(serde_json::from_str(payload)?),
            "message.ack" => Self::Ack(serde_json::from_str(payload)?),
            "conversation.read" => Self::Read(serde_json::from_str(payload)?),
            "error" => Self::Error(serde_json::from_str(payload)?),
            other => {
                return Err(serde::de::Error::custom(format_args!(
                    "unknown event {:?}",
                    truncate(other, 64)
                )));
            }
        })
    }

    /// The frame's JSON text. Serialising these types cannot fail (string
    /// keys, no maps with non-string keys), so this never returns garbage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"event":"error","payload":{"code":"internal","message":"encoding failed"}}"#
                .to_owned()
        })
    }
}

/// Why a client frame was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
    /// The frame's message id when it could be read, so the client can match
    /// the error to its pending message.
    pub message_id: Option<MessageId>,
}

impl FrameError {
    fn new(code: ErrorCode, message: impl Into<String>, message_id: Option<MessageId>) -> Self {
        Self {
            code,
            message: message.into(),
            message_id,
        }
    }

    pub fn into_event(self) -> ServerEvent {
        ServerEvent::Error(ErrorPayload {
            code: self.code,
            message: self.message,
            message_id: self.message_id,
        })
    }
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    event: Option<&'a str>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// Reads just the message id of a payload that failed to decode, if it has a
/// well-formed one.
fn salvage_message_id(payload: &RawValue) -> Option<MessageId> {
    #[derive(Deserialize)]
    struct JustId<'a> {
        message_id: Option<&'a str>,
    }
    serde_json::from_str::<JustId>(payload.get())
        .ok()?
        .message_id
        .and_then(MessageId::parse)
}

/// Decodes and validates one client text frame.
pub fn decode_client_frame(text: &str) -> Result<ClientEvent, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::new(
            ErrorCode::TooLarge,
            format!(
                "frame is {} bytes; the limit is {MAX_FRAME_BYTES}",
                text.len()
            ),
            None,
        ));
    }
    // serde's derived structs also accept a JSON array of the fields in
    // order; the wire format is objects only.
    if !is_object(text) {
        return Err(FrameError::new(
            ErrorCode::InvalidJson,
            "frame is not a JSON object",
            None,
        ));
    }
    let raw: RawFrame = serde_json::from_str(text).map_err(|e| {
        FrameError::new(
            ErrorCode::InvalidJson,
            format!("frame is not a JSON object: {e}"),
            None,
        )
    })?;
    let Some(event) = raw.event else {
        return Err(FrameError::new(
            ErrorCode::InvalidJson,
            "frame has no \"event\" field",
            None,
        ));
    };
    let Some(payload) = raw.payload else {
        return Err(FrameError::new(
            ErrorCode::InvalidPayload,
            format!("{event} needs a \"payload\" object"),
            None,
        ));
    };
    let invalid = |e: serde_json::Error| {
        FrameError::new(
            ErrorCode::InvalidPayload,
            format!("invalid {event} payload: {e}"),
            salvage_message_id(payload),
        )
    };
    if matches!(event, "message.send" | "conversation.read") && !is_object(payload.get()) {
        return Err(FrameError::new(
            ErrorCode::InvalidPayload,
            format!("{event} needs a \"payload\" object"),
            None,
        ));
    }
    match event {
        "message.send" => {
            let message: MessagePayload = serde_json::from_str(payload.get()).map_err(invalid)?;
            validate_content(&message)?;
            Ok(ClientEvent::Send(message))
        }
        "conversation.read" => Ok(ClientEvent::Read(
            serde_json::from_str(payload.get()).map_err(invalid)?,
        )),
        other => Err(FrameError::new(
            ErrorCode::UnknownEvent,
            format!(
                "unknown event {:?}; expected message.send or conversation.read",
                truncate(other, 64)
            ),
            None,
        )),
    }
}

fn is_object(json: &str) -> bool {
    json.trim_start().starts_with('{')
}

fn validate_content(message: &MessagePayload) -> Result<(), FrameError> {
    if message.content.trim().is_empty() {
        return Err(FrameError::new(
            ErrorCode::InvalidPayload,
            "content is empty",
            Some(message.message_id.clone()),
        ));
    }
    // PostgreSQL text cannot hold U+0000; let through, it would fail the
    // whole batch it is stored with.
    if message.content.contains('\0') {
        return Err(FrameError::new(
            ErrorCode::InvalidPayload,
            "content contains a NUL character",
            Some(message.message_id.clone()),
        ));
    }
    // Cheap bound first: a string of at most N bytes has at most N chars.
    if message.content.len() > MAX_CONTENT_CHARS
        && message.content.chars().count() > MAX_CONTENT_CHARS
    {
        return Err(FrameError::new(
            ErrorCode::TooLarge,
            format!("content is over {MAX_CONTENT_CHARS} characters"),
            Some(message.message_id.clone()),
        ));
    }
    if message.timestamp < 0 {
        return Err(FrameError::new(
            ErrorCode::InvalidPayload,
            "timestamp must be milliseconds since the epoch",
            Some(message.message_id.clone()),
        ));
    }
    Ok(())
}

fn truncate(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The spec's clock rule: a timestamp more than 60 s ahead of the server is
/// replaced by the server's time; anything else is kept as sent.
pub fn clamp_timestamp(client_ms: i64, server_now_ms: i64) -> i64 {
    const MAX_AHEAD_MS: i64 = 60_000;
    if client_ms > server_now_ms.saturating_add(MAX_AHEAD_MS) {
        server_now_ms
    } else {
        client_ms
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
