//! One WebSocket connection: a reader loop (this task) and a writer task fed
//! by a bounded queue.
//!
//! The reader decodes each frame, answers a bad one with an `error` and goes
//! on (a bad frame never closes a healthy connection, and never stores
//! anything), and hands each action to the chat service
//! ([`crate::server::chat::service`]), answering its refusals. The writer
//! drains the queue into the socket, batching whatever is queued into one
//! flush, pings on a timer, and closes the socket with a reason when the
//! connection is kicked.
//!
//! A server restart (shutdown) closes more carefully, so that no send the
//! client made before it learns of the restart goes unanswered: the writer
//! sends a ping marked [`DRAIN_PING`], and the reader goes on reading and
//! answering (sends are refused `unavailable` by then: the committer has
//! stopped) until that ping's pong comes back. A client answers pings in
//! order, so by then every frame it sent before the ping has been read and
//! answered. Only then does the close frame (1012) go out, and the reader
//! waits for the client's own close frame before the socket is dropped, so
//! that it is never closed with frames unread (which would reset it, and
//! could lose the close frame on the way).

use crate::protocol::{
    ApiError, ClientEvent, ConversationId, ErrorCode, MessageId, ServerEvent, decode_client_frame,
};
use crate::server::auth::CurrentUser;
use crate::server::chat::ChatCore;
use crate::server::chat::committer::ReplyTo;
use crate::server::chat::hub::{ConnectionHandle, Frame, Kick};
use crate::server::db::actions::Change;
use crate::server::db::markers::Marker;
use crate::server::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Connections one user may hold open at once (tabs, devices); past it the
/// oldest is closed.
pub(crate) const MAX_CONNECTIONS_PER_USER: usize = 32;

/// How long a closing connection's writer may take to flush its last frames
/// and the close frame before the socket is dropped without them.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The payload of the ping that marks the end of a restarting connection's
/// frames: its pong comes after everything the client sent before it.
const DRAIN_PING: &[u8] = b"natter:restart";
/// How long a restarting connection waits for that pong (a client that does
/// not answer pings is closed without it).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// A connection in the hub from before its upgrade is answered: a client
/// counts as connected (and catches up) once it has the answer, so a
/// message stored after that must find the connection registered. Frames
/// wait in its queue until the socket is served. Dropped (served, or the
/// upgrade failed), it leaves the hub.
pub(crate) struct Registered {
    handle: ConnectionHandle,
    queue: Option<mpsc::Receiver<Frame>>,
    chat: Arc<ChatCore>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.chat.disconnect(&self.handle);
        self.handle.kick(Kick::Closed);
    }
}

pub(crate) fn register(user: &CurrentUser, state: &AppState) -> Registered {
    let (outbound, queue) = mpsc::channel(state.settings.outbound_queue.max(1));
    let handle = ConnectionHandle::new(user.id, user.token_hash, outbound);
    let chat = state.chat.clone();
    chat.connect(handle.clone(), MAX_CONNECTIONS_PER_USER);
    Registered {
        handle,
        queue: Some(queue),
        chat,
    }
}

pub(crate) async fn serve(
    socket: WebSocket,
    user: CurrentUser,
    state: AppState,
    mut registered: Registered,
) {
    let (sink, stream) = socket.split();
    let handle = registered.handle.clone();
    let Some(queue) = registered.queue.take() else {
        return;
    };

    let ping = Duration::from_secs(state.settings.ping_interval_secs.max(1));
    // The reader tells the writer when a restarting connection has been
    // drained (or, by dropping it, that it stopped reading).
    let (drained, drained_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(sink, queue, handle.clone(), ping, drained_rx));
    let client = Client {
        user: &user,
        handle: &handle,
        state: &state,
    };
    read_loop(stream, &client, ping * 3, drained).await;

    drop(registered);
    // The writer sends what is queued and the close frame, but a peer that
    // stopped reading leaves it blocked on a full socket for good: past a
    // short grace it is dropped, and the socket (both halves gone) with it.
    let mut writer = writer;
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Who the reader reads for: the signed-in user, their connection, and the
/// server.
struct Client<'a> {
    user: &'a CurrentUser,
    handle: &'a ConnectionHandle,
    state: &'a AppState,
}

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    client: &Client<'_>,
    idle_limit: Duration,
    drained: oneshot::Sender<()>,
) {
    loop {
        let next = tokio::select! {
            biased;
            reason = client.handle.kicked() => {
                if reason == Kick::Restart {
                    drain(&mut stream, client, drained).await;
                }
                return;
            }
            next = tokio::time::timeout(idle_limit, stream.next()) => next,
        };
        let message = match next {
            // Silent for three ping intervals: the peer is gone.
            Err(_elapsed) => return,
            Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(message))) => message,
        };
        if !handle_message(message, client).await {
            return;
        }
    }
}

/// Acts on one frame; false when the client closed the connection.
async fn handle_message(message: Message, client: &Client<'_>) -> bool {
    match message {
        Message::Text(text) => handle_frame(&text, client).await,
        Message::Binary(_) => refuse(
            client,
            ApiError::new(
                ErrorCode::InvalidJson,
                "frames are JSON text; binary frames are not understood",
            ),
        ),
        Message::Close(_) => return false,
        Message::Ping(_) | Message::Pong(_) => {}
    }
    true
}

/// A restarting connection: reads and answers until the pong of the
/// writer's [`DRAIN_PING`], lets the writer send the close frame, then
/// waits for the client's close frame (discarding what comes before it: it
/// was sent after the client had every answer, and is never stored).
async fn drain(
    stream: &mut SplitStream<WebSocket>,
    client: &Client<'_>,
    drained: oneshot::Sender<()>,
) {
    let answered = tokio::time::timeout(DRAIN_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Pong(payload) if payload.as_ref() == DRAIN_PING => return true,
                message => {
                    if !handle_message(message, client).await {
                        return false;
                    }
                }
            }
        }
        false
    })
    .await;
    let _ = drained.send(());
    if answered != Ok(true) {
        // The client closed, broke or did not answer: nothing more to read.
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                return;
            }
        }
    })
    .await;
}

/// Decodes one frame and hands the action to the chat service; whatever it
/// refuses is answered on this connection (an accepted send is answered by
/// the writer, after its commit).
async fn handle_frame(text: &str, client: &Client<'_>) {
    let chat = &client.state.chat;
    let refused = match decode_client_frame(text) {
        Ok(ClientEvent::Send(message)) => chat
            .send(
                client.user,
                message,
                ReplyTo::Connection(client.handle.clone()),
            )
            .await
            .err(),
        Ok(ClientEvent::Read(read)) => chat
            .mark(client.user, Marker::Read, read, Some(client.handle.id()))
            .await
            .err(),
        Ok(ClientEvent::Delivered(delivered)) => chat
            .mark(
                client.user,
                Marker::Delivered,
                delivered,
                Some(client.handle.id()),
            )
            .await
            .err(),
        Ok(ClientEvent::Typing(notice)) => chat.typing(client.user, notice, true).await.err(),
        Ok(ClientEvent::TypingStop(notice)) => chat.typing(client.user, notice, false).await.err(),
        Ok(ClientEvent::PresenceSubscribe(subscription)) => chat
            .follow_presence(client.user, client.handle, subscription)
            .await
            .err(),
        Ok(ClientEvent::Edit(edit)) => {
            let change = Change::Edit(edit.content);
            act(
                client,
                edit.action_id,
                edit.conversation_id,
                edit.message_id,
                change,
            )
            .await
        }
        Ok(ClientEvent::Delete(delete)) => {
            let (action, conversation) = (delete.action_id, delete.conversation_id);
            act(
                client,
                action,
                conversation,
                delete.message_id,
                Change::Delete,
            )
            .await
        }
        Ok(ClientEvent::React(r)) => {
            let change = Change::React(r.emoji);
            act(client, r.action_id, r.conversation_id, r.message_id, change).await
        }
        Ok(ClientEvent::Unreact(r)) => {
            let change = Change::Unreact(r.emoji);
            act(client, r.action_id, r.conversation_id, r.message_id, change).await
        }
        Err(error) => Some(error),
    };
    if let Some(error) = refused {
        refuse(client, error);
    }
}

/// An edit, a deletion or a reaction; the service acks it.
async fn act(
    client: &Client<'_>,
    action: MessageId,
    conversation: ConversationId,
    message: MessageId,
    change: Change,
) -> Option<ApiError> {
    let chat = &client.state.chat;
    chat.act(
        client.user,
        action,
        conversation,
        message,
        change,
        Some(client.handle),
    )
    .await
    .err()
}

fn refuse(client: &Client<'_>, error: ApiError) {
    client
        .handle
        .send(Frame::from(ServerEvent::Error(error).to_json()));
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Frame>,
    handle: ConnectionHandle,
    ping_every: Duration,
    mut drained: oneshot::Receiver<()>,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut draining = false;
    loop {
        tokio::select! {
            biased;
            reason = handle.kicked(), if !draining => {
                // Whatever is queued (acks, errors) still goes out first.
                while let Ok(frame) = queue.try_recv() {
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                if reason == Kick::Closed {
                    let _ = sink.flush().await;
                    return;
                }
                if reason == Kick::Restart {
                    // Keep writing the reader's answers until the client
                    // has shown it sent nothing more before this ping.
                    if sink.send(Message::Ping(DRAIN_PING.into())).await.is_err() {
                        return;
                    }
                    draining = true;
                    continue;
                }
                close(&mut sink, reason).await;
                return;
            }
            _ = &mut drained, if draining => {
                while let Ok(frame) = queue.try_recv() {
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                close(&mut sink, Kick::Restart).await;
                return;
            }
            frame = queue.recv() => {
                let Some(frame) = frame else { return };
                if sink.feed(Message::Text(frame)).await.is_err() {
                    return;
                }
                while let Ok(frame) = queue.try_recv() {
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, reason: Kick) {
    let (code, text) = reason.close_code();
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: text.into(),
        })))
        .await;
}
