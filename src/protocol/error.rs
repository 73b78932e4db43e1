//! The one error type a client sees, in WebSocket `error` events, REST bodies
//! and server-function results alike.

use super::ids::MessageId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The spec's error codes, plus the two HTTP-only ones (`unauthorized`,
/// `internal`). On the wire, the string of [`ErrorCode::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidJson,
    UnknownEvent,
    InvalidPayload,
    TooLarge,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
}

// By hand rather than derived: a string each way, with none of the enum
// machinery a derive brings into the browser's bundle.
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an error code"))
    }
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::UnknownEvent => "unknown_event",
            Self::InvalidPayload => "invalid_payload",
            Self::TooLarge => "too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// The code a string names (`invalid_payload`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::InvalidJson,
            Self::UnknownEvent,
            Self::InvalidPayload,
            Self::TooLarge,
            Self::Unauthorized,
            Self::Forbidden,
            Self::NotFound,
            Self::Conflict,
            Self::RateLimited,
            Self::Unavailable,
            Self::Internal,
        ]
        .into_iter()
        .find(|code| code.as_str() == text)
    }

    /// The HTTP status a REST answer with this code carries.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidJson | Self::UnknownEvent | Self::InvalidPayload => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the client sees it, whatever carried it (an HTTP body, a
/// WebSocket `error` event, a server function's result): a code to act on,
/// a sentence to show, for invalid input the field it is about, and for a
/// message the id of the message it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// For an edit, a deletion or a reaction: the `action_id` it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<MessageId>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            message_id: None,
            action_id: None,
        }
    }

    /// Bad input in one field: 400 `invalid_payload` naming it.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(ErrorCode::InvalidPayload, message)
        }
    }

    /// The same error, about this message.
    pub fn about(mut self, message_id: Option<MessageId>) -> Self {
        self.message_id = message_id;
        self
    }

    /// The same error, about this action (an edit, a deletion, a reaction).
    pub fn about_action(mut self, action_id: Option<MessageId>) -> Self {
        self.action_id = action_id;
        self
    }

    /// A deserializer's complaint: a validated type's refusal as it was made
    /// (see `Invalid::from_message`), or else bad input in general.
    pub fn from_decode_message(text: impl Into<String>) -> Self {
        let text = text.into();
        super::validate::Invalid::from_message(&text)
            .unwrap_or_else(|| Self::new(ErrorCode::InvalidPayload, text))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "sign in first")
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "something went wrong on our side")
    }
}

/// Lets `#[server]` functions return `Result<T, ApiError>`: transport and
/// decoding failures of the server-function machinery become `internal` (or
/// `unavailable` when the request never reached the server).
impl leptos::server_fn::error::FromServerFnError for ApiError {
    // Leptos's `JsonEncoding` writes the same JSON but reads it from bytes:
    // the browser's bundle would hold a second copy of the JSON reader, and
    // of this type's deserializer, beside the ones every answer and frame
    // is read with (from text).
    type Encoder = crate::api::encoding::JsonText;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(message) => Self::new(
                ErrorCode::Unavailable,
                format!("could not reach the server: {message}"),
            ),
            E::Args(message) | E::MissingArg(message) | E::Deserialization(message) => {
                Self::from_decode_message(message)
            }
            other => Self::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_are_the_spec_strings() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::UnknownEvent,
            ErrorCode::InvalidPayload,
            ErrorCode::TooLarge,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }

    #[test]
    fn an_api_error_names_its_field_only_when_it_has_one() {
        let bad = ApiError::invalid("username", "too short");
        assert_eq!(
            serde_json::to_value(&bad).unwrap(),
            json!({"code": "invalid_payload", "message": "too short", "field": "username"})
        );
        assert_eq!(
            serde_json::to_value(ApiError::not_found("no such conversation")).unwrap(),
            json!({"code": "not_found", "message": "no such conversation"})
        );
    }
}
