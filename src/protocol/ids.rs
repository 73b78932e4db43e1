//! Identifier newtypes.
//!
//! Users and conversations are UUIDv7 values on the server (16 bytes in
//! PostgreSQL, time-ordered so new rows land at the right edge of the index)
//! and travel as `user_<32 hex>` / `conv_<32 hex>` on the wire, so a
//! conversation id can never be passed where a user id belongs, neither in Rust
//! nor in JSON. Message ids are made by the sending client and kept verbatim.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;
use uuid::Uuid;

macro_rules! prefixed_uuid_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type))]
        #[cfg_attr(feature = "ssr", sqlx(transparent))]
        pub struct $name(pub Uuid);

        impl $name {
            /// The prefix every id of this kind carries on the wire.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered id.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the wire form; `None` unless it is the prefix followed by
            /// 32 lowercase or uppercase hex digits.
            pub fn parse(text: &str) -> Option<Self> {
                let hex = text.strip_prefix($prefix)?;
                if hex.len() != 32 {
                    return None;
                }
                Uuid::try_parse(hex).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0.simple())
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(text: &str) -> Result<Self, InvalidId> {
                Self::parse(text).ok_or(InvalidId(stringify!($name)))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    de::Error::custom(concat!("expected ", $prefix, " followed by 32 hex digits"))
                })
            }
        }
    };
}

prefixed_uuid_id!(
    /// A user: `user_` + UUIDv7.
    UserId,
    "user_"
);
prefixed_uuid_id!(
    /// A conversation (direct or group): `conv_` + UUIDv7.
    ConversationId,
    "conv_"
);
prefixed_uuid_id!(
    /// An uploaded file: `att_` + UUIDv7, made by the server.
    AttachmentId,
    "att_"
);

/// An id string that does not have the expected form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {0}")]
pub struct InvalidId(pub &'static str);

/// A message id, made by the sending client before it sends, so that a retry
/// after a dropped connection is recognised: 1 to 64 of `[A-Za-z0-9_-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(transparent))]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    pub const MAX_LEN: usize = 64;

    /// Checks the form; `None` for an empty, too long or oddly spelled id.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| Self(text.to_owned()))
    }

    /// A fresh client-side id: `msg_` + UUIDv7 (time-ordered, unguessable).
    pub fn new_v7() -> Self {
        Self(format!("msg_{}", Uuid::now_v7().simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for MessageId {
    type Err = InvalidId;
    fn from_str(text: &str) -> Result<Self, InvalidId> {
        Self::parse(text).ok_or(InvalidId("MessageId"))
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| de::Error::custom("expected 1 to 64 characters of [A-Za-z0-9_-]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_conversation_ids_round_trip_with_their_prefix() {
        let user = UserId::new_v7();
        let text = user.to_string();
        assert!(text.starts_with("user_") && text.len() == 37, "{text}");
        assert_eq!(UserId::parse(&text), Some(user));
        assert_eq!(serde_json::to_string(&user).unwrap(), format!("\"{text}\""));
        let conv = ConversationId::new_v7();
        assert_eq!(
            serde_json::from_str::<ConversationId>(&format!("\"{conv}\"")).unwrap(),
            conv
        );
    }

    #[test]
    fn an_id_of_the_wrong_kind_is_refused() {
        let user = UserId::new_v7().to_string();
        assert_eq!(ConversationId::parse(&user), None);
        assert!(serde_json::from_str::<ConversationId>(&format!("\"{user}\"")).is_err());
        assert_eq!(UserId::parse("user_123"), None);
        assert_eq!(UserId::parse("user_"), None);
    }

    #[test]
    fn message_ids_follow_the_spec_alphabet() {
        assert!(MessageId::parse("msg_xyz-789").is_some());
        assert!(MessageId::parse(&"a".repeat(64)).is_some());
        assert!(MessageId::parse(&"a".repeat(65)).is_none());
        assert!(MessageId::parse("").is_none());
        assert!(MessageId::parse("msg 1").is_none());
        assert!(MessageId::parse("msg_é").is_none());
        let fresh = MessageId::new_v7();
        assert!(fresh.as_str().starts_with("msg_"));
        assert_ne!(fresh, MessageId::new_v7());
    }
}
