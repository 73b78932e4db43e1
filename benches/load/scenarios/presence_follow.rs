//! `presence`'s sockets: one per user, following its group-mates, with a
//! reader that reports every presence frame it hears; and the phases that
//! count what was due against what was heard.

use super::{GRACE, WAVES};
use crate::Res;
use crate::client::{self, Api, User, Ws, WsSink};
use crate::report::{Latency, histogram, record};
use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// Handshakes in flight at once.
const OPENING_AT_ONCE: usize = 64;
/// Source addresses 127.0.0.1 to 127.0.0.8 (as `idle`).
const SOURCES: u8 = 8;
/// How long doubled or stray frames are waited for after each phase.
const DRAIN: Duration = Duration::from_millis(500);
/// Problems described one by one at most (the rest are counted).
const DESCRIBED: usize = 20;

/// What a socket's reader reports.
pub(super) enum Heard {
    /// The answer to `user`'s subscription: each person listed (`None`:
    /// someone outside the scenario) and whether they are online.
    State {
        user: usize,
        people: Vec<(Option<usize>, bool)>,
    },
    Presence {
        follower: usize,
        subject: usize,
        online: bool,
        /// When the server saw the subject's last connection close (ms
        /// since the epoch), for an offline one.
        last_seen: Option<i64>,
        at: Instant,
        /// `at` on the wall clock (ms since the epoch).
        at_ms: i64,
    },
    /// An `error` frame, a frame that cannot be read, a socket lost.
    Problem { user: usize, what: String },
}

pub(super) struct Conn {
    sink: WsSink,
    reader: JoinHandle<()>,
    /// Set before the scenario closes it: its end is then no problem.
    closing: Arc<AtomicBool>,
}

/// The users, who follows whom, and where readers report.
pub(super) struct World {
    pub(super) api: Api,
    pub(super) users: Vec<User>,
    pub(super) index: Arc<HashMap<String, usize>>,
    pub(super) follows: Vec<Vec<usize>>,
    pub(super) followers: Vec<Vec<usize>>,
    pub(super) tx: UnboundedSender<Heard>,
}

pub(super) struct Tally {
    pub(super) all: Histogram<u64>,
    pub(super) online: Histogram<u64>,
    pub(super) offline: Histogram<u64>,
    /// Offline ones from the close as the server saw it (its `last_seen`)
    /// plus the grace, on the wall clock (in whole milliseconds).
    pub(super) after_server_close: Histogram<u64>,
    pub(super) expected: u64,
    pub(super) delivered: u64,
    pub(super) doubled: u64,
    pub(super) unexpected: u64,
    pub(super) echoed: u64,
    /// Frames among the users reconnecting together, which depend on who
    /// subscribed first: not counted.
    pub(super) uncounted: u64,
    pub(super) problems: Vec<String>,
    pub(super) more_problems: u64,
}

impl Tally {
    pub(super) fn new() -> Self {
        Self {
            all: histogram(),
            online: histogram(),
            offline: histogram(),
            after_server_close: histogram(),
            expected: 0,
            delivered: 0,
            doubled: 0,
            unexpected: 0,
            echoed: 0,
            uncounted: 0,
            problems: Vec::new(),
            more_problems: 0,
        }
    }

    pub(super) fn problem(&mut self, what: String) {
        if self.problems.len() < DESCRIBED {
            self.problems.push(what);
        } else {
            self.more_problems += 1;
        }
    }
}

/// What a phase's followers heard: how many changes, how soon, and from
/// the first to the last over how long.
pub(super) struct PhaseHeard {
    pub(super) count: u64,
    pub(super) latency: Option<Latency>,
    pub(super) over: Duration,
}

/// One phase: everyone connecting (no change timed), a wave going offline,
/// or the same wave coming back.
pub(super) struct Phase<'w> {
    world: &'w World,
    /// The wave (its users' index modulo [`WAVES`]) and whether its users
    /// came online; `None` while everyone first connects.
    change: Option<(usize, bool)>,
    /// Per user whose state changed: the moment its change is timed from.
    from: Vec<Option<Instant>>,
    /// Each (follower, subject) due, and whether it was heard.
    due: HashMap<(usize, usize), bool>,
    remaining: usize,
    states_due: usize,
    timed: Histogram<u64>,
    /// The first and the last delivery counted.
    span: Option<(Instant, Instant)>,
}

impl<'w> Phase<'w> {
    /// Due: every follower that stays connected hears each change.
    pub(super) fn new(
        world: &'w World,
        change: Option<(usize, bool)>,
        from: Vec<Option<Instant>>,
        states_due: usize,
    ) -> Self {
        let mut due = HashMap::new();
        if let Some((wave, _)) = change {
            for (subject, at) in from.iter().enumerate() {
                if at.is_some() {
                    for &f in &world.followers[subject] {
                        if f % WAVES != wave {
                            due.insert((f, subject), false);
                        }
                    }
                }
            }
        }
        Self {
            world,
            change,
            from,
            remaining: due.len(),
            due,
            states_due,
            timed: histogram(),
            span: None,
        }
    }

    /// Until everything due is heard (or `deadline`), then [`DRAIN`] more
    /// for anything doubled: how many were heard, and how soon.
    pub(super) async fn run(
        &mut self,
        heard: &mut UnboundedReceiver<Heard>,
        deadline: Instant,
        tally: &mut Tally,
    ) -> PhaseHeard {
        tally.expected += self.remaining as u64;
        while self.remaining > 0 || self.states_due > 0 {
            match tokio::time::timeout_at(deadline.into(), heard.recv()).await {
                Ok(Some(h)) => self.take(h, tally),
                _ => break,
            }
        }
        while let Ok(Some(h)) = tokio::time::timeout(DRAIN, heard.recv()).await {
            self.take(h, tally);
        }
        if self.states_due > 0 {
            tally.problem(format!("{} subscriptions not answered", self.states_due));
        }
        let _ = tally.all.add(&self.timed);
        PhaseHeard {
            count: self.timed.len(),
            latency: Latency::of(&self.timed),
            over: self.span.map_or(Duration::ZERO, |(a, b)| b - a),
        }
    }

    pub(super) fn take(&mut self, heard: Heard, tally: &mut Tally) {
        let (follower, subject, online, at) = match heard {
            Heard::Problem { user, what } => return tally.problem(format!("user {user}: {what}")),
            Heard::State { user, people } => return self.state(user, &people, tally),
            Heard::Presence {
                follower,
                subject,
                online,
                last_seen,
                at,
                at_ms,
            } => {
                if online == last_seen.is_some() {
                    tally.problem(format!(
                        "user {subject}: online {online} with last_seen {last_seen:?}"
                    ));
                }
                // Offline: also timed from when the server saw the close.
                if let Some(closed) = last_seen
                    && !online
                    && self.due.get(&(follower, subject)) == Some(&false)
                {
                    let after = at_ms - closed - GRACE.as_millis() as i64;
                    record(
                        &mut tally.after_server_close,
                        Duration::from_millis(after.max(0) as u64),
                    );
                }
                (follower, subject, online, at)
            }
        };
        if follower == subject {
            tally.echoed += 1;
            return;
        }
        // Everyone connecting: comings online, not timed.
        let Some((wave, change)) = self.change else {
            return;
        };
        match self.due.get_mut(&(follower, subject)) {
            Some(seen) if online == change => {
                if *seen {
                    tally.doubled += 1;
                    return;
                }
                *seen = true;
                self.remaining -= 1;
                tally.delivered += 1;
                let from = self.from[subject].expect("a subject's change is timed");
                let took = at.saturating_duration_since(from);
                record(&mut self.timed, took);
                self.span = Some(self.span.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
                record(
                    if online {
                        &mut tally.online
                    } else {
                        &mut tally.offline
                    },
                    took,
                );
            }
            None if change && follower % WAVES == wave && subject % WAVES == wave => {
                tally.uncounted += 1;
            }
            _ => tally.unexpected += 1,
        }
    }

    /// A `presence.state`: lists exactly whom `user` asked for, and, once
    /// a wave comes back, shows those who stayed connected online.
    fn state(&mut self, user: usize, people: &[(Option<usize>, bool)], tally: &mut Tally) {
        self.states_due = self.states_due.saturating_sub(1);
        let listed: Vec<usize> = people.iter().filter_map(|(p, _)| *p).collect();
        if listed.len() != people.len() || listed != self.world.follows[user] {
            tally.problem(format!(
                "user {user}'s presence.state listed {} people, not the {} it follows",
                people.len(),
                self.world.follows[user].len()
            ));
        }
        if let Some((wave, true)) = self.change {
            let wrong = people
                .iter()
                .filter(|(p, online)| p.is_some_and(|p| p % WAVES != wave) && !online)
                .count();
            if wrong > 0 {
                tally.problem(format!(
                    "user {user}'s presence.state showed {wrong} connected people offline"
                ));
            }
        }
    }
}

/// Opens a socket for each of `who` that follows the user's group-mates:
/// each with the moment just before it began.
/// Connects `who`, as fast as the server answers (`pace` zero) or one
/// every `pace`; each with the moment its connecting began.
pub(super) async fn open(
    world: &World,
    who: Vec<usize>,
    pace: Duration,
) -> Vec<(usize, Instant, Res<Conn>)> {
    let start = tokio::time::Instant::now();
    futures::stream::iter(who.into_iter().enumerate())
        .map(|(k, user)| async move {
            if !pace.is_zero() {
                tokio::time::sleep_until(start + pace * k as u32).await;
            }
            let at = Instant::now();
            (user, at, connect(world, user).await)
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await
}

async fn connect(world: &World, user: usize) -> Res<Conn> {
    let source = Ipv4Addr::new(127, 0, 0, 1 + (user % SOURCES as usize) as u8);
    let ws = world.api.ws(&world.users[user], Some(source)).await?;
    let (mut sink, stream) = ws.split();
    let closing = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(read(
        user,
        stream,
        world.index.clone(),
        world.tx.clone(),
        closing.clone(),
    ));
    let ids: Vec<&str> = world.follows[user]
        .iter()
        .map(|&f| world.users[f].id.as_str())
        .collect();
    let frame = serde_json::json!({"event": "presence.subscribe", "payload": {"user_ids": ids}});
    client::send(&mut sink, Message::Text(frame.to_string().into())).await?;
    Ok(Conn {
        sink,
        reader,
        closing,
    })
}

/// A WebSocket close: when it began.
impl Conn {
    /// Stops reading it (the socket closes when this is dropped).
    pub(super) fn abandon(self) {
        self.closing.store(true, Ordering::Relaxed);
        self.reader.abort();
    }
}

pub(super) async fn close(mut conn: Conn) -> Instant {
    conn.closing.store(true, Ordering::Relaxed);
    let at = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(1), conn.sink.close()).await;
    conn.reader.abort();
    at
}

/// Reports what `user`'s socket hears of presence.
async fn read(
    user: usize,
    mut stream: SplitStream<Ws>,
    index: Arc<HashMap<String, usize>>,
    tx: UnboundedSender<Heard>,
    closing: Arc<AtomicBool>,
) {
    loop {
        let frame = match client::next_frame(&mut stream).await {
            Ok(Some(frame)) => frame,
            ended => {
                if !closing.load(Ordering::Relaxed) {
                    let what = match ended {
                        Err(e) => format!("socket lost: {e}"),
                        _ => "socket ended".into(),
                    };
                    let _ = tx.send(Heard::Problem { user, what });
                }
                return;
            }
        };
        let at = Instant::now();
        let p = frame.payload;
        let heard = match frame.event.as_str() {
            "presence" => match (p.user_id.as_ref().and_then(|u| index.get(u)), p.online) {
                (Some(&subject), Some(online)) => Heard::Presence {
                    follower: user,
                    subject,
                    online,
                    last_seen: p.last_seen,
                    at,
                    at_ms: crate::support::now_ms(),
                },
                _ => Heard::Problem {
                    user,
                    what: format!("presence of {:?}, online {:?}", p.user_id, p.online),
                },
            },
            "presence.state" => Heard::State {
                user,
                people: p
                    .people
                    .unwrap_or_default()
                    .into_iter()
                    .map(|person| (index.get(&person.user_id).copied(), person.online))
                    .collect(),
            },
            "error" => Heard::Problem {
                user,
                what: format!("error {}", p.code.unwrap_or_default()),
            },
            _ => continue,
        };
        if tx.send(heard).is_err() {
            return;
        }
    }
}
