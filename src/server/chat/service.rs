//! Every messaging action, once: the signed-in user and an already
//! validated command in, one result out. The WebSocket handler and the
//! server functions behind the pages only translate to and from these
//! (and the REST routes will, for any action they take on), so a case gets
//! the same answer in the same words whichever way it came.
//!
//! A send is answered in two steps: refusals that need no database work
//! (not the sender, rate limited, not a member) come back at once; an
//! accepted message is queued for the group-commit writer, which answers
//! its [`ReplyTo`] after the commit (an ack with the stored timestamp, or
//! the reason it was refused). A WebSocket reader therefore never waits for
//! a commit (its client may pipeline), and a form post waits for exactly
//! its own ([`ChatCore::send_and_wait`]).

use super::ChatCore;
use super::committer::{PendingSend, ReplyTo};
use super::fanout::NodeEvent;
use super::hub::{ConnectionHandle, ConnectionId, Frame};
use super::members::Members;
use crate::protocol::{
    ActionAck, ApiError, ConversationId, DeletedPayload, EditedPayload, MarkerPayload,
    MemberPayload, MessageId, MessagePayload, PresenceSubscription, ReactedPayload, ReadPayload,
    ServerEvent, TypingNotice, clamp_timestamp,
};
use crate::server::auth::CurrentUser;
use crate::server::clock::now_ms;
use crate::server::db::actions::{self, Act, Change, Outcome};
use crate::server::db::attachments::{self, Claim};
use crate::server::db::batch::NewMessage;
use crate::server::db::markers::{self, Marked, Marker};
use crate::server::db::messages;
use crate::server::db::presence;
use crate::server::limits::Action;

pub(crate) use super::refusal;

impl ChatCore {
    /// The conversation's members, when `me` is one of them.
    async fn membership(
        &self,
        me: &CurrentUser,
        conversation: ConversationId,
    ) -> Result<Members, ApiError> {
        match self.members.get(&self.db, conversation).await {
            Ok(Some(members)) if members.contains(me.id) => Ok(members),
            Ok(Some(_)) => Err(refusal::not_a_member()),
            Ok(None) => Err(refusal::no_conversation()),
            Err(e) => {
                tracing::warn!(error = %e, "membership lookup failed");
                Err(refusal::database_unavailable())
            }
        }
    }

    /// Sends `message` as `me`: refused at once, or queued for the writer,
    /// which answers `reply` after the commit. The timestamp is kept as
    /// sent unless it is more than 60 s ahead of the server's clock.
    pub(crate) async fn send(
        &self,
        me: &CurrentUser,
        message: MessagePayload,
        reply: ReplyTo,
    ) -> Result<(), ApiError> {
        let id = Some(message.message_id.clone());
        if let Err(invalid) = message.check_body() {
            return Err(ApiError::from(invalid).about(id));
        }
        if message.sender_id != me.id {
            return Err(refusal::not_the_sender().about(id));
        }
        self.limits
            .check(me.id, Action::Send)
            .map_err(|e| e.about(id.clone()))?;
        let members = self
            .membership(me, message.conversation_id)
            .await
            .map_err(|e| e.about(id.clone()))?;
        if members.blocked() {
            return Err(refusal::blocked().about(id));
        }
        // A reply: the message it answers, in this conversation (one key
        // lookup; a plain message costs nothing here).
        let (reply_seq, reply_quote) = match &message.reply_to {
            None => (None, None),
            Some(original) => {
                match messages::quote(&self.db, message.conversation_id, original).await {
                    Ok(Some((seq, quote))) => (Some(seq), Some(quote)),
                    Ok(None) => return Err(refusal::no_reply_target().about(id)),
                    Err(e) => {
                        tracing::warn!(error = %e, "reply lookup failed");
                        return Err(refusal::database_unavailable().about(id));
                    }
                }
            }
        };
        // Its files: claimed for it, all or none (one statement, only for
        // a message that has some).
        let attachments = if message.attachments.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<_> = message
                .attachments
                .iter()
                .map(|a| a.attachment_id)
                .collect();
            let claim = attachments::claim(
                &self.db,
                &ids,
                me.id,
                message.conversation_id,
                &message.message_id,
            )
            .await;
            match claim {
                Ok(Claim::Claimed(files)) => files,
                Ok(Claim::Missing) => return Err(refusal::no_such_attachment().about(id)),
                Ok(Claim::Taken) => return Err(refusal::attachment_sent().about(id)),
                Err(e) => {
                    tracing::warn!(error = %e, "attachment claim failed");
                    return Err(refusal::database_unavailable().about(id));
                }
            }
        };
        let pending = PendingSend {
            message: NewMessage {
                conversation_id: message.conversation_id,
                timestamp: clamp_timestamp(message.timestamp, now_ms()),
                message_id: message.message_id,
                sender_id: message.sender_id,
                content: message.content,
                reply_seq,
                attachments,
            },
            reply_quote,
            members,
            reply,
        };
        self.committer
            .submit(pending)
            .await
            .map_err(|_| refusal::shutting_down().about(id))
    }

    /// Sends and waits for the commit (a form post): the stored timestamp,
    /// or why it was refused.
    pub(crate) async fn send_and_wait(
        &self,
        me: &CurrentUser,
        message: MessagePayload,
    ) -> Result<i64, ApiError> {
        let id = Some(message.message_id.clone());
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.send(me, message, ReplyTo::Waiter(reply)).await?;
        outcome
            .await
            .unwrap_or_else(|_| Err(refusal::shutting_down().about(id)))
    }

    /// Moves `me`'s read or delivered marker in a conversation to
    /// `marked.message_id` (a marker never moves back). When it moved,
    /// every connection of every member hears of it, here and on the other
    /// nodes; a delivered marker not `from` (the one that said so), a read
    /// one `from` too: it learns how many messages are left unread.
    pub(crate) async fn mark(
        &self,
        me: &CurrentUser,
        marker: Marker,
        marked: ReadPayload,
        from: Option<ConnectionId>,
    ) -> Result<Marked, ApiError> {
        let id = Some(marked.message_id.clone());
        self.limits
            .check(me.id, Action::ReadMarker)
            .map_err(|e| e.about(id.clone()))?;
        let conversation = marked.conversation_id;
        let members = self
            .membership(me, conversation)
            .await
            .map_err(|e| e.about(id.clone()))?;
        let outcome = markers::mark(&self.db, marker, conversation, me.id, &marked.message_id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "marker failed");
                refusal::database_busy().about(id.clone())
            })?;
        match outcome {
            Marked::Moved { unread } => {
                let payload = MarkerPayload {
                    conversation_id: conversation,
                    user_id: me.id,
                    message_id: marked.message_id,
                    unread_count: None,
                };
                let (frame, from) = match marker {
                    Marker::Read => (
                        ServerEvent::Read(MarkerPayload {
                            unread_count: Some(unread),
                            ..payload
                        }),
                        None,
                    ),
                    Marker::Delivered => (ServerEvent::Delivered(payload), from),
                };
                self.tell_members(conversation, &members, from, frame.to_json());
                Ok(outcome)
            }
            Marked::Unchanged => Ok(outcome),
            Marked::UnknownMessage => Err(refusal::no_such_message().about(id)),
        }
    }

    /// `from` follows the presence of `subscription.user_ids` (those `me`
    /// may see: themselves and people in a conversation with them), in
    /// place of whom it followed, and is told their present state at once
    /// (`presence.state`). One query.
    pub(crate) async fn follow_presence(
        &self,
        me: &CurrentUser,
        from: &ConnectionHandle,
        subscription: PresenceSubscription,
    ) -> Result<(), ApiError> {
        self.limits.check(me.id, Action::PresenceSubscribe)?;
        let mut asked = subscription.user_ids;
        let mut seen = std::collections::HashSet::with_capacity(asked.len());
        asked.retain(|u| seen.insert(*u));
        let people = if asked.is_empty() {
            Vec::new()
        } else {
            presence::visible_to(&self.db, me.id, &asked)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "presence lookup failed");
                    refusal::database_busy()
                })?
        };
        let state = self.presence.follow(from, people);
        from.send(Frame::from(ServerEvent::PresenceState(state).to_json()));
        Ok(())
    }

    /// `me` is typing in a conversation (`typing`), or stopped: every
    /// connection of its other members hears of it, here and on the other
    /// nodes, but for one whose queue is full (a notice is not worth
    /// closing a connection for). Never stored, and no database work once
    /// the conversation's members are cached.
    pub(crate) async fn typing(
        &self,
        me: &CurrentUser,
        notice: TypingNotice,
        typing: bool,
    ) -> Result<(), ApiError> {
        self.limits.check(me.id, Action::Typing)?;
        let conversation = notice.conversation_id;
        let members = self.membership(me, conversation).await?;
        if members.blocked() {
            return Err(refusal::blocked());
        }
        let payload = MemberPayload {
            conversation_id: conversation,
            user_id: me.id,
        };
        let frame = if typing {
            ServerEvent::Typing(payload)
        } else {
            ServerEvent::TypingStop(payload)
        }
        .to_json();
        self.hub
            .offer(members.ids(), me.id, &Frame::from(frame.as_str()));
        self.fanout.tell_others(NodeEvent::Typing {
            conversation,
            user: me.id,
            frame,
        });
        Ok(())
    }

    /// `me` edits, deletes or reacts to a message, as `action_id`: checked
    /// (budget, membership, a blocked chat takes no edits or reactions),
    /// stored, and answered after the commit. The asking connection (if
    /// any) gets `action.ack` first; then, if it changed something, every
    /// connection of every member hears of it, here and on the other
    /// nodes (the asking one included). A retried `action_id` is answered
    /// as the first time and changes nothing.
    pub(crate) async fn act(
        &self,
        me: &CurrentUser,
        action_id: MessageId,
        conversation: ConversationId,
        message_id: MessageId,
        change: Change,
        from: Option<&ConnectionHandle>,
    ) -> Result<ActionAck, ApiError> {
        let about = Some(action_id.clone());
        let refuse = |e: ApiError| e.about_action(about.clone());
        self.limits
            .check(me.id, Action::MessageAction)
            .map_err(refuse)?;
        let members = self.membership(me, conversation).await.map_err(refuse)?;
        if members.blocked() && !matches!(change, Change::Delete) {
            return Err(refuse(refusal::blocked()));
        }
        let act = Act {
            action_id: &action_id,
            user: me.id,
            conversation,
            message_id: &message_id,
            change: &change,
        };
        let mut outcome = actions::apply(&self.db, act).await;
        if matches!(&outcome, Err(sqlx::Error::Database(e)) if e.is_unique_violation()) {
            // The same action_id, retried on another connection at the
            // same moment: the other one is stored; answer as it was.
            outcome = actions::apply(&self.db, act).await;
        }
        let outcome = outcome.map_err(|e| {
            tracing::warn!(error = %e, "message action failed");
            refuse(refusal::database_busy())
        })?;
        let (number, edited_at) = match &outcome {
            Outcome::Done {
                change,
                edited_at,
                files,
            } => {
                if !files.is_empty() {
                    let (store, files) = (self.files.clone(), files.clone());
                    tokio::spawn(async move { store.forget(&files).await });
                }
                (*change, *edited_at)
            }
            Outcome::Repeated { change } => (*change, None),
            Outcome::IdTaken => return Err(refuse(refusal::action_id_taken())),
            Outcome::NoMessage => return Err(refuse(refusal::no_such_message())),
            Outcome::NotAuthor => return Err(refuse(refusal::not_the_author())),
            Outcome::Deleted => return Err(refuse(refusal::message_deleted())),
            Outcome::TooManyReactions => return Err(refuse(refusal::too_many_reactions())),
        };
        let ack = ActionAck {
            action_id,
            conversation_id: conversation,
            message_id: message_id.clone(),
            change: number,
        };
        if let Some(from) = from {
            from.send(Frame::from(ServerEvent::ActionAck(ack.clone()).to_json()));
        }
        // Told only when it was done now (not for a retry) and changed
        // something.
        let (Some(number), true) = (number, matches!(outcome, Outcome::Done { .. })) else {
            return Ok(ack);
        };
        let event = match change {
            Change::Edit(content) => ServerEvent::Edited(EditedPayload {
                conversation_id: conversation,
                message_id,
                content,
                edited_at: edited_at.unwrap_or_else(now_ms),
                change: number,
            }),
            Change::Delete => ServerEvent::Deleted(DeletedPayload {
                conversation_id: conversation,
                message_id,
                change: number,
            }),
            Change::React(emoji) => ServerEvent::Reacted(ReactedPayload {
                conversation_id: conversation,
                message_id,
                user_id: me.id,
                emoji,
                change: number,
            }),
            Change::Unreact(emoji) => ServerEvent::Unreacted(ReactedPayload {
                conversation_id: conversation,
                message_id,
                user_id: me.id,
                emoji,
                change: number,
            }),
        };
        self.tell_members(conversation, &members, None, event.to_json());
        Ok(ack)
    }

    /// `frame` to every connection of every member (but `from`), here and
    /// on the other nodes.
    fn tell_members(
        &self,
        conversation: ConversationId,
        members: &Members,
        from: Option<ConnectionId>,
        frame: String,
    ) {
        self.hub
            .deliver(members.ids(), from, &Frame::from(frame.as_str()));
        self.fanout.tell_others(NodeEvent::ToMembers {
            conversation,
            also: Vec::new(),
            frame,
        });
    }
}
