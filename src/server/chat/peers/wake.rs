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
    /// Other things every node must act on, in the order they happened.
    Events(Uuid, Vec<NodeEvent>),
}

impl Wake {
    pub(crate) fn node(&self) -> Uuid {
        match self {
            Self::Hello(node)
            | Self::Here(node)
            | Self::Messages(node, _)
            | Self::Events(node, _) => *node,
        }
    }

    pub(crate) fn encode_presence(&self) -> Option<String> {
        match self {
            Self::Hello(node) => Some(format!("hello;{}", node.simple())),
            Self::Here(node) => Some(format!("here;{}", node.simple())),
            Self::Messages(..) | Self::Events(..) => None,
        }
    }
}

/// Reads a wake-up (malformed range entries are skipped).
pub(crate) fn parse_payload(payload: &str) -> Option<Wake> {
    let (kind, rest) = payload.split_once(';')?;
    match kind {
        "hello" => return Some(Wake::Hello(Uuid::try_parse(rest).ok()?)),
        "here" => return Some(Wake::Here(Uuid::try_parse(rest).ok()?)),
        // An array of events, or one (as a node of an older build, during
        // a rolling upgrade, sends it).
        "e" | "E" => {
            let (node, json) = rest.split_once(';')?;
            let node = Uuid::try_parse(node).ok()?;
            let events = if kind == "e" {
                vec![serde_json::from_str(json).ok()?]
            } else {
                serde_json::from_str(json).ok()?
            };
            return Some(Wake::Events(node, events));
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

/// Events' payloads: `E;node;[<json>,...]`, as many events to a NOTIFY as
/// fit, in order. An event too large for a NOTIFY on its own is dropped
/// (events carry small frames; the callers keep them so).
pub(crate) fn encode_events(node: Uuid, events: &[NodeEvent]) -> Vec<String> {
    let head = format!("E;{};[", node.simple());
    let mut out = Vec::new();
    let mut current = head.clone();
    for event in events {
        let Ok(json) = serde_json::to_string(event) else {
            continue;
        };
        if head.len() + json.len() + 1 > PAYLOAD_MAX {
            tracing::warn!(
                bytes = json.len(),
                "an event too large for the other nodes was dropped"
            );
            continue;
        }
        if current.len() + json.len() + 1 > PAYLOAD_MAX {
            out.push(close_array(std::mem::replace(&mut current, head.clone())));
        }
        if current.len() > head.len() {
            current.push(',');
        }
        current.push_str(&json);
    }
    if current.len() > head.len() {
        out.push(close_array(current));
    }
    out
}

fn close_array(mut payload: String) -> String {
    payload.push(']');
    payload
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
        let events: Vec<NodeEvent> = (0..200)
            .map(|n| NodeEvent::ToMembers {
                conversation: ConversationId::new_v7(),
                also: vec![crate::protocol::UserId::new_v7()],
                frame: format!(r#"{{"event":"conversation.left","payload":{{"n":{n}}}}}"#),
            })
            .collect();
        let payloads = encode_events(node, &events);
        assert!(payloads.len() > 1, "200 events take more than one NOTIFY");
        let mut parsed = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= PAYLOAD_MAX);
            let Some(Wake::Events(n, some)) = parse_payload(payload) else {
                panic!("not an events wake-up: {payload}");
            };
            assert_eq!(n, node);
            parsed.extend(some);
        }
        assert_eq!(parsed, events, "every event, in order");
        let huge = NodeEvent::ToUser {
            user: crate::protocol::UserId::new_v7(),
            frame: "x".repeat(PAYLOAD_MAX),
        };
        let payloads = encode_events(node, &[huge, events[0].clone()]);
        assert_eq!(
            payloads.len(),
            1,
            "the oversized one is dropped, not the rest"
        );
        // An older node's single event still reads.
        let old = format!(
            "e;{};{}",
            node.simple(),
            serde_json::to_string(&events[1]).unwrap()
        );
        assert_eq!(
            parse_payload(&old),
            Some(Wake::Events(node, vec![events[1].clone()]))
        );
        for wake in [Wake::Hello(node), Wake::Here(node)] {
            assert_eq!(parse_payload(&wake.encode_presence().unwrap()), Some(wake));
        }
    }
}
