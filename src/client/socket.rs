//! The page's one WebSocket, kept for the life of the page: connects,
//! reconnects with exponential backoff and jitter when it drops, waits for
//! the browser to be online, writes the frames it is given and reports
//! everything that happens to the page's [`Events`]. It knows nothing of the
//! chat: the page decides what a connection, a frame or a tick means.

use super::{page_visible, sleep};
use crate::model::backoff::Backoff;
use crate::protocol::{Incoming, News, ServerEvent};
use futures::channel::mpsc;
use futures::future::poll_fn;
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::task::Poll;

/// What the socket reports to the page.
pub(crate) trait Events: 'static {
    /// A connection is open (the first, or a new one after a drop).
    fn connected(&self);
    /// The connection dropped: `offline` when the browser says there is no
    /// network (it waits for one), else it is trying again.
    fn disconnected(&self, offline: bool);
    /// A frame from the server.
    fn frame(&self, event: ServerEvent);
    /// The news of an action (an edit, a deletion, a reaction, an ack),
    /// whole: the open conversation reads it.
    fn action(&self, text: String, news: News);
    /// The server closed the connection because this session ended.
    fn signed_out(&self);
    /// Every [`TICK_MS`] while connected: a chance to send what fell due.
    fn tick(&self);
    /// The page was shown again (a background tab brought forward).
    fn shown(&self);
}

/// How often [`Events::tick`] runs.
pub(crate) const TICK_MS: u32 = 250;

/// The server closed the socket because this session ended.
const SIGNED_OUT: u16 = 4001;

enum Control {
    Online,
    Offline,
}

/// Starts the connection for this page; frames sent into the returned
/// channel go out on the live connection (those sent while it is down are
/// dropped: the page sends again what matters when it reconnects).
pub(crate) fn start(events: impl Events) -> mpsc::UnboundedSender<String> {
    let (outgoing, queue) = mpsc::unbounded::<String>();
    let (control, controls) = mpsc::unbounded::<Control>();
    let online = control.clone();
    let offline = control;
    let events = std::rc::Rc::new(events);
    // The listeners live as long as the page: their handles are dropped
    // without removing them.
    let _ = window_event_listener(ev::online, move |_| {
        let _ = online.unbounded_send(Control::Online);
    });
    let _ = window_event_listener(ev::offline, move |_| {
        let _ = offline.unbounded_send(Control::Offline);
    });
    let shown = events.clone();
    let _ = window_event_listener(ev::visibilitychange, move |_| {
        if page_visible() {
            shown.shown();
        }
    });
    spawn_local(run(events, queue, controls));
    outgoing
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
    Out(Option<String>),
    In(Option<Result<Message, WebSocketError>>),
    Control(Option<Control>),
    Tick,
}

enum Ended {
    Lost,
    Offline,
    SignedOut,
    PageGone,
}

async fn run<E: Events>(
    events: std::rc::Rc<E>,
    mut queue: mpsc::UnboundedReceiver<String>,
    mut controls: mpsc::UnboundedReceiver<Control>,
) {
    let mut backoff = Backoff::default();
    loop {
        if !browser_online() {
            events.disconnected(true);
            while let Some(c) = controls.next().await {
                if matches!(c, Control::Online) {
                    break;
                }
            }
        }
        match session(&*events, &mut queue, &mut controls, &mut backoff).await {
            Ended::PageGone => return,
            Ended::SignedOut => {
                events.signed_out();
                return;
            }
            Ended::Offline => events.disconnected(true),
            Ended::Lost => {
                events.disconnected(false);
                let delay = backoff.next_delay_ms(js_sys::Math::random());
                // Wait out the delay, unless the network comes back first.
                let mut wake = sleep(delay).boxed_local();
                let woken = poll_fn(|cx| {
                    while let Poll::Ready(control) = controls.poll_next_unpin(cx) {
                        match control {
                            Some(Control::Online) => return Poll::Ready(true),
                            Some(Control::Offline) => {}
                            None => return Poll::Ready(false),
                        }
                    }
                    wake.poll_unpin(cx).map(|()| true)
                })
                .await;
                if !woken {
                    return;
                }
            }
        }
    }
}

async fn session<E: Events>(
    events: &E,
    queue: &mut mpsc::UnboundedReceiver<String>,
    controls: &mut mpsc::UnboundedReceiver<Control>,
    backoff: &mut Backoff,
) -> Ended {
    let Ok(mut ws) = WebSocket::open(&url()) else {
        return Ended::Lost;
    };
    if poll_fn(|cx| ws.poll_ready_unpin(cx)).await.is_err() || !matches!(ws.state(), State::Open) {
        return Ended::Lost;
    }
    backoff.reset();
    // Frames queued while disconnected are stale: the page resends what
    // matters now.
    while queue.try_recv().is_ok() {}
    events.connected();
    let mut tick = sleep(TICK_MS).boxed_local();
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
            if tick.poll_unpin(cx).is_ready() {
                return Poll::Ready(Event::Tick);
            }
            Poll::Pending
        })
        .await;
        match event {
            Event::Out(Some(text)) => {
                if ws.send(Message::Text(text)).await.is_err() {
                    return Ended::Lost;
                }
            }
            Event::Out(None) | Event::Control(None) => return Ended::PageGone,
            Event::In(Some(Ok(Message::Text(text)))) => match ServerEvent::read(&text) {
                Ok(Incoming::Event(event)) => events.frame(event),
                Ok(Incoming::Action(news)) => events.action(text, news),
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
            Event::Tick => {
                tick = sleep(TICK_MS).boxed_local();
                events.tick();
            }
        }
    }
}
