//! What a stored batch's senders and recipients hear: each sender its ack
//! (or why not), then every recipient the new messages, in commit order.
//! A task of its own, so the committer's next batch is already committing
//! while this one's acks go out.

use super::committer::{PendingSend, ReplyTo, SendOutcome};
use super::fanout::{Delivery, Fanout, receive_frame};
use super::hub::Frame;
use super::indexer::Indexer;
use super::service::refusal;
use crate::protocol::{AckPayload, ServerEvent};
use crate::server::db::batch::{NewMessage, Stored};
use std::sync::Arc;
use tokio::sync::{OwnedRwLockReadGuard, mpsc};

/// A batch the database has answered, waiting to be answered to its
/// senders.
pub(super) struct Committed {
    pub(super) batch: Vec<PendingSend>,
    /// The batch's messages stored, by their place in `batch`.
    pub(super) unique: Vec<usize>,
    /// For each message, the earlier one of the batch with its id.
    pub(super) repeat_of: Vec<Option<usize>>,
    /// What the database holds for each of `unique`; `None`: refused (the
    /// database is unavailable, or failed).
    pub(super) stored: Option<Vec<Stored>>,
    /// Held until the batch is published (see `Fanout::commit_gate`).
    pub(super) _gate: Option<OwnedRwLockReadGuard<()>>,
}

/// Whom the committer tells of a stored batch.
pub(super) struct Answer {
    pub(super) fanout: Arc<dyn Fanout>,
    pub(super) indexer: Arc<Indexer>,
}

impl Answer {
    /// Answers each stored batch as it comes, in the order they come.
    pub(super) async fn run(self, mut batches: mpsc::Receiver<Committed>) {
        while let Some(committed) = batches.recv().await {
            self.answer(committed);
        }
    }

    /// Acks each sender and publishes the new messages, in batch order.
    fn answer(&self, committed: Committed) {
        let Committed {
            batch,
            unique,
            repeat_of,
            stored,
            _gate,
        } = committed;
        let Some(stored) = stored else {
            for send in batch {
                reply(send, Reply::Unavailable);
            }
            return;
        };
        let mut replies: Vec<Reply> = vec![Reply::NoConversation; batch.len()];
        let mut deliveries = Vec::new();
        for (&index, stored) in unique.iter().zip(stored) {
            let message = &batch[index].message;
            replies[index] = match stored {
                Stored::Inserted { seq, change } => {
                    deliveries.push(Delivery {
                        conversation: message.conversation_id,
                        seq,
                        members: batch[index].members.clone(),
                        frame: receive_frame(message, change, batch[index].reply_quote.as_ref()),
                        origin: batch[index].reply.connection_id(),
                    });
                    Reply::Ack(message.timestamp, change)
                }
                Stored::Existing {
                    seq,
                    change,
                    conversation_id,
                    sender_id,
                    content,
                    edited,
                    timestamp,
                } if conversation_id == message.conversation_id
                && sender_id == message.sender_id
                // Its text can be told apart only while it is as sent.
                && (edited || content.as_ref().is_none_or(|c| *c == message.content)) =>
                {
                    // A retry of a stored message. If this node never pushed it
                    // (the batch that stored it lost its answer: a crash between
                    // commit and fan-out, a lost connection), it goes out now,
                    // here and to the other nodes; if it did, the fan-out knows
                    // and skips it, as it stands now. One deleted since is only
                    // acked: its deletion was news enough.
                    if let Some(content) = content {
                        deliveries.push(Delivery {
                            conversation: conversation_id,
                            seq,
                            members: batch[index].members.clone(),
                            frame: receive_frame(
                                &NewMessage {
                                    timestamp,
                                    content,
                                    ..message.clone()
                                },
                                change,
                                batch[index].reply_quote.as_ref(),
                            ),
                            origin: batch[index].reply.connection_id(),
                        });
                    }
                    Reply::Ack(timestamp, change)
                }
                Stored::Existing { .. } => Reply::Conflict,
                Stored::NoConversation => Reply::NoConversation,
            };
        }
        // The same id twice in one batch: a retry gets the first one's answer,
        // different content under the same id is a clash.
        for index in 0..batch.len() {
            if let Some(first) = repeat_of[index] {
                replies[index] = if same_message(&batch[first].message, &batch[index].message) {
                    replies[first]
                } else {
                    Reply::Conflict
                };
            }
        }
        // The index learns of the commit before anyone hears of it, so a search
        // made after an ack finds the message (`Indexer::caught_up`).
        if !deliveries.is_empty() {
            self.indexer
                .committed(deliveries.iter().map(|d| d.conversation));
        }
        // Acks first, then fan-out: the sender learns of the commit no later
        // than anyone else.
        for (send, outcome) in batch.into_iter().zip(replies) {
            reply(send, outcome);
        }
        if !deliveries.is_empty() {
            self.fanout.publish(&deliveries);
        }
    }
}

#[derive(Clone, Copy)]
enum Reply {
    /// Stored: its timestamp and change.
    Ack(i64, i64),
    Conflict,
    NoConversation,
    Unavailable,
}

fn same_message(a: &NewMessage, b: &NewMessage) -> bool {
    a.conversation_id == b.conversation_id && a.sender_id == b.sender_id && a.content == b.content
}

fn reply(send: PendingSend, outcome: Reply) {
    let PendingSend { message, reply, .. } = send;
    let id = Some(message.message_id.clone());
    let change = match outcome {
        Reply::Ack(_, change) => Some(change),
        _ => None,
    };
    let outcome: SendOutcome = match outcome {
        Reply::Ack(timestamp, _) => Ok(timestamp),
        Reply::Conflict => Err(refusal::id_taken().about(id)),
        Reply::NoConversation => Err(refusal::no_conversation().about(id)),
        Reply::Unavailable => Err(refusal::database_unavailable().about(id)),
    };
    match reply {
        ReplyTo::Waiter(waiter) => {
            let _ = waiter.send(outcome);
        }
        ReplyTo::Connection(handle) => {
            let event = match outcome {
                Ok(timestamp) => ServerEvent::Ack(AckPayload {
                    conversation_id: message.conversation_id,
                    message_id: message.message_id,
                    timestamp,
                    change,
                }),
                Err(error) => ServerEvent::Error(error),
            };
            handle.send(Frame::from(event.to_json()));
        }
    }
}
