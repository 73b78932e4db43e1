//! The search page's addresses and labels, as plain data: the same on the
//! server's page and after hydration.

use crate::protocol::SearchHit;

/// `text` as one component of a URL's query: unreserved characters as
/// they are, every other byte of its UTF-8 as `%XX`.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The results page for `q`, from `cursor` (a page's `next_cursor`).
pub(crate) fn page_url(q: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(cursor) => format!("/search?q={}&cursor={}", encode(q), encode(cursor)),
        None => format!("/search?q={}", encode(q)),
    }
}

/// Where a result leads: its conversation opened at the message (the
/// fragment brings it into view without JavaScript too).
pub(crate) fn result_url(hit: &SearchHit) -> String {
    let (conversation, message) = (hit.conversation_id, &hit.message_id);
    format!(
        "/c/{conversation}?m={}#{message}",
        encode(&message.to_string())
    )
}

/// The conversation a result is in, as the inbox names it.
pub(crate) fn place(hit: &SearchHit) -> String {
    hit.title
        .clone()
        .or_else(|| hit.participant_name.clone())
        .unwrap_or_else(|| "Group".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ConversationId, ConversationKind, MessageId, UserId};

    fn hit(title: Option<&str>, participant: Option<&str>) -> SearchHit {
        SearchHit {
            message_id: MessageId::parse("msg_0190a6f8c2b47cc1a1b2c3d4e5f60720").unwrap(),
            conversation_id: ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718")
                .unwrap(),
            kind: ConversationKind::Group,
            title: title.map(str::to_owned),
            participant_name: participant.map(str::to_owned),
            sender_id: UserId::parse("user_0190a6f8c2b47cc1a1b2c3d4e5f60719").unwrap(),
            sender_name: "bob".into(),
            timestamp: 0,
            snippet: Vec::new(),
        }
    }

    #[test]
    fn queries_are_encoded_whole() {
        assert_eq!(encode("a b&c=d#é\"x\""), "a%20b%26c%3Dd%23%C3%A9%22x%22");
        assert_eq!(page_url("from:bob hi", None), "/search?q=from%3Abob%20hi");
        assert_eq!(page_url("hi", Some("c1 2")), "/search?q=hi&cursor=c1%202");
    }

    #[test]
    fn a_result_opens_its_conversation_at_the_message() {
        assert_eq!(
            result_url(&hit(None, None)),
            "/c/conv_0190a6f8c2b47cc1a1b2c3d4e5f60718?m=msg_0190a6f8c2b47cc1a1b2c3d4e5f60720\
             #msg_0190a6f8c2b47cc1a1b2c3d4e5f60720"
        );
        assert_eq!(place(&hit(Some("Trip"), None)), "Trip");
        assert_eq!(place(&hit(None, Some("bob"))), "bob");
        assert_eq!(place(&hit(None, None)), "Group");
    }
}
