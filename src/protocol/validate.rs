//! Validated values: each type's constructor is the only place its rule is
//! checked, and serde builds the types through that constructor at every
//! edge (WebSocket frames, JSON bodies, form posts), so a value of one of
//! these types is valid wherever it is found, in the browser as on the
//! server.
//!
//! A refusal travels through serde as the error's message, marked so that
//! each edge recovers it whole (code, field and sentence) from whatever
//! deserializer carried it: see [`Invalid::from_message`].

use super::error::{ApiError, ErrorCode};
use serde::{Deserialize, Deserializer, Serialize, de};
use std::fmt;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
/// Hashing is deliberately slow; an unbounded password would make it a
/// denial-of-service lever.
pub const PASSWORD_MAX: usize = 256;
pub const TITLE_MAX: usize = 100;
/// Content longer than this many characters (Unicode scalar values) is
/// refused with `too_large`.
pub const MAX_CONTENT_CHARS: usize = 4000;

/// Why a value was refused: the error code, the field it is about, and a
/// sentence for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: ErrorCode,
    pub field: &'static str,
    pub message: String,
}

/// Brackets a refusal inside a deserializer's error message (a character
/// no other message holds).
const MARK: char = '\u{1f}';

impl Invalid {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidPayload,
            field,
            message: message.into(),
        }
    }

    /// The refusal as a serde error, for the deserializer to carry.
    pub(crate) fn to_serde<E: de::Error>(&self) -> E {
        E::custom(format_args!(
            "{MARK}{}{MARK}{}{MARK}{}{MARK}",
            self.code, self.field, self.message
        ))
    }

    /// The refusal inside a deserializer's error message (serde_json's,
    /// serde_qs's, axum's rejection text all keep it verbatim), if there is
    /// one.
    pub fn from_message(text: &str) -> Option<ApiError> {
        let start = text.find(MARK)?;
        let mut parts = text[start + MARK.len_utf8()..].splitn(4, MARK);
        let code = ErrorCode::parse(parts.next()?)?;
        let field = parts.next()?;
        let message = parts.next()?;
        parts.next()?;
        Some(ApiError {
            code,
            message: message.to_owned(),
            field: Some(field.to_owned()),
            message_id: None,
            action_id: None,
        })
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError {
            code: invalid.code,
            message: invalid.message,
            field: Some(invalid.field.to_owned()),
            message_id: None,
            action_id: None,
        }
    }
}

/// Implements `Deserialize` (through the type's `parse`) and the plumbing
/// every validated string shares.
macro_rules! validated_string {
    ($name:ident) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(|invalid| invalid.to_serde())
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// A message's text: up to 4,000 characters, not only whitespace, no NUL
/// (PostgreSQL text cannot hold it); empty (`""`) only for a message of
/// attachments alone, which [`crate::protocol::MessagePayload::check_body`]
/// and [`Content::written`] check where it matters. Kept exactly as written. Read back from
/// the database as it is: only this type ever wrote it there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(transparent))]
#[serde(transparent)]
pub struct Content(String);
validated_string!(Content);

impl Content {
    /// No text: a message of attachments alone.
    pub fn none() -> Self {
        Self(String::new())
    }

    /// Some text (an edit, a message without files): not empty.
    pub fn written(self) -> Result<Self, Invalid> {
        if self.0.is_empty() {
            return Err(Invalid::new("content", "content is empty"));
        }
        Ok(self)
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if text.is_empty() {
            return Ok(Self::none());
        }
        if text.trim().is_empty() {
            return Err(Invalid::new("content", "content is empty"));
        }
        if text.contains('\0') {
            return Err(Invalid::new("content", "content contains a NUL character"));
        }
        // Cheap bound first: a string of at most N bytes has at most N chars.
        if text.len() > MAX_CONTENT_CHARS && text.chars().count() > MAX_CONTENT_CHARS {
            return Err(Invalid {
                code: ErrorCode::TooLarge,
                field: "content",
                message: format!("content is over {MAX_CONTENT_CHARS} characters"),
            });
        }
        Ok(Self(text.to_owned()))
    }
}

/// Text that must be there (an edit): `""` is refused.
pub(crate) fn written_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Content, D::Error> {
    Content::deserialize(deserializer)?
        .written()
        .map_err(|invalid| invalid.to_serde())
}

/// The reactions the page offers, most used first.
pub const REACTIONS: [&str; 24] = [
    "👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "🔥", "👀", "✅", "👎", "😍", "🤔", "👏", "💯", "😅",
    "🙌", "😊", "😎", "🤝", "💪", "⭐", "🚀", "😡",
];

/// Different emoji one message may carry.
pub const MAX_REACTIONS_PER_MESSAGE: usize = 20;

/// A reaction: one of [`REACTIONS`], or any other single user-perceived
/// character (a grapheme cluster) of at most 32 bytes that is not a letter,
/// digit, space or control character. The server checks the "single
/// character" part; the browser only ever sends one of [`REACTIONS`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(transparent))]
#[serde(transparent)]
pub struct Emoji(String);
validated_string!(Emoji);

impl Emoji {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if REACTIONS.contains(&text) {
            return Ok(Self(text.to_owned()));
        }
        let refused = || Invalid::new("emoji", "emoji must be a single emoji");
        if text.is_empty()
            || text.len() > 32
            || text.bytes().any(|b| b.is_ascii_alphanumeric() || b <= b' ')
        {
            return Err(refused());
        }
        // The Unicode tables these need stay out of the browser's bundle:
        // the browser takes what the server let through.
        #[cfg(feature = "ssr")]
        {
            use unicode_segmentation::UnicodeSegmentation;
            let plain = |c: char| c.is_alphanumeric() || c.is_whitespace() || c.is_control();
            if text.chars().any(plain) || text.graphemes(true).nth(1).is_some() {
                return Err(refused());
            }
        }
        Ok(Self(text.to_owned()))
    }
}

/// A username: 3 to 32 of `[a-z0-9_]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(transparent))]
#[serde(transparent)]
pub struct Username(String);
validated_string!(Username);

impl Username {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let valid = (USERNAME_MIN..=USERNAME_MAX).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(Invalid::new(
                "username",
                format!(
                    "Username must be {USERNAME_MIN} to {USERNAME_MAX} characters of a-z, 0-9 and _"
                ),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// What a person may type into a form: surrounding spaces dropped, any
    /// case (names are lowercase).
    pub fn parse_typed(text: &str) -> Result<Self, Invalid> {
        Self::parse(&text.trim().to_lowercase())
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password: 8 to 256 characters. Never shown: `Debug` hides it, and it
/// is not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);
validated_string!(Password);

impl Password {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let chars = text.chars().count();
        if chars < PASSWORD_MIN {
            return Err(Invalid::new(
                "password",
                format!("Password must be at least {PASSWORD_MIN} characters"),
            ));
        }
        if chars > PASSWORD_MAX {
            return Err(Invalid::new(
                "password",
                format!("Password must be at most {PASSWORD_MAX} characters"),
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A group's title: one line of at most 100 characters, trimmed; blank or
/// missing means none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Title(Option<String>);

impl Title {
    pub fn parse(text: Option<&str>) -> Result<Self, Invalid> {
        let Some(title) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Self(None));
        };
        // A title is one line of text (and PostgreSQL text cannot hold U+0000).
        if title.chars().any(char::is_control) {
            return Err(Invalid::new(
                "title",
                "Title cannot contain control characters",
            ));
        }
        if title.chars().count() > TITLE_MAX {
            return Err(Invalid::new(
                "title",
                format!("Title must be at most {TITLE_MAX} characters"),
            ));
        }
        Ok(Self(Some(title.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de> Deserialize<'de> for Title {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        Self::parse(text.as_deref()).map_err(|invalid| invalid.to_serde())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["abc", "a_b_9", &"z".repeat(32)] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Abc", "a-b", "a b", "ünï", &"z".repeat(33), ""] {
            assert_eq!(Username::parse(bad).unwrap_err().field, "username", "{bad}");
        }
        assert_eq!(Username::parse_typed("  Alice_1 ").unwrap(), "alice_1");
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("ééééééé€").is_ok());
        assert_eq!(Password::parse("1234567").unwrap_err().field, "password");
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret123").unwrap()),
            "Password(…)"
        );
    }

    #[test]
    fn titles() {
        assert_eq!(Title::parse(None).unwrap(), Title::default());
        assert_eq!(Title::parse(Some("  ")).unwrap().as_deref(), None);
        assert_eq!(
            Title::parse(Some(" Team ")).unwrap().as_deref(),
            Some("Team")
        );
        assert!(Title::parse(Some(&"t".repeat(101))).is_err());
        for bad in ["a\0b", "line\nbreak", "bell\u{7}"] {
            assert_eq!(
                Title::parse(Some(bad)).unwrap_err().field,
                "title",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn content() {
        assert_eq!(Content::parse(" hi ").unwrap(), " hi ", "kept as written");
        assert_eq!(
            Content::parse(&"é".repeat(MAX_CONTENT_CHARS))
                .unwrap()
                .chars()
                .count(),
            MAX_CONTENT_CHARS
        );
        let long = Content::parse(&"a".repeat(MAX_CONTENT_CHARS + 1)).unwrap_err();
        assert_eq!(long.code, ErrorCode::TooLarge);
        for bad in ["  \n", "a\0"] {
            assert_eq!(
                Content::parse(bad).unwrap_err().code,
                ErrorCode::InvalidPayload,
                "{bad:?}"
            );
        }
        // No text is a message of files alone; where text is needed, it
        // is refused.
        let none = Content::parse("").unwrap();
        assert_eq!(none, Content::none());
        assert_eq!(none.written().unwrap_err().field, "content");
    }

    #[test]
    fn a_refusal_comes_through_any_deserializer_whole() {
        #[derive(Debug, Deserialize)]
        struct Body {
            #[allow(dead_code)]
            content: Content,
        }
        let long = format!(r#"{{"content": "{}"}}"#, "a".repeat(MAX_CONTENT_CHARS + 1));
        let error = serde_json::from_str::<Body>(&long).unwrap_err().to_string();
        let api = Invalid::from_message(&error).expect("found in the message");
        assert_eq!(api.code, ErrorCode::TooLarge);
        assert_eq!(api.field.as_deref(), Some("content"));
        assert_eq!(api.message, "content is over 4000 characters");
        assert_eq!(Invalid::from_message("expected a string at line 1"), None);
    }

    #[test]
    fn a_reaction_is_one_emoji() {
        for ok in ["👍", "❤️", "🏳️‍🌈", "👨‍👩‍👧", "🇫🇷", "★"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "1", "👍👍", "👍 ", "ok", "\u{7}", "🇫🇷🇩🇪"] {
            let refused = Emoji::parse(bad).unwrap_err();
            assert_eq!(
                (refused.field, refused.message.as_str()),
                ("emoji", "emoji must be a single emoji"),
                "{bad:?}"
            );
        }
        assert!(REACTIONS.iter().all(|e| Emoji::parse(e).is_ok()));
    }
}
