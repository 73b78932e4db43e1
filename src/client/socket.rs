//! The page's one WebSocket, kept for the life of the page.
//!
//! Connects, and on every (re)connect sends the whole outbox again (same
//! message ids, so nothing doubles) and catches up on what it missed (a fresh
//! inbox, the open conversation's newest page merged in). Reconnects with
//! exponential backoff and jitter; waits for the browser to be online.

use super::{page_visible, sleep};
use crate::api::chat::{load_history, load_home};
use crate::components::state::{ChatState, Connection, Outgoing};
use crate::model::backoff::Backoff;
use crate::protocol::{ErrorCode, ServerEvent};
use futures::channel::mpsc;
use futures::future::poll_fn;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::task::Poll;

enum Control {
    Online,
    Offline,
    /// Send the outbox again (after a passing refusal).
    Resend,
}

/// The server closed the socket because this session ended.
const SIGNED_OUT: u16 = 4001;

/// Starts the connection for this page.
pub fn start(state: ChatState) {
    let (outgoing, queue) = mpsc::unbounded::<Outgoing>();
    state.set_transport(outgoing);
    let (control, controls) = mpsc::unbounded::<Control>();
    let online = control.clone();
    let offline = control.clone();
    // The listeners live as long as the page: their handles are dropped
    // without removing them.
    let _ = window_event_listener(ev::online, move |_| {
        let _ = online.unbounded_send(Control::Online);
    });
    let _ = window_event_listener(ev::offline, move |_| {
        let _ = offline.unbounded_send(Control::Offline);
    });
    let _ = window_event_listener(ev::visibilitychange, move |_| {
        if page_visible() {
            state.mark_open_read();
        }
    });
    spawn_local(run(state, queue, controls, control));
}

fn url() -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/api/v1/ws")
}

fn browser_online() -> bool {
    window().navigator().on_line()
}

enum Event {
    Out(Option<Outgoing>),
    In(Option<Result<Message, WebSocketError>>),
    Control(Option<Control>),
}

async fn run(
    state: ChatState,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    mut controls: mpsc::UnboundedReceiver<Control>,
    control: mpsc::UnboundedSender<Control>,
) {
    let mut backoff = Backoff::default();
    loop {
        if !browser_online() {
            state.connection.set(Connection::Offline);
            while let Some(c) = controls.next().await {
                if matches!(c, Control::Online) {
                    break;
                }
            }
        }
        match session(&state, &mut queue, &mut controls, &control, &mut backoff).await {
            Ended::PageGone => return,
            Ended::SignedOut => {
                state.connection.set(Connection::Offline);
                let _ = window().location().set_href("/login");
                return;
            }
            Ended::Offline => state.connection.set(Connection::Offline),
            Ended::Lost => {
                state.connection.set(Connection::Reconnecting);
                let delay = backoff.next_delay_ms(js_sys::Math::random());
                // Wait out the delay, unless the network comes back first.
                let wake = sleep(delay);
                futures::pin_mut!(wake);
                loop {
                    let next = futures::future::select(wake.as_mut(), controls.next()).await;
                    match next {
                        futures::future::Either::Left(_) => break,
                        futures::future::Either::Right((Some(Control::Online), _)) => break,
                        futures::future::Either::Right((None, _)) => return,
                        futures::future::Either::Right(_) => {}
                    }
                }
            }
        }
    }
}

enum Ended {
    Lost,
    Offline,
    SignedOut,
    PageGone,
}

async fn session(
    state: &ChatState,
    queue: &mut mpsc::UnboundedReceiver<Outgoing>,
    controls: &mut mpsc::UnboundedReceiver<Control>,
    control: &mpsc::UnboundedSender<Control>,
    backoff: &mut Backoff,
) -> Ended {
    let Ok(mut ws) = WebSocket::open(&url()) else {
        return Ended::Lost;
    };
    if poll_fn(|cx| ws.poll_ready_unpin(cx)).await.is_err() || !matches!(ws.state(), State::Open) {
        return Ended::Lost;
    }
    state.connection.set(Connection::Connected);
    backoff.reset();
    // Sends queued while disconnected are all in the outbox, sent below.
    while queue.try_recv().is_ok() {}
    state.reset_read_markers();
    state.resend_outbox();
    spawn_local(catch_up(*state));

    loop {
        let event = poll_fn(|cx| {
            if let Poll::Ready(c) = controls.poll_next_unpin(cx) {
                return Poll::Ready(Event::Control(c));
            }
            if let Poll::Ready(m) = ws.poll_next_unpin(cx) {
                return Poll::Ready(Event::In(m));
            }
            if let Poll::Ready(o) = queue.poll_next_unpin(cx) {
                return Poll::Ready(Event::Out(o));
            }
            Poll::Pending
        })
        .await;
        match event {
            Event::Out(Some(Outgoing::Frame(text))) => {
                if ws.send(Message::Text(text)).await.is_err() {
                    return Ended::Lost;
                }
            }
            Event::Out(None) | Event::Control(None) => return Ended::PageGone,
            Event::In(Some(Ok(Message::Text(text)))) => match ServerEvent::from_json(&text) {
                Ok(event) => handle(state, event, control),
                Err(e) => leptos::logging::warn!("unreadable frame from the server: {e}"),
            },
            Event::In(Some(Ok(Message::Bytes(_)))) => {}
            Event::In(Some(Err(WebSocketError::ConnectionClose(close))))
                if close.code == SIGNED_OUT =>
            {
                return Ended::SignedOut;
            }
            Event::In(Some(Err(_))) | Event::In(None) => return Ended::Lost,
            Event::Control(Some(Control::Offline)) => return Ended::Offline,
            Event::Control(Some(Control::Online)) => {}
            Event::Control(Some(Control::Resend)) => state.resend_outbox(),
        }
    }
}

fn handle(state: &ChatState, event: ServerEvent, control: &mpsc::UnboundedSender<Control>) {
    let transient = matches!(
        &event,
        ServerEvent::Error(e) if matches!(e.code, ErrorCode::Unavailable | ErrorCode::RateLimited)
    );
    if state.apply(event, page_visible()) {
        spawn_local(refresh_inbox(*state));
    }
    if transient {
        // The server could not take it just now: try the outbox again soon.
        let control = control.clone();
        spawn_local(async move {
            sleep(2_000 + (js_sys::Math::random() * 2_000.0) as u32).await;
            let _ = control.unbounded_send(Control::Resend);
        });
    }
}

async fn refresh_inbox(state: ChatState) {
    if let Ok(Some(home)) = load_home().await {
        state.caught_up(Some(home), None);
    }
}

/// What happened while this page was not connected.
async fn catch_up(state: ChatState) {
    let home = load_home().await.ok().flatten();
    let page = match state.open_id() {
        Some(open) => load_history(open.to_string(), None).await.ok(),
        None => None,
    };
    state.caught_up(home, page);
}
