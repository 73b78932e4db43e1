//! The fan-out seam: where committed messages leave the send path.
//!
//! Handlers and the committer only ever call [`Fanout::publish`]. Today's
//! implementation delivers to this node's hub; a cross-node bus (PostgreSQL
//! wake-ups, NATS, Redis) implements the same trait without touching them.

use super::delivered::Delivered;
use super::hub::{ConnectionId, Frame, Hub};
use super::members::Members;
use crate::model::markup;
use crate::protocol::{ConversationId, MessagePayload, Quote, ServerEvent, UserId};
use crate::server::db::batch::NewMessage;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The `message.receive` frame of a stored message (the `change` it was,
/// and a reply's quote), serialised once for every recipient (whichever
/// node stored it).
pub(crate) fn receive_frame(message: &NewMessage, change: i64, reply: Option<&Quote>) -> Frame {
    Frame::from(
        ServerEvent::Receive(MessagePayload {
            conversation_id: message.conversation_id,
            sender_id: message.sender_id,
            message_id: message.message_id.clone(),
            content: message.content.clone(),
            timestamp: message.timestamp,
            reply_to: reply.map(|q| q.message_id.clone()),
            reply: reply.cloned(),
            change: Some(change),
            attachments: message.attachments.clone(),
            mentions: markup::mentioned(&message.content),
        })
        .to_json(),
    )
}

/// One committed message on its way to its recipients.
pub(crate) struct Delivery {
    pub(crate) conversation: ConversationId,
    /// Its place in the conversation.
    pub(crate) seq: i64,
    /// Everyone in the conversation; each of their connections gets `frame`.
    pub(crate) members: Members,
    /// The `message.receive` frame, serialised once for all recipients.
    pub(crate) frame: Frame,
    /// The connection that sent it, which gets the ack instead.
    pub(crate) origin: Option<ConnectionId>,
}

pub(crate) trait Fanout: Send + Sync + 'static {
    /// Hands a batch of committed messages, in commit order, to every
    /// recipient, each message once: one this node has pushed before (a
    /// retry of a message stored and delivered already) is not pushed
    /// again. Never fails the batch for one bad recipient.
    fn publish(&self, deliveries: &[Delivery]);

    /// For a fan-out that also delivers rows it reads back from the table:
    /// the committer holds this (shared by its batches in flight) from
    /// before it stores a batch until it has published it, and the reader
    /// takes it alone, so such a row of this node's own batch is never
    /// delivered first (without knowing the connection that sent it, which
    /// must get the ack and not the message).
    fn commit_gate(&self) -> Option<Arc<tokio::sync::RwLock<()>>> {
        None
    }

    /// Tells the other nodes (if any) of something besides messages; this
    /// node has already acted on it.
    fn tell_others(&self, _event: NodeEvent) {}
}

/// Something besides messages that every node must act on, sent by the node
/// where it happened to the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum NodeEvent {
    /// A conversation's members (or its blocked flag) changed: forget them.
    MembersChanged { conversation: ConversationId },
    /// A frame for every connection of the conversation's members and of
    /// `also`.
    ToMembers {
        conversation: ConversationId,
        also: Vec<UserId>,
        frame: String,
    },
    /// A frame for every connection of `user`.
    ToUser { user: UserId, frame: String },
    /// A notice from `user` that may be lost (typing): for every connection
    /// of the conversation's other members whose queue has room.
    Typing {
        conversation: ConversationId,
        user: UserId,
        frame: String,
    },
    /// A session ended (log-out, expiry): close its connections. The
    /// session is its token's SHA-256, in hex.
    SessionEnded { user: UserId, session: String },
    /// `user` came online on the sending node (their first connection
    /// there), or went offline there (their last one closed a grace
    /// period ago, at `last_seen`).
    Presence {
        user: UserId,
        online: bool,
        #[serde(default)]
        last_seen: Option<i64>,
    },
    /// Part of the sending node's list of online users, to a node that
    /// said `hello`: the `first` part replaces what was known of it.
    PresenceSnapshot { users: Vec<UserId>, first: bool },
}

/// Delivery to the connections of this process.
pub(crate) struct LocalFanout {
    pub(crate) hub: Arc<Hub>,
    pub(crate) delivered: Delivered,
}

impl Fanout for LocalFanout {
    fn publish(&self, deliveries: &[Delivery]) {
        for delivery in deliveries {
            if self
                .delivered
                .first_time(delivery.conversation, delivery.seq)
            {
                self.hub
                    .deliver(delivery.members.ids(), delivery.origin, &delivery.frame);
            }
        }
    }
}
