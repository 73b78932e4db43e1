//! Clients that keep sending while the server is killed, restarted, loses its
//! database or shuts down, and behave as the web client does, with the web
//! client's own outbox (`natter::model::outbox`): each message gets its
//! `message_id` once, a message counts as sent only when `message.ack` names
//! it, every message not acknowledged yet is sent again with the same id
//! after each reconnect, and one refused as `unavailable` goes again on its
//! own backoff schedule. So the faults these survive are the faults the
//! browser survives.
//!
//! A [`Chatter`] records everything a person would notice (what was
//! acknowledged, refused, pushed to them, how each connection ended), live,
//! so a test can wait for a condition instead of sleeping.

use super::{TestUser, ws_request};
use futures::{SinkExt, StreamExt};
use natter::model::outbox::Outbox;
use natter::protocol::{ClientEvent, Content, ConversationId, MessageId, MessagePayload, UserId};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// How often a chatter looks at its controls while nothing arrives.
const TICK: Duration = Duration::from_millis(25);

/// One message as its sender made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Made {
    pub id: String,
    pub conversation: String,
    pub content: String,
}

/// How one connection ended.
#[derive(Clone, Debug)]
pub struct Ending {
    /// The close code the server sent; `None` when the connection just broke.
    pub code: Option<u16>,
    /// Sends written on this connection that had no answer (ack or error)
    /// when it ended.
    pub unanswered: Vec<String>,
    /// What broke it, when it ended without a close frame.
    pub error: Option<String>,
}

/// Everything one chatter saw, in order.
#[derive(Debug, Default)]
pub struct Record {
    /// Every message made, in the order it was made.
    pub made: Vec<Made>,
    /// Acknowledged message ids, with how many times each was sent in all.
    pub acked: HashMap<String, usize>,
    /// `error` replies: (message id, code).
    pub refused: Vec<(String, String)>,
    /// Frames that were resends of a message already sent once.
    pub resent: usize,
    /// `message.receive` pushes: (message id, content, which connection
    /// it came on, counting from 1).
    pub received: Vec<(String, String, usize)>,
    /// Each connection that ended, in order.
    pub endings: Vec<Ending>,
    /// Connections opened (the first included).
    pub connections: usize,
    /// Connections the server has shown it serves (it answered a ping on
    /// them, which it does only once the connection is registered for
    /// pushes).
    pub ready: usize,
    /// The longest a send waited for its answer.
    pub slowest_answer: Duration,
}

impl Record {
    pub fn unacked(&self) -> usize {
        self.made.len() - self.acked.len()
    }

    /// Messages acknowledged the first time they were sent: stored by that
    /// very send, and so pushed to the other participants by it.
    pub fn acked_first_time(&self) -> impl Iterator<Item = &String> {
        self.acked
            .iter()
            .filter(|(_, sends)| **sends == 1)
            .map(|(id, _)| id)
    }

    pub fn received_ids(&self) -> impl Iterator<Item = &String> {
        self.received.iter().map(|(id, _, _)| id)
    }

    /// Messages pushed twice on one connection. (On a new connection a push
    /// may repeat one the old connection had: the client knows it by its id.)
    pub fn received_twice(&self) -> Vec<&String> {
        let mut seen = HashSet::new();
        self.received
            .iter()
            .filter(|(id, _, connection)| !seen.insert((id, connection)))
            .map(|(id, _, _)| id)
            .collect()
    }
}

/// What the test steers: where to connect, whether to make new messages
/// (not until [`Control::start_producing`]), when to stop.
#[derive(Clone)]
pub struct Control {
    base: Arc<Mutex<String>>,
    producing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Control {
    pub fn new(base: &str) -> Self {
        Self {
            base: Arc::new(Mutex::new(base.to_owned())),
            producing: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Where the next connection goes (another node, say).
    pub fn connect_to(&self, base: &str) {
        *self.base.lock().unwrap() = base.to_owned();
    }

    /// Make new messages, as fast as the window allows.
    pub fn start_producing(&self) {
        self.producing.store(true, Ordering::SeqCst);
    }

    /// No more new messages; what is unacknowledged is still resent.
    pub fn stop_producing(&self) {
        self.producing.store(false, Ordering::SeqCst);
    }

    /// Chatters with nothing left unacknowledged end (close their socket).
    pub fn stop(&self) {
        self.stop_producing();
        self.stop.store(true, Ordering::SeqCst);
    }

    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }
}

/// A person with one open tab, sending round-robin to `conversations`.
pub struct Chatter {
    pub user: TestUser,
    pub record: Arc<Mutex<Record>>,
    task: tokio::task::JoinHandle<()>,
}

impl Chatter {
    /// Starts sending, with up to `window` messages unacknowledged at once.
    pub fn spawn(
        user: &TestUser,
        conversations: &[String],
        window: usize,
        control: &Control,
    ) -> Self {
        let record = Arc::new(Mutex::new(Record::default()));
        let task = tokio::spawn(run(
            user.clone(),
            conversations.to_vec(),
            window.max(1),
            control.clone(),
            record.clone(),
        ));
        Self {
            user: user.clone(),
            record,
            task,
        }
    }

    /// A look at the record so far.
    pub fn with<T>(&self, f: impl FnOnce(&Record) -> T) -> T {
        f(&self.record.lock().unwrap())
    }

    /// Waits for the chatter to end (after [`Control::stop`], or a lost
    /// connection without reconnecting) and hands over its record.
    pub async fn finish(self, limit: Duration) -> Record {
        tokio::time::timeout(limit, self.task)
            .await
            .unwrap_or_else(|_| panic!("{} did not finish in {limit:?}", self.user.username))
            .expect("chatter task");
        std::mem::take(&mut *self.record.lock().unwrap())
    }
}

/// Waits until every chatter is connected and served.
pub async fn wait_ready(chatters: &[&Chatter]) {
    wait_until(
        "every chatter is connected",
        Duration::from_secs(30),
        || chatters.iter().all(|c| c.with(|r| r.ready >= 1)),
    )
    .await;
}

/// Waits until `condition` holds, checking every few milliseconds; panics
/// with `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The outbox's clock: milliseconds since the chatter started.
fn ms_since(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Jitter for the outbox's retries: uniform enough in [0, 1).
fn random() -> f64 {
    // A UUIDv7 ends in random bits.
    f64::from(uuid::Uuid::now_v7().as_u128() as u16) / 65_536.0
}

async fn run(
    user: TestUser,
    conversations: Vec<String>,
    window: usize,
    control: Control,
    record: Arc<Mutex<Record>>,
) {
    let start = Instant::now();
    let mut outbox = Outbox::default();
    // Every send of each message, across connections, and when its last
    // send went out.
    let mut sends: HashMap<MessageId, (usize, Instant)> = HashMap::new();
    let mut made = 0usize;
    loop {
        if outbox.is_empty() && control.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut ws = connect(&user, &control).await;
        record.lock().unwrap().connections += 1;
        if let Err(e) = ws.send(Message::Ping(b"ready?".to_vec().into())).await {
            panic!("{}: a new socket broke at once: {e}", user.username);
        }
        outbox.reconnected(ms_since(start));
        let (code, error) = loop {
            // New messages while the window has room; then whatever is due
            // (resends first: they are older), up to the window.
            while control.producing.load(Ordering::SeqCst) && outbox.len() < window {
                let conversation = conversations[made % conversations.len()].clone();
                let message = MessagePayload {
                    conversation_id: ConversationId::parse(&conversation).unwrap(),
                    sender_id: UserId::parse(&user.id.to_string()).unwrap(),
                    message_id: MessageId::parse(&super::message_id()).unwrap(),
                    content: Content::parse(&format!("{} #{made}", user.username)).unwrap(),
                    timestamp: super::now_ms(),
                    reply_to: None,
                    reply: None,
                    change: None,
                    attachments: Vec::new(),
                    mentions: Vec::new(),
                };
                made += 1;
                record.lock().unwrap().made.push(Made {
                    id: message.message_id.to_string(),
                    conversation,
                    content: message.content.to_string(),
                });
                outbox.push(message, ms_since(start));
            }
            let room = window.saturating_sub(outbox.in_flight());
            let mut broken = None;
            for message in outbox.take_due(ms_since(start), room) {
                let sent = sends
                    .entry(message.message_id.clone())
                    .or_insert((0, Instant::now()));
                if sent.0 > 0 {
                    record.lock().unwrap().resent += 1;
                }
                *sent = (sent.0 + 1, Instant::now());
                let frame = serde_json::to_string(&ClientEvent::Send(message)).unwrap();
                if let Err(e) = ws.send(Message::Text(frame.into())).await {
                    broken = Some(format!("send: {e}"));
                    break;
                }
            }
            if let Some(e) = broken {
                break (None, Some(e));
            }
            if outbox.is_empty() && control.stop.load(Ordering::SeqCst) {
                let _ = ws.close(None).await;
                return;
            }
            let now = Instant::now();
            let wake = match outbox.next_due_ms() {
                Some(due) => {
                    let wait = u64::try_from(due - ms_since(start)).unwrap_or(0);
                    (now + Duration::from_millis(wait)).min(now + TICK)
                }
                None => now + TICK,
            };
            let message = match tokio::time::timeout_at(wake, ws.next()).await {
                Err(_) => continue,
                Ok(None) => break (None, Some("end of stream".to_owned())),
                Ok(Some(Err(e))) => break (None, Some(format!("read: {e}"))),
                Ok(Some(Ok(message))) => message,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => break (frame.map(|f| u16::from(f.code)), None),
                Message::Pong(payload) if payload.as_ref() == b"ready?" => {
                    let mut r = record.lock().unwrap();
                    r.ready = r.connections;
                    continue;
                }
                _ => continue,
            };
            let frame: Value = serde_json::from_str(&text).expect("the server sends JSON");
            let payload = &frame["payload"];
            let id_text = payload["message_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let id = MessageId::parse(&id_text);
            let waited = id
                .as_ref()
                .and_then(|id| sends.get(id))
                .map_or(Duration::ZERO, |(_, at)| at.elapsed());
            match frame["event"].as_str() {
                Some("message.ack") => {
                    let id = id.expect("an ack names its message");
                    assert!(
                        outbox.is_in_flight(&id),
                        "an ack for nothing in flight: {frame}"
                    );
                    outbox.remove(&id);
                    let mut r = record.lock().unwrap();
                    r.acked.insert(id_text, sends[&id].0);
                    r.slowest_answer = r.slowest_answer.max(waited);
                }
                Some("error") => {
                    let code = payload["code"].as_str().unwrap_or_default().to_owned();
                    assert_eq!(
                        code, "unavailable",
                        "{}: the only refusal a healthy send may get: {frame}",
                        user.username
                    );
                    let id = id.expect("a refused send names its message");
                    assert!(
                        outbox.is_in_flight(&id),
                        "an error for nothing in flight: {frame}"
                    );
                    outbox.refused_for_now(&id, ms_since(start), random());
                    let mut r = record.lock().unwrap();
                    r.refused.push((id_text, code));
                    r.slowest_answer = r.slowest_answer.max(waited);
                }
                Some("message.receive") => {
                    let content = payload["content"].as_str().unwrap_or_default().to_owned();
                    let mut r = record.lock().unwrap();
                    let connection = r.connections;
                    r.received.push((id_text, content, connection));
                }
                _ => {}
            }
        };
        let unanswered = outbox.unanswered().map(ToString::to_string).collect();
        record.lock().unwrap().endings.push(Ending {
            code,
            unanswered,
            error,
        });
    }
}

/// Opens a WebSocket to wherever the control points, retrying while the
/// server is down or cannot check the session (its database is down).
async fn connect(user: &TestUser, control: &Control) -> Socket {
    let auth = format!("Bearer {}", user.token);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let base = control.base();
        match tokio_tungstenite::connect_async(ws_request(&base, &[("authorization", &auth)])).await
        {
            Ok((ws, _)) => return ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(response))
                if !response.status().is_server_error() =>
            {
                panic!("{base} refused {}: {}", user.username, response.status())
            }
            Err(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "{} could not reconnect to {base} for a minute",
            user.username
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every message of a conversation as `user` pages through its history,
/// oldest first: (message id, sender id, content).
pub async fn history(user: &TestUser, conversation: &str) -> Vec<(String, String, String)> {
    let mut cursor = String::new();
    let mut all = Vec::new();
    loop {
        let response = user
            .get(&format!("/api/v1/chat/{conversation}?limit=100{cursor}"))
            .await;
        assert_eq!(response.status(), 200, "history of {conversation}");
        let page: Value = response.json().await.unwrap();
        for m in page["messages"].as_array().unwrap() {
            all.push((
                m["message_id"].as_str().unwrap().to_owned(),
                m["sender_id"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    all.reverse();
    all
}

/// The ids that occur more than once.
pub fn repeated<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| !seen.insert(*id)).collect()
}

/// What the database holds, message id → (conversation, sender, content),
/// ids in their wire form.
pub async fn stored(db_url: &str) -> HashMap<String, (String, String, String)> {
    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(db_url)
        .await
        .expect("the test reaches the database");
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT message_id, 'conv_' || replace(conversation_id::text, '-', ''), \
                'user_' || replace(sender_id::text, '-', ''), content FROM messages",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, conversation, sender, content)| (id, (conversation, sender, content)))
        .collect()
}

/// The table against what the chatters saw: every acknowledged message is
/// stored as it was made; nothing is stored that nobody made; no content
/// (each is unique) is stored twice. Returns how many rows there are.
pub async fn assert_acked_stored_once(db_url: &str, chatters: &[(&TestUser, &Record)]) -> usize {
    let stored = stored(db_url).await;
    let mut contents: HashMap<&str, usize> = HashMap::new();
    for (_, _, content) in stored.values() {
        *contents.entry(content).or_default() += 1;
    }
    let doubled: Vec<_> = contents.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "stored twice: {doubled:?}");
    let mut made = HashMap::new();
    for (user, record) in chatters {
        for m in &record.made {
            made.insert(&m.id, (user, m));
        }
        for id in record.acked.keys() {
            let (_, m) = made[id];
            assert_eq!(
                stored.get(id),
                Some(&(
                    m.conversation.clone(),
                    user.id.to_string(),
                    m.content.clone()
                )),
                "{} had {id} acknowledged; it must be stored as sent",
                user.username
            );
        }
    }
    for (id, (_, _, content)) in &stored {
        assert!(
            made.contains_key(id),
            "stored but never sent: {id} {content}"
        );
    }
    stored.len()
}
