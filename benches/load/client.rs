//! The public API as a client sees it: sign-up, conversations, history, the
//! inbox over HTTP, and authenticated WebSockets.

use crate::Res;
use crate::support;
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;
pub type WsSink = SplitSink<Ws, Message>;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    /// `host:port`, and the address it resolves to.
    authority: String,
    addr: SocketAddr,
}

#[derive(Deserialize)]
pub struct Page {
    pub messages: Vec<PageMessage>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct PageMessage {
    pub message_id: String,
    pub sender_id: String,
    /// The text now; `None` once deleted.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub edited_at: Option<i64>,
    /// A reply: the message it answers.
    #[serde(default)]
    pub reply: Option<Quote>,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
}

/// The message a reply answers, as a history page quotes it.
#[derive(Deserialize)]
pub struct Quote {
    pub message_id: String,
}

/// One emoji's reactions on a message, as a history page lists them.
#[derive(Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: u64,
    pub mine: bool,
}

/// What an upload answered with its 201 (docs/protocol.md 3.14).
#[derive(Deserialize)]
pub struct Uploaded {
    pub attachment_id: String,
    pub size: u64,
    pub content_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Deserialize)]
pub struct Inbox {
    pub chats: Vec<InboxChat>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
pub struct InboxChat {
    pub conversation_id: String,
    pub last_message: Option<String>,
}

impl Api {
    pub async fn new(base: &str) -> Res<Self> {
        let authority = base
            .strip_prefix("http://")
            .ok_or("the server's URL must be http://host:port")?
            .trim_end_matches('/')
            .to_owned();
        let addr = tokio::net::lookup_host(&authority)
            .await?
            .next()
            .ok_or("the server's address does not resolve")?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            base: base.to_owned(),
            authority,
            addr,
        })
    }

    pub async fn register(&self, username: &str) -> Res<User> {
        let account =
            support::register(&self.http, &self.base, username, "load-test-password").await?;
        Ok(User {
            id: account.user_id,
            token: account.token,
        })
    }

    /// A direct chat (one other person) or a new group (more).
    pub async fn conversation(
        &self,
        owner: &User,
        others: &[&User],
        title: Option<&str>,
    ) -> Res<String> {
        let ids: Vec<String> = others.iter().map(|u| u.id.clone()).collect();
        support::conversation(&self.http, &self.base, &owner.token, &ids, title).await
    }

    /// One page of history, newest first.
    pub async fn history(
        &self,
        user: &User,
        conversation: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Res<Page> {
        let mut url = format!("{}/api/v1/chat/{conversation}?limit={limit}", self.base);
        if let Some(cursor) = cursor {
            url.push_str("&cursor=");
            url.push_str(cursor);
        }
        let response = self.http.get(url).bearer_auth(&user.token).send().await?;
        let status = response.status();
        if status != 200 {
            return Err(format!("history page: HTTP {status}").into());
        }
        Ok(response.json().await?)
    }

    /// Every message of a conversation, oldest first (pages of 100).
    pub async fn whole_history(&self, user: &User, conversation: &str) -> Res<Vec<PageMessage>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .history(user, conversation, cursor.as_deref(), 100)
                .await?;
            all.extend(page.messages);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        all.reverse();
        Ok(all)
    }

    /// Uploads `bytes` as one file to `conversation`: the raw body, its
    /// type in `Content-Type`, its name (URL-safe) in the query. Anything
    /// but a 201 is an error with the status and the server's words.
    pub async fn upload(
        &self,
        user: &User,
        conversation: &str,
        name: &str,
        content_type: &str,
        bytes: bytes::Bytes,
    ) -> Res<Uploaded> {
        let response = self
            .http
            .post(format!(
                "{}/api/v1/chat/{conversation}/attachments?name={name}",
                self.base
            ))
            .bearer_auth(&user.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await?;
        let status = response.status();
        if status != 201 {
            let words = response.text().await.unwrap_or_default();
            return Err(format!("upload: HTTP {status}: {words}").into());
        }
        Ok(response.json().await?)
    }

    /// An attachment's bytes (`thumb`: its thumbnail's).
    pub async fn download(&self, user: &User, attachment: &str, thumb: bool) -> Res<bytes::Bytes> {
        let suffix = if thumb { "/thumb" } else { "" };
        let response = self
            .http
            .get(format!(
                "{}/api/v1/attachments/{attachment}{suffix}",
                self.base
            ))
            .bearer_auth(&user.token)
            .send()
            .await?;
        let status = response.status();
        if status != 200 {
            return Err(format!("download: HTTP {status}").into());
        }
        Ok(response.bytes().await?)
    }

    /// One page of the inbox, most recent first: up to 100 chats (the most a
    /// page holds), after `cursor` (the page before's `next_cursor`).
    pub async fn inbox_page(&self, user: &User, cursor: Option<&str>) -> Res<Inbox> {
        let mut url = format!("{}/api/v1/chats/{}?limit=100", self.base, user.id);
        if let Some(cursor) = cursor {
            url.push_str("&cursor=");
            url.push_str(cursor);
        }
        let response = self.http.get(url).bearer_auth(&user.token).send().await?;
        let status = response.status();
        if status != 200 {
            return Err(format!("inbox: HTTP {status}").into());
        }
        Ok(response.json().await?)
    }

    /// A server-rendered page as a signed-in browser asks for it (brotli
    /// accepted, like a browser, when `compressed`): the time until the
    /// response began (pages are rendered whole before the first byte is
    /// sent, so this is the time to render it), and the body as sent.
    pub async fn page(
        &self,
        user: &User,
        path: &str,
        compressed: bool,
    ) -> Res<(std::time::Duration, Vec<u8>)> {
        let started = std::time::Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("natter_session={}", user.token))
            .header("accept", "text/html")
            .header(
                "accept-encoding",
                if compressed { "br, gzip" } else { "identity" },
            )
            .send()
            .await?;
        let first_byte = started.elapsed();
        let status = response.status();
        if status != 200 {
            return Err(format!("page {path}: HTTP {status}").into());
        }
        Ok((first_byte, response.bytes().await?.to_vec()))
    }

    /// A WebSocket authenticated by the bearer token, from `source` (a
    /// loopback address of its own, so that thousands of connections do not
    /// run out of ephemeral ports) when given.
    pub async fn ws(&self, user: &User, source: Option<Ipv4Addr>) -> Res<Ws> {
        let socket = TcpSocket::new_v4()?;
        if let Some(ip) = source {
            socket.bind(SocketAddr::from((ip, 0)))?;
        }
        let stream = socket.connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{}/api/v1/ws", self.authority).into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {}", user.token).parse()?);
        // Frames here are small; tungstenite's default 128 KiB read buffer,
        // allocated up front, would make 10,000 idle sockets cost the
        // generator over a gigabyte.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        Ok(ws)
    }
}

/// A server frame, with the fields the benchmark looks at.
#[derive(Deserialize)]
pub struct Incoming {
    pub event: String,
    #[serde(default)]
    pub payload: Payload,
}

#[derive(Deserialize, Default)]
pub struct Payload {
    pub message_id: Option<String>,
    /// `action.ack` and an action's `error`: the action's id.
    pub action_id: Option<String>,
    /// The conversation's change number (the protocol's 2.20).
    pub change: Option<i64>,
    /// `error`: its sentence.
    pub message: Option<String>,
    pub user_id: Option<String>,
    pub content: Option<String>,
    pub code: Option<String>,
    /// `presence`: whether `user_id` is online now.
    pub online: Option<bool>,
    /// `presence`: when `user_id`'s last connection closed (ms), if offline.
    pub last_seen: Option<i64>,
    /// `presence.state`: everyone the connection follows.
    pub people: Option<Vec<Person>>,
}

/// One entry of a `presence.state` list.
#[derive(Deserialize)]
pub struct Person {
    pub user_id: String,
    pub online: bool,
}

/// The next text frame as JSON; `None` when the socket ends.
pub async fn next_frame<S>(stream: &mut S) -> Res<Option<Incoming>>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(message) = stream.next().await {
        match message? {
            Message::Text(text) => return Ok(Some(serde_json::from_str(&text)?)),
            Message::Close(frame) => {
                return Err(format!("the server closed the socket: {frame:?}").into());
            }
            _ => continue,
        }
    }
    Ok(None)
}

/// A `message.send` frame.
pub fn send_frame(conversation: &str, sender: &User, message_id: &str, content: &str) -> Message {
    let frame = json!({"event": "message.send", "payload": {
        "conversation_id": conversation, "sender_id": sender.id,
        "message_id": message_id, "content": content, "timestamp": now_ms()}});
    Message::Text(frame.to_string().into())
}

/// A `message.send` frame answering `reply_to`.
pub fn reply_frame(
    conversation: &str,
    sender: &User,
    message_id: &str,
    content: &str,
    reply_to: &str,
) -> Message {
    let frame = json!({"event": "message.send", "payload": {
        "conversation_id": conversation, "sender_id": sender.id,
        "message_id": message_id, "content": content, "timestamp": now_ms(),
        "reply_to": reply_to}});
    Message::Text(frame.to_string().into())
}

/// What a message action does, with its argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Act<'a> {
    Edit(&'a str),
    Delete,
    React(&'a str),
}

/// A `message.edit`, `message.delete` or `reaction.add` frame.
pub fn action_frame(action_id: &str, conversation: &str, message_id: &str, act: Act) -> Message {
    let mut payload = json!({"action_id": action_id, "conversation_id": conversation,
        "message_id": message_id});
    let event = match act {
        Act::Edit(content) => {
            payload["content"] = json!(content);
            "message.edit"
        }
        Act::Delete => "message.delete",
        Act::React(emoji) => {
            payload["emoji"] = json!(emoji);
            "reaction.add"
        }
    };
    let frame = json!({"event": event, "payload": payload});
    Message::Text(frame.to_string().into())
}

/// A fresh client-made action id (the form of a message id).
pub fn action_id() -> String {
    format!("act_{}", uuid::Uuid::now_v7().simple())
}

pub async fn send(sink: &mut WsSink, message: Message) -> Res<()> {
    sink.send(message).await?;
    Ok(())
}

pub use crate::support::message_id;
use crate::support::now_ms;
