//! The integration-test harness: a real natter server on port 0 over a fresh
//! PostgreSQL database, real HTTP and WebSocket clients.
//!
//! The database server is `DATABASE_URL` when set, else a private cluster in
//! `target/tmp/pg` (created on first use, shared by every test process). Each
//! test gets its own database with the migrations applied.

pub mod chatter;
pub mod cluster;
pub mod node;

use crate::support;
use futures::{SinkExt, StreamExt};
use natter::protocol::{ConversationId, UserId};
use natter::server::config::Config;
use natter::server::embedded_pg;
use natter::server::startup::{self, Server};
use natter::server::state::AppState;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgPool};
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a frame it expects.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Options for the database server the tests use, and its URL for a given
/// database name (for server processes, which take a URL).
async fn server_options() -> (PgConnectOptions, Box<dyn Fn(&str) -> String + Send>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let options = PgConnectOptions::from_str(&url).expect("DATABASE_URL parses");
        return (
            options,
            Box::new(move |name: &str| support::url_for(&url, name)),
        );
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pg");
    let cluster = embedded_pg::ensure_running(&dir)
        .await
        .expect("private test cluster starts");
    let options = cluster.connect_options(embedded_pg::DB_NAME);
    (options, Box::new(move |name: &str| cluster.url(name)))
}

/// A new, empty database (migrated by the server at start), named after the
/// time so leftovers of crashed runs can be recognised and dropped.
pub async fn fresh_database() -> PgConnectOptions {
    let (admin, _, name) = create_database().await;
    admin.database(&name)
}

/// A new, empty database as a URL, for a server process.
pub async fn fresh_database_url() -> String {
    let (_, url_for, name) = create_database().await;
    url_for(&name)
}

async fn create_database() -> (PgConnectOptions, Box<dyn Fn(&str) -> String + Send>, String) {
    let (admin, url_for) = server_options().await;
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .expect("connect to the test cluster");
    let name = support::fresh_database(&mut conn, "t")
        .await
        .expect("create the test database");
    (admin, url_for, name)
}

/// Budgets high enough for tests that make many users from one address and
/// act fast; the budgets have tests of their own, which lower them again.
pub const UNLIMITED: &[(&str, &str)] = &[
    ("NATTER_AUTH_ATTEMPTS_PER_MINUTE", "100000"),
    // Tests sign many users up at once.
    ("NATTER_PASSWORD_HASH_WORKERS", "2"),
    ("NATTER_PASSWORD_HASH_QUEUE", "100000"),
    ("NATTER_PASSWORD_HASH_WAIT_MS", "600000"),
    ("NATTER_SENDS_PER_SECOND", "100000"),
    // Every test client connects from 127.0.0.1.
    ("NATTER_MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ("NATTER_SEND_BURST", "100000"),
    (
        "NATTER_READ_MARKER_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_HISTORY_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_INBOX_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_SEARCH_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_MESSAGE_SEARCH_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_NEW_CONVERSATION_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_TYPING_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_PRESENCE_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_ACTION_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_CONNECT_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_UPLOAD_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_UNKNOWN_TOKEN_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
    (
        "NATTER_FAILED_LOGIN_BUDGET",
        "{ per-minute = 1000000, burst = 1000000 }",
    ),
];

/// The project's Leptos.toml, listening on a free port.
pub fn test_config(overrides: &[(&str, &str)]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Leptos.toml");
    let text = std::fs::read_to_string(&path).expect("Leptos.toml");
    // Tests make many accounts from one address and send in bursts; the
    // limits have tests of their own.
    let mut env: Vec<(String, String)> = [("LEPTOS_SITE_ADDR", "127.0.0.1:0")]
        .iter()
        .chain(UNLIMITED)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Each server its own data folder (attachments, uploads in progress).
    let data = std::env::temp_dir().join(format!("natter-test-{}", uuid::Uuid::now_v7().simple()));
    env.push(("NATTER_DATA_DIR".into(), data.display().to_string()));
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Config::from_toml(&path, &text, env).expect("Leptos.toml parses")
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub db: PgPool,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A server with some settings overridden (`NATTER_*` names).
    pub async fn start_with(overrides: &[(&str, &str)]) -> Self {
        let config = test_config(overrides);
        let pool = startup::connect(fresh_database().await, config.natter.db_pool_size)
            .await
            .expect("database connects and migrates");
        Self::start_on(config, pool).await
    }

    pub async fn start_on(config: Config, db: PgPool) -> Self {
        let server = Server::build(config, db.clone())
            .await
            .expect("server builds");
        let addr = server.local_addr().unwrap();
        let state = server.state.clone();
        // Runs until the test drops it (which aborts the task).
        let task = tokio::spawn(async move {
            server
                .run(std::future::pending())
                .await
                .expect("server runs");
        });
        Self {
            addr,
            base: format!("http://{addr}"),
            state,
            db,
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh user with a random name, signed in.
    pub async fn user(&self, prefix: &str) -> TestUser {
        self.register(&username(prefix), "correct horse").await
    }

    pub async fn register(&self, username: &str, password: &str) -> TestUser {
        register_on(&self.base, username, password).await
    }

    /// A direct chat (two users) or group (more) made by `owner`.
    pub async fn conversation(&self, owner: &TestUser, others: &[&TestUser]) -> ConversationId {
        ConversationId::parse(&conversation(owner, others, None).await).unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: UserId,
    pub username: String,
    pub token: String,
    /// The server it talks to (another node of the same database works too).
    pub base: String,
}

impl TestUser {
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client()
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A WebSocket authenticated with the bearer token.
    pub async fn ws(&self) -> WsClient {
        let auth = format!("Bearer {}", self.token);
        connect_ws(&self.base, &[("authorization", &auth)])
            .await
            .expect("WebSocket connects")
    }

    /// A WebSocket authenticated with the session cookie, as a browser opens
    /// it (with `origin`, when given).
    pub async fn ws_with_cookie(&self, origin: Option<&str>) -> Result<WsClient, WsRefused> {
        let cookie = format!("natter_session={}", self.token);
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(origin.map(|o| ("origin", o)));
        connect_ws(&self.base, &headers).await
    }

    /// The `message.send` frame for `content`.
    pub fn send_frame(
        &self,
        conversation: ConversationId,
        message_id: &str,
        content: &str,
    ) -> Value {
        json!({"event": "message.send", "payload": {
            "conversation_id": conversation, "sender_id": self.id,
            "message_id": message_id, "content": content, "timestamp": now_ms()}})
    }
}

/// Why an upgrade did not happen: the HTTP status the server answered with
/// instead of 101 (0 for a failure that was not an HTTP answer).
#[derive(Debug)]
pub struct WsRefused {
    pub status: u16,
    pub body: String,
}

/// The WebSocket request for `base` with extra headers.
pub fn ws_request(
    base: &str,
    headers: &[(&str, &str)],
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = format!("{}/api/v1/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

/// Opens `/api/v1/ws` with these headers (and nothing else that
/// authenticates): the socket, or the status the server refused it with.
pub async fn connect_ws(base: &str, headers: &[(&str, &str)]) -> Result<WsClient, WsRefused> {
    use tokio_tungstenite::tungstenite::Error;
    match tokio_tungstenite::connect_async(ws_request(base, headers)).await {
        Ok((stream, _)) => Ok(WsClient { stream }),
        Err(Error::Http(response)) => Err(WsRefused {
            status: response.status().as_u16(),
            body: response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        }),
        Err(other) => Err(WsRefused {
            status: 0,
            body: other.to_string(),
        }),
    }
}

impl TestServer {
    /// Accounts there are.
    pub async fn user_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Messages stored, in all conversations.
    pub async fn message_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// The stored row of one message: (content, sender, client timestamp).
    pub async fn stored(&self, message_id: &str) -> Option<(String, uuid::Uuid, i64)> {
        sqlx::query_as("SELECT content, sender_id, client_ts FROM messages WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }
}

pub use crate::support::{message_id, now_ms};

/// A user signed up on the server (or node) at `base`.
pub async fn register_on(base: &str, username: &str, password: &str) -> TestUser {
    let account = support::register(&reqwest::Client::new(), base, username, password)
        .await
        .unwrap_or_else(|e| panic!("register {username}: {e}"));
    TestUser {
        id: UserId::parse(&account.user_id).unwrap(),
        username: username.to_owned(),
        token: account.token,
        base: base.to_owned(),
    }
}

/// A fresh, random name starting with `prefix`.
pub fn username(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}

/// A direct chat (one other) or a group (more) made by `owner`, through the
/// node `owner` talks to; its id.
pub async fn conversation(owner: &TestUser, others: &[&TestUser], title: Option<&str>) -> String {
    let ids: Vec<String> = others.iter().map(|u| u.id.to_string()).collect();
    support::conversation(
        &reqwest::Client::new(),
        &owner.base,
        &owner.token,
        &ids,
        title,
    )
    .await
    .expect("create a conversation")
}

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("frame sent");
    }

    /// The next JSON frame (pings are answered by tungstenite and skipped).
    pub async fn recv(&mut self) -> Value {
        self.try_recv(PATIENCE)
            .await
            .expect("a frame arrives in time")
    }

    /// The next JSON frame within `wait`, or `None`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match next.expect("socket healthy") {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("server sends JSON"));
                }
                Message::Close(frame) => panic!("server closed the socket: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Reads until the server closes the socket: its close code (`None`
    /// for a close without one, or a connection that just ends).
    pub async fn next_close(&mut self) -> Option<u16> {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("the server closes the socket in time");
            match next {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Asserts nothing arrives for a while.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(frame) = self.try_recv(wait).await {
            panic!("expected no frame, got {frame}");
        }
    }

    /// Sends `message.send` and returns the ack (panics on anything else).
    pub async fn send_and_ack(&mut self, frame: &Value) -> Value {
        self.send_json(frame).await;
        let reply = self.recv().await;
        assert_eq!(
            reply["event"], "message.ack",
            "expected an ack, got {reply}"
        );
        assert_eq!(
            reply["payload"]["message_id"],
            frame["payload"]["message_id"]
        );
        reply
    }

    /// The next JSON frame, which must be this event; returns its payload.
    pub async fn expect_event(&mut self, event: &str) -> Value {
        let frame = self.recv().await;
        assert_eq!(frame["event"], event, "expected {event}, got {frame}");
        frame["payload"].clone()
    }

    /// The next frame, which must be an `error` with this code.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let reply = self.recv().await;
        assert_eq!(reply["event"], "error", "expected an error, got {reply}");
        assert_eq!(reply["payload"]["code"], code, "{reply}");
        reply
    }
}

/// Stores a message the way the group-commit writer does, but without its
/// answer or its fan-out: what a node leaves behind when it dies between
/// the commit and the acks.
pub async fn store_unannounced(
    db_url_or_pool: &PgPool,
    conversation: ConversationId,
    sender: &TestUser,
    message_id: &str,
    content: &str,
) {
    sqlx::query(
        "WITH c AS (UPDATE conversations SET last_seq = last_seq + 1, \
                    last_change = last_change + 1, last_activity = now() \
                    WHERE id = $1 RETURNING last_seq, last_change) \
         INSERT INTO messages (conversation_id, seq, change, message_id, sender_id, content, \
                               client_ts) \
         SELECT $1, last_seq, last_change, $2, $3, $4, $5 FROM c",
    )
    .bind(conversation)
    .bind(message_id)
    .bind(sender.id)
    .bind(content)
    .bind(now_ms())
    .execute(db_url_or_pool)
    .await
    .expect("store a message behind the server's back");
}
