//! WebSocket frames: `{"event": "<name>", "payload": {...}}`, both ways.
//!
//! Decoding a client frame is a pure function so that the server, the tests
//! and the fuzzer all exercise the same code: it either yields a valid
//! [`ClientEvent`] (every field already of its validated type) or an
//! [`ApiError`] carrying the spec's error code, and it never panics whatever
//! the input.

use super::actions::{
    ActionAck, DeletePayload, DeletedPayload, EditPayload, EditedPayload, Quote, ReactedPayload,
    ReactionPayload,
};
use super::attachments::{Attachment, MAX_ATTACHMENTS};
use super::error::{ApiError, ErrorCode};
use super::ids::{ConversationId, MessageId, UserId};
use super::signals::{
    MAX_PRESENCE_SUBSCRIPTION, MemberPayload, MutePayload, PresenceList, PresencePayload,
    PresenceSubscription, TypingNotice,
};
use super::validate::{Content, Invalid};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// A text frame longer than this many bytes is refused with `too_large`.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// `message.send`, client → server; also the body of `message.receive`,
/// server → every other connection of every participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePayload {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub message_id: MessageId,
    /// The text; empty (`""`) only for a message of attachments alone.
    pub content: Content,
    /// The sender's clock in milliseconds since the epoch, as sent, unless it
    /// was more than 60 s ahead of the server (then the server's time).
    #[serde(deserialize_with = "epoch_ms")]
    pub timestamp: i64,
    /// The message this one answers, in the same conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// `message.receive` only: that message as it is now, quoted. (The
    /// browser never writes it: the server would not read it.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_serializing))]
    pub reply: Option<Quote>,
    /// `message.receive` only: the conversation's change this message was
    /// (docs/protocol.md 2.20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_serializing))]
    pub change: Option<i64>,
    /// `message.send`: the uploads it carries, by id (up to
    /// [`MAX_ATTACHMENTS`]); `message.receive`: what they are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// `message.receive` only: the usernames the text mentions, by the rule
    /// the page marks mentions with (docs/protocol.md 5.4), each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "hydrate", serde(skip_serializing))]
    pub mentions: Vec<String>,
}

impl MessagePayload {
    /// Text, files or both: never neither; at most [`MAX_ATTACHMENTS`]
    /// files, each once.
    pub fn check_body(&self) -> Result<(), Invalid> {
        if self.content.is_empty() && self.attachments.is_empty() {
            return Err(Invalid::new("content", "content is empty"));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(Invalid::new(
                "attachments",
                format!("a message carries at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut ids: Vec<_> = self.attachments.iter().map(|a| a.attachment_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.attachments.len() {
            return Err(Invalid::new(
                "attachments",
                "the same attachment is named twice",
            ));
        }
        Ok(())
    }
}

/// Milliseconds since the epoch: a whole, non-negative number.
fn epoch_ms<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let ms = i64::deserialize(deserializer)?;
    if ms < 0 {
        return Err(serde::de::Error::custom(format_args!(
            "timestamp must be milliseconds since the epoch, not {ms}"
        )));
    }
    Ok(ms)
}

/// `message.ack`, server → the sending connection, once the message is
/// committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub timestamp: i64,
    /// The conversation's change the message was (its latest, for a
    /// retry of a message changed since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<i64>,
}

/// `conversation.read` and `conversation.delivered`, client → server:
/// everything up to `message_id` is read (or has reached this device).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadPayload {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// `conversation.read` and `conversation.delivered`, server → client:
/// `user_id`'s marker in the conversation moved to `message_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerPayload {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub message_id: MessageId,
    /// `conversation.read`: the messages after the marker as it moved
    /// (that reader's unread count then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
}

/// Every frame a client may send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", content = "payload")]
pub enum ClientEvent {
    #[serde(rename = "message.send")]
    Send(MessagePayload),
    #[serde(rename = "conversation.read")]
    Read(ReadPayload),
    #[serde(rename = "conversation.delivered")]
    Delivered(ReadPayload),
    #[serde(rename = "typing")]
    Typing(TypingNotice),
    #[serde(rename = "typing.stop")]
    TypingStop(TypingNotice),
    #[serde(rename = "presence.subscribe")]
    PresenceSubscribe(PresenceSubscription),
    #[serde(rename = "message.edit")]
    Edit(EditPayload),
    #[serde(rename = "message.delete")]
    Delete(DeletePayload),
    #[serde(rename = "reaction.add")]
    React(ReactionPayload),
    #[serde(rename = "reaction.remove")]
    Unreact(ReactionPayload),
}

/// The event names a client may send, in the order an error lists them.
const CLIENT_EVENTS: [&str; 10] = [
    "message.send",
    "conversation.read",
    "conversation.delivered",
    "typing",
    "typing.stop",
    "presence.subscribe",
    "message.edit",
    "message.delete",
    "reaction.add",
    "reaction.remove",
];

/// Every frame the server sends. An `error` answers the frame it is about
/// and carries its `message_id` when it had a readable one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "payload")]
pub enum ServerEvent {
    #[serde(rename = "message.receive")]
    Receive(MessagePayload),
    #[serde(rename = "message.ack")]
    Ack(AckPayload),
    #[serde(rename = "conversation.read")]
    Read(MarkerPayload),
    #[serde(rename = "conversation.delivered")]
    Delivered(MarkerPayload),
    #[serde(rename = "conversation.left")]
    Left(MemberPayload),
    #[serde(rename = "conversation.muted")]
    Muted(MutePayload),
    #[serde(rename = "typing")]
    Typing(MemberPayload),
    #[serde(rename = "typing.stop")]
    TypingStop(MemberPayload),
    #[serde(rename = "presence")]
    Presence(PresencePayload),
    #[serde(rename = "presence.state")]
    PresenceState(PresenceList),
    #[serde(rename = "action.ack")]
    ActionAck(ActionAck),
    #[serde(rename = "message.edited")]
    Edited(EditedPayload),
    #[serde(rename = "message.deleted")]
    Deleted(DeletedPayload),
    #[serde(rename = "reaction.added")]
    Reacted(ReactedPayload),
    #[serde(rename = "reaction.removed")]
    Unreacted(ReactedPayload),
    #[serde(rename = "error")]
    Error(ApiError),
}

impl ServerEvent {
    /// The frame's JSON text. Serialising these types cannot fail (string
    /// keys, no maps with non-string keys), so this never returns garbage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"event":"error","payload":{"code":"internal","message":"encoding failed"}}"#
                .to_owned()
        })
    }

    /// Reads any frame from the server.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        match Self::read(text)? {
            Incoming::Event(event) => Ok(event),
            Incoming::Action(_) => Self::read_action(text),
        }
    }

    /// Reads a frame as every page does: an event it acts on, or the news
    /// of an action (an edit, a deletion, a reaction, an action's ack),
    /// left whole for the open conversation to read with
    /// [`Self::read_action`], so that reading it is part of that page's
    /// bundle only. Written out rather than derived from the adjacently
    /// tagged enum: serde would buffer every payload into a generic value
    /// first, and that machinery is a sizeable part of the browser's
    /// bundle.
    pub fn read(text: &str) -> Result<Incoming, serde_json::Error> {
        let raw: RawFrame = serde_json::from_str(text)?;
        let payload = raw.payload.map_or("null", RawValue::get);
        Ok(Incoming::Event(match raw.event.unwrap_or_default() {
            "message.receive" => Self::Receive(serde_json::from_str(payload)?),
            "message.ack" => Self::Ack(serde_json::from_str(payload)?),
            "conversation.read" => Self::Read(serde_json::from_str(payload)?),
            "conversation.delivered" => Self::Delivered(serde_json::from_str(payload)?),
            "conversation.left" => Self::Left(serde_json::from_str(payload)?),
            "conversation.muted" => Self::Muted(serde_json::from_str(payload)?),
            "typing" => Self::Typing(serde_json::from_str(payload)?),
            "typing.stop" => Self::TypingStop(serde_json::from_str(payload)?),
            "presence" => Self::Presence(serde_json::from_str(payload)?),
            "presence.state" => Self::PresenceState(serde_json::from_str(payload)?),
            "message.edited" | "message.deleted" => return Ok(Incoming::Action(News::Text)),
            "reaction.added" | "reaction.removed" | "action.ack" => {
                return Ok(Incoming::Action(News::Other));
            }
            "error" => Self::Error(serde_json::from_str(payload)?),
            other => return Err(unknown_event(other)),
        }))
    }

    /// Reads the news of an action ([`Self::read`]).
    pub fn read_action(text: &str) -> Result<Self, serde_json::Error> {
        let raw: RawFrame = serde_json::from_str(text)?;
        let payload = raw.payload.map_or("null", RawValue::get);
        Ok(match raw.event.unwrap_or_default() {
            "action.ack" => Self::ActionAck(serde_json::from_str(payload)?),
            "message.edited" => Self::Edited(serde_json::from_str(payload)?),
            "message.deleted" => Self::Deleted(serde_json::from_str(payload)?),
            "reaction.added" => Self::Reacted(serde_json::from_str(payload)?),
            "reaction.removed" => Self::Unreacted(serde_json::from_str(payload)?),
            other => return Err(unknown_event(other)),
        })
    }
}

/// A frame as [`ServerEvent::read`] finds it. (Returned once per frame and
/// matched at once: boxing the event would cost an allocation per frame
/// to save moving a few hundred bytes once.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Incoming {
    Event(ServerEvent),
    Action(News),
}

/// What the news of an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum News {
    /// A message's text changed (edited, deleted): an inbox preview may.
    Text,
    /// A reaction, or an action's ack.
    Other,
}

fn unknown_event(event: &str) -> serde_json::Error {
    serde::de::Error::custom(format_args!("unknown event {:?}", truncate(event, 64)))
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    event: Option<&'a str>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

/// Reads just the id a refusal of a payload that failed to decode is
/// about, if it has a well-formed one: its `action_id` (an edit, a
/// deletion, a reaction) or else its `message_id` (a send, a marker).
fn salvage_ids(payload: &RawValue) -> (Option<MessageId>, Option<MessageId>) {
    #[derive(Deserialize)]
    struct JustIds<'a> {
        message_id: Option<&'a str>,
        action_id: Option<&'a str>,
    }
    let Ok(ids) = serde_json::from_str::<JustIds>(payload.get()) else {
        return (None, None);
    };
    match ids.action_id.and_then(MessageId::parse) {
        Some(action) => (None, Some(action)),
        None => (ids.message_id.and_then(MessageId::parse), None),
    }
}

fn frame_error(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
}

/// Decodes and validates one client text frame.
pub fn decode_client_frame(text: &str) -> Result<ClientEvent, ApiError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(frame_error(
            ErrorCode::TooLarge,
            format!(
                "frame is {} bytes; the limit is {MAX_FRAME_BYTES}",
                text.len()
            ),
        ));
    }
    // serde's derived structs also accept a JSON array of the fields in
    // order; the wire format is objects only.
    if !is_object(text) {
        return Err(frame_error(
            ErrorCode::InvalidJson,
            "frame is not a JSON object",
        ));
    }
    let raw: RawFrame = serde_json::from_str(text).map_err(|e| {
        frame_error(
            ErrorCode::InvalidJson,
            format!("frame is not a JSON object: {e}"),
        )
    })?;
    let Some(event) = raw.event else {
        return Err(frame_error(
            ErrorCode::InvalidJson,
            "frame has no \"event\" field",
        ));
    };
    if !CLIENT_EVENTS.contains(&event) {
        return Err(frame_error(
            ErrorCode::UnknownEvent,
            format!(
                "unknown event {:?}; expected {}",
                truncate(event, 64),
                CLIENT_EVENTS.join(", ")
            ),
        ));
    }
    let payload = match raw.payload {
        Some(payload) if is_object(payload.get()) => payload,
        _ => {
            return Err(frame_error(
                ErrorCode::InvalidPayload,
                format!("{event} needs a \"payload\" object"),
            ));
        }
    };
    let invalid = |e: serde_json::Error| {
        let text = e.to_string();
        let (message, action) = salvage_ids(payload);
        Invalid::from_message(&text)
            .unwrap_or_else(|| {
                frame_error(
                    ErrorCode::InvalidPayload,
                    format!("invalid {event} payload: {text}"),
                )
            })
            .about(message)
            .about_action(action)
    };
    let payload = payload.get();
    Ok(match event {
        "message.send" => {
            let message: MessagePayload = serde_json::from_str(payload).map_err(invalid)?;
            if let Err(refused) = message.check_body() {
                return Err(ApiError::from(refused).about(Some(message.message_id)));
            }
            ClientEvent::Send(message)
        }
        "conversation.read" => ClientEvent::Read(serde_json::from_str(payload).map_err(invalid)?),
        "conversation.delivered" => {
            ClientEvent::Delivered(serde_json::from_str(payload).map_err(invalid)?)
        }
        "typing" => ClientEvent::Typing(serde_json::from_str(payload).map_err(invalid)?),
        "typing.stop" => ClientEvent::TypingStop(serde_json::from_str(payload).map_err(invalid)?),
        "message.edit" => ClientEvent::Edit(serde_json::from_str(payload).map_err(invalid)?),
        "message.delete" => ClientEvent::Delete(serde_json::from_str(payload).map_err(invalid)?),
        "reaction.add" => ClientEvent::React(serde_json::from_str(payload).map_err(invalid)?),
        "reaction.remove" => ClientEvent::Unreact(serde_json::from_str(payload).map_err(invalid)?),
        _ => {
            let subscription: PresenceSubscription =
                serde_json::from_str(payload).map_err(invalid)?;
            if subscription.user_ids.len() > MAX_PRESENCE_SUBSCRIPTION {
                return Err(ApiError::invalid(
                    "user_ids",
                    format!("at most {MAX_PRESENCE_SUBSCRIPTION} user_ids"),
                ));
            }
            ClientEvent::PresenceSubscribe(subscription)
        }
    })
}

fn is_object(json: &str) -> bool {
    json.trim_start().starts_with('{')
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
