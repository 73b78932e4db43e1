//! The receiving side of the bus: listens for other nodes' wake-ups, reads
//! the rows they name (or, after the listener was away, everything recent
//! in the conversations of this node's users) and delivers each message this
//! node has not delivered yet.

use super::wake::{self, Range, Wake};
use super::{CHANNEL, Peers, announce};
use crate::protocol::{Content, ConversationId, MessageId, Quote, UserId};
use crate::server::chat::fanout::{NodeEvent, receive_frame};
use crate::server::chat::hub::{Hub, Kick};
use crate::server::chat::members::MemberCache;
use crate::server::chat::presence::Presence;
use crate::server::clock::now_ms;
use crate::server::db::Planned;
use crate::server::db::batch::NewMessage;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use uuid::Uuid;

struct Row {
    conversation_id: ConversationId,
    seq: i64,
    change: i64,
    message_id: MessageId,
    sender_id: UserId,
    /// `None` once deleted (then not pushed: its deletion is).
    content: Option<Content>,
    client_ts: i64,
    reply_message_id: Option<MessageId>,
    reply_sender_id: Option<UserId>,
    reply_excerpt: Option<String>,
    attachments: Option<String>,
}

/// Listens for other nodes' wake-ups and delivers what they committed to
/// this node's connections.
pub(crate) async fn listener(
    peers: Arc<Peers>,
    db: PgPool,
    hub: Arc<Hub>,
    members: Arc<MemberCache>,
    presence: Arc<Presence>,
) {
    // The last moment this node is known to have been listening: a
    // catch-up reads from a little before it (a connection that dies
    // quietly is noticed late, so not from when the drop was noticed).
    let mut since = SystemTime::now();
    loop {
        let mut listener = match PgListener::connect_with(&db).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Reads other nodes' rows (see `db::Planned`).
        let mut reader = match Planned::connect(&db).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read other nodes' messages; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = announce(&db, &Wake::Hello(peers.node)).await {
            tracing::warn!(error = %e, "announcing this node failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Anything committed elsewhere while this node was not listening
        // (a wake-up in flight when it stopped may be a little older). On
        // failure the outage goes on: reconnect and try the same window.
        let outage_start = since - Duration::from_secs(5);
        // Membership changes announced meanwhile were missed: start over
        // from the database.
        members.clear();
        if let Err(e) = catch_up(&peers, &mut reader, &db, &hub, &members, outage_start).await {
            tracing::warn!(error = %e, "catching up after a listener outage failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        since = SystemTime::now();
        // `None` or an error: the connection dropped; reconnect, then catch up.
        while let Ok(Some(notification)) = listener.try_recv().await {
            let heard_at = SystemTime::now();
            let Some(wake) = wake::parse_payload(notification.payload()) else {
                continue;
            };
            if wake.node() == peers.node {
                continue;
            }
            if peers.heard_another(peers.born.elapsed()) {
                tracing::info!(
                    "another natter node shares the database; telling it of new messages"
                );
            }
            presence.heard(wake.node(), Instant::now());
            match wake {
                Wake::Hello(_) => {
                    if let Err(e) = announce(&db, &Wake::Here(peers.node)).await {
                        tracing::warn!(error = %e, "answering a new node failed");
                    }
                    // It knows nothing of who is online here (or only what
                    // it knew before its listener was away).
                    for event in presence.snapshot() {
                        peers.queue_event(event);
                    }
                }
                Wake::Here(_) => {}
                Wake::Events(node, events) => {
                    for event in events {
                        if let Err(e) = act_on(node, event, &db, &hub, &members, &presence).await {
                            tracing::warn!(error = %e, "acting on another node's event failed");
                        }
                    }
                }
                Wake::Messages(_, ranges) => {
                    // A wake-up is not sent twice: if its rows cannot be
                    // read now, start over as after a listener outage, whose
                    // catch-up reads them from the table.
                    if let Err(e) = pull(&peers, &mut reader, &db, &hub, &members, &ranges).await {
                        tracing::warn!(error = %e, "reading other nodes' messages failed; catching up");
                        since = heard_at;
                        break;
                    }
                }
            }
            since = SystemTime::now();
        }
    }
}

/// Does here what another node (`node`) did there (see [`NodeEvent`]).
async fn act_on(
    node: Uuid,
    event: NodeEvent,
    db: &PgPool,
    hub: &Hub,
    members: &MemberCache,
    presence: &Presence,
) -> sqlx::Result<()> {
    match event {
        NodeEvent::Presence {
            user,
            online,
            last_seen,
        } => presence.remote(
            node,
            user,
            online,
            last_seen.unwrap_or_else(now_ms),
            Instant::now(),
        ),
        NodeEvent::PresenceSnapshot { users, first } => {
            presence.remote_snapshot(node, &users, first, now_ms(), Instant::now());
        }
        NodeEvent::MembersChanged { conversation } => members.invalidate(conversation),
        NodeEvent::ToMembers {
            conversation,
            mut also,
            frame,
        } => {
            if let Some(people) = members.get(db, conversation).await? {
                also.extend_from_slice(people.ids());
            }
            hub.deliver(&also, None, &frame.as_str().into());
        }
        NodeEvent::ToUser { user, frame } => {
            hub.deliver(&[user], None, &frame.as_str().into());
        }
        NodeEvent::Typing {
            conversation,
            user,
            frame,
        } => {
            if let Some(people) = members.get(db, conversation).await? {
                hub.offer(people.ids(), user, &frame.as_str().into());
            }
        }
        NodeEvent::SessionEnded { user, session } => {
            if let Some(session) = crate::server::auth::session_from_hex(&session) {
                hub.kick_session(user, &session, Kick::SignedOut);
            }
        }
    }
    Ok(())
}

/// Reads the given ranges for the conversations with a member online here
/// and delivers each message not delivered before.
async fn pull(
    peers: &Peers,
    reader: &mut Planned,
    db: &PgPool,
    hub: &Hub,
    members: &MemberCache,
    ranges: &[Range],
) -> sqlx::Result<()> {
    let mut conversations = Vec::new();
    let mut lows = Vec::new();
    let mut highs = Vec::new();
    for range in ranges {
        let Some(people) = members.get(db, range.conversation).await? else {
            continue;
        };
        if !people.ids().iter().any(|u| hub.is_online(*u)) {
            continue;
        }
        conversations.push(range.conversation);
        lows.push(range.first - 1);
        highs.push(range.last);
    }
    if conversations.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT m.conversation_id AS "conversation_id: ConversationId", m.seq, m.change,
                  m.message_id AS "message_id: MessageId", m.sender_id AS "sender_id: UserId",
                  m.content AS "content: Content", m.client_ts,
                  q.message_id AS "reply_message_id?: MessageId",
                  q.sender_id AS "reply_sender_id?: UserId",
                  left(q.content, 100) AS "reply_excerpt?",
                  m.attachments::text AS "attachments?"
           FROM unnest($1::uuid[], $2::int8[], $3::int8[]) AS k(conversation_id, low, high)
           JOIN messages m ON m.conversation_id = k.conversation_id
               AND m.seq > k.low AND m.seq <= k.high
           LEFT JOIN messages q ON q.conversation_id = m.conversation_id AND q.seq = m.reply_seq
           ORDER BY m.conversation_id, m.seq"#,
        &conversations as &[ConversationId],
        &lows,
        &highs,
    )
    .fetch_all(reader.conn().await?)
    .await?;
    deliver(peers, db, hub, members, rows).await
}

async fn catch_up(
    peers: &Peers,
    reader: &mut Planned,
    db: &PgPool,
    hub: &Hub,
    members: &MemberCache,
    since: SystemTime,
) -> sqlx::Result<()> {
    let online = hub.online_users();
    if online.is_empty() {
        return Ok(());
    }
    let since_ms = since
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT m.conversation_id AS "conversation_id: ConversationId", m.seq, m.change,
                  m.message_id AS "message_id: MessageId", m.sender_id AS "sender_id: UserId",
                  m.content AS "content: Content", m.client_ts,
                  q.message_id AS "reply_message_id?: MessageId",
                  q.sender_id AS "reply_sender_id?: UserId",
                  left(q.content, 100) AS "reply_excerpt?",
                  m.attachments::text AS "attachments?"
           FROM conversations c
           JOIN messages m ON m.conversation_id = c.id
               AND m.created_at > to_timestamp($2::float8 / 1000)
           LEFT JOIN messages q ON q.conversation_id = m.conversation_id AND q.seq = m.reply_seq
           WHERE c.last_activity > to_timestamp($2::float8 / 1000)
             AND EXISTS (SELECT 1 FROM participants p
                         WHERE p.conversation_id = c.id AND p.user_id = ANY($1))
           ORDER BY m.conversation_id, m.seq"#,
        &online as &[UserId],
        since_ms as f64,
    )
    .fetch_all(reader.conn().await?)
    .await?;
    deliver(peers, db, hub, members, rows).await
}

async fn deliver(
    peers: &Peers,
    db: &PgPool,
    hub: &Hub,
    members: &MemberCache,
    rows: Vec<Row>,
) -> sqlx::Result<()> {
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(people) = members.get(db, row.conversation_id).await? {
            found.push((row, people));
        }
    }
    // A row this node's committer has stored but not yet published (a
    // catch-up or another node's range can include one) waits for it, and
    // is then known as delivered.
    let _gate = peers.gate.write().await;
    for (row, people) in found {
        if !peers.first_delivery(row.conversation_id, row.seq) {
            continue;
        }
        let Some(content) = row.content else {
            continue;
        };
        let reply = match (row.reply_message_id, row.reply_sender_id) {
            (Some(message_id), Some(sender_id)) => Some(Quote {
                message_id,
                sender_id,
                text: row.reply_excerpt,
            }),
            _ => None,
        };
        let frame = receive_frame(
            &NewMessage {
                conversation_id: row.conversation_id,
                sender_id: row.sender_id,
                message_id: row.message_id,
                content,
                timestamp: row.client_ts,
                reply_seq: None,
                attachments: row
                    .attachments
                    .as_deref()
                    .map(crate::server::db::attachments::listed)
                    .unwrap_or_default(),
            },
            row.change,
            reply.as_ref(),
        );
        hub.deliver(people.ids(), None, &frame);
    }
    Ok(())
}
