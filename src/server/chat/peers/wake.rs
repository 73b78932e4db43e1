//! What nodes say to each other on the NOTIFY channel: a new node's
//! `hello`, the others' `here`, and `m;<node>;<conversation>:<first>:<last>,...`
//! for the places a node has stored since its last wake-up.

use crate::protocol::ConversationId;
use crate::server::chat::fanout::NodeEvent;
use std::collections::HashMap;
use uuid::Uuid;

/// A NOTIFY payload must stay under 8000 bytes.
const PAYLOAD_MAX: usize = 7900;

/// One entry of a wake-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) conversation: ConversationId,
    pub(crate) first: i64,
    pub(crate) last: i64,
}

/// What one node tells the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// A node started listening.
    Hello(Uuid),
    /// A node answering a `Hello`: it is there too.
    Here(Uuid),
    /// A node stored messages in these ranges.
    Messages(Uuid, Vec<Range>),
    /// Something else every node must act on.
    Event(Uuid, NodeEvent),
}

impl Wake {
    pub(crate) fn node(&self) -> Uuid {
        match self {
            Self::Hello(node)
            | Self::Here(node)
            | Self::Messages(node, _)
            | Self::Event(node, _) => *node,
        }
    }

    pub(crate) fn encode_presence(&self) -> Option<String> {
        match self {
            Self::Hello(node) => Some(format!("hello;{}", node.simple())),
            Self::Here(node) => Some(format!("here;{}", node.simple())),
            Self::Messages(..) | Self::Event(..) => None,
        }
    }
}

/// Reads a wake-up (malformed range entries are skipped).
pub(crate) fn parse_payload(payload: &str) -> Option<Wake> {
    let (kind, rest) = payload.split_once(';')?;
    match kind {
        "hello" => return Some(Wake::Hello(Uuid::try_parse(rest).ok()?)),
        "here" => return Some(Wake::Here(Uuid::try_parse(rest).ok()?)),
        "e" => {
            let (node, event) = rest.split_once(';')?;
            return Some(Wake::Event(
                Uuid::try_parse(node).ok()?,
                serde_json::from_str(event).ok()?,
            ));
        }
        "m" => {}
        _ => return None,
    }
    let (node, entries) = rest.split_once(';')?;
    let node = Uuid::try_parse(node).ok()?;
    let ranges = entries
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(':');
            let conversation = ConversationId(Uuid::try_parse(parts.next()?).ok()?);
            let first = parts.next()?.parse().ok()?;
            let last = parts.next()?.parse().ok()?;
            Some(Range {
                conversation,
                first,
                last,
            })
        })
        .collect();
    Some(Wake::Messages(node, ranges))
}

/// An event's payload: `e;node;<json>`; `None` for one too large for a
/// NOTIFY (events carry small frames; the callers keep them so).
pub(crate) fn encode_event(node: Uuid, event: &NodeEvent) -> Option<String> {
    let payload = format!("e;{};{}", node.simple(), serde_json::to_string(event).ok()?);
    if payload.len() > PAYLOAD_MAX {
        tracing::warn!(
            bytes = payload.len(),
            "an event too large for the other nodes was dropped"
        );
        return None;
    }
    Some(payload)
}

/// The wake-up payloads for `pending`: `m;node;conv:first:last,...`,
/// split so that each fits in a NOTIFY.
pub(crate) fn encode_messages(
    node: Uuid,
    pending: &HashMap<ConversationId, (i64, i64)>,
) -> Vec<String> {
    let head = format!("m;{};", node.simple());
    let mut out = Vec::new();
    let mut current = head.clone();
    for (conversation, (first, last)) in pending {
        let entry = format!("{}:{first}:{last},", conversation.0.simple());
        if current.len() + entry.len() > PAYLOAD_MAX {
            out.push(std::mem::replace(&mut current, head.clone()));
        }
        current.push_str(&entry);
    }
    if current.len() > head.len() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_ups_round_trip_and_fit_in_a_notify() {
        let node = Uuid::now_v7();
        let mut pending = HashMap::new();
        for n in 0..500 {
            pending.insert(ConversationId::new_v7(), (n, n + 3));
        }
        let payloads = encode_messages(node, &pending);
        assert!(payloads.len() > 1);
        let mut parsed = HashMap::new();
        for payload in &payloads {
            assert!(payload.len() <= PAYLOAD_MAX);
            let Some(Wake::Messages(n, ranges)) = parse_payload(payload) else {
                panic!("not a messages wake-up: {payload}");
            };
            assert_eq!(n, node);
            for r in ranges {
                parsed.insert(r.conversation, (r.first, r.last));
            }
        }
        assert_eq!(parsed, pending);
        assert!(parse_payload("garbage").is_none());
        let event = NodeEvent::ToMembers {
            conversation: ConversationId::new_v7(),
            also: vec![crate::protocol::UserId::new_v7()],
            frame: r#"{"event":"conversation.left","payload":{}}"#.into(),
        };
        let payload = encode_event(node, &event).unwrap();
        assert_eq!(parse_payload(&payload), Some(Wake::Event(node, event)));
        for wake in [Wake::Hello(node), Wake::Here(node)] {
            assert_eq!(parse_payload(&wake.encode_presence().unwrap()), Some(wake));
        }
    }
}
