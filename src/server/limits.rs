//! Budgets: how much of each thing one user (or one client address) may do,
//! so that nobody can wear the server out or crowd other people out of it.
//! Each is a token bucket (governor's GCRA): a steady rate and a burst,
//! set in `Leptos.toml`. Past a budget the answer is `rate_limited` (HTTP
//! 429, or a WebSocket `error` on a connection that stays open), in the
//! same words whichever way the request came.
//!
//! The buckets read time from [`Clock`], which tests can move forward, so
//! no test waits for a bucket to refill.

use super::config::Settings;
use crate::protocol::{ApiError, ErrorCode, UserId};
use governor::clock::Clock as _;
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};
use serde::Deserialize;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A budget as `Leptos.toml` writes it: `{ per-minute = 600, burst = 60 }`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Budget {
    /// How many per minute, sustained.
    pub per_minute: u32,
    /// How many at once after a quiet while.
    pub burst: u32,
}

impl Budget {
    fn quota(self) -> Quota {
        let rate = NonZeroU32::new(self.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(rate).allow_burst(burst)
    }
}

/// The buckets' time: monotonic, plus whatever a test moved it forward by.
#[derive(Clone, Debug)]
pub struct Clock {
    start: Instant,
    skew_ns: Arc<AtomicU64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            skew_ns: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Clock {
    /// Moves the buckets' time forward (tests: a minute passes at once).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.skew_ns.fetch_add(by, Ordering::Relaxed);
    }
}

impl governor::clock::Clock for Clock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let elapsed = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Nanos::from(elapsed.saturating_add(self.skew_ns.load(Ordering::Relaxed)))
    }
}

type Bucket<K> = RateLimiter<
    K,
    governor::state::keyed::DashMapStateStore<K>,
    Clock,
    governor::middleware::NoOpMiddleware<Nanos>,
>;

fn bucket<K: Hash + Eq + Clone>(quota: Quota, clock: &Clock) -> Bucket<K> {
    RateLimiter::dashmap_with_clock(quota, clock.clone())
}

/// What one user does that costs the server something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Send,
    ReadMarker,
    HistoryPage,
    InboxPage,
    PeopleSearch,
    MessageSearch,
    NewConversation,
    Connect,
    Typing,
    PresenceSubscribe,
    MessageAction,
    Upload,
}

impl Action {
    fn refusal(self) -> &'static str {
        match self {
            Self::Send => "too many messages; slow down and send this one again",
            Self::ReadMarker => "too many read markers; slow down",
            Self::HistoryPage => "too many history pages; wait a moment",
            Self::InboxPage => "too many inbox pages; wait a moment",
            Self::PeopleSearch => "too many searches; wait a moment",
            Self::MessageSearch => "too many message searches; wait a moment",
            Self::NewConversation => "too many new conversations; wait a while",
            Self::Connect => "too many connections opened; wait a moment",
            Self::Typing => "too many typing notices; slow down",
            Self::PresenceSubscribe => "too many presence subscriptions; slow down",
            Self::MessageAction => "too many edits and reactions; slow down",
            Self::Upload => "too many uploads; wait a moment",
        }
    }
}

/// Where a request came from, as budgets count it: an IPv4 address, or
/// an IPv6 /64 (one host usually holds a whole /64, so counting single
/// IPv6 addresses would be no limit at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAddr {
    V4([u8; 4]),
    V6Prefix([u8; 8]),
}

impl From<IpAddr> for ClientAddr {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => {
                    let octets = v6.octets();
                    let mut prefix = [0u8; 8];
                    prefix.copy_from_slice(&octets[..8]);
                    Self::V6Prefix(prefix)
                }
            },
        }
    }
}

/// The client's address as budgets count it: the peer's, or behind a
/// trusted proxy (`trust-proxy-headers`) the last address in
/// `X-Forwarded-For`: the hop the proxy itself added, which is the address
/// it saw (anything to its left the client may have written itself).
pub(crate) fn client_addr(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    trust_proxy: bool,
) -> Option<ClientAddr> {
    if trust_proxy
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
    {
        return Some(forwarded.into());
    }
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(addr)| addr.ip().into())
}

pub struct Limits {
    clock: Clock,
    sends: Bucket<UserId>,
    read_markers: Bucket<UserId>,
    history_pages: Bucket<UserId>,
    inbox_pages: Bucket<UserId>,
    people_searches: Bucket<UserId>,
    message_searches: Bucket<UserId>,
    new_conversations: Bucket<UserId>,
    connects: Bucket<UserId>,
    typing: Bucket<UserId>,
    presence: Bucket<UserId>,
    actions: Bucket<UserId>,
    uploads: Bucket<UserId>,
    auth_attempts: Bucket<ClientAddr>,
    unknown_tokens: Strikes<ClientAddr>,
    failed_logins: Strikes<String>,
}

/// A budget of failures: each failure spends from it, and a key whose
/// failures are over budget is refused outright until it refills (so a
/// guesser learns nothing more, and costs nothing more, meanwhile).
struct Strikes<K: Hash + Eq + Clone> {
    bucket: Bucket<K>,
    /// Keys refused until then.
    blocked: Mutex<HashMap<K, Nanos>>,
}

/// At most this many keys are remembered as blocked at once (expired ones
/// are dropped first).
const BLOCKED_CAPACITY: usize = 100_000;

impl<K: Hash + Eq + Clone> Strikes<K> {
    fn new(quota: Quota, clock: &Clock) -> Self {
        Self {
            bucket: bucket(quota, clock),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Nanos>> {
        self.blocked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long `key` is still refused for, if it is.
    fn refused(&self, key: &K, now: Nanos) -> Option<Duration> {
        self.lock()
            .get(key)
            .filter(|until| **until > now)
            .map(|until| Duration::from(*until).saturating_sub(Duration::from(now)))
    }

    /// A failure of `key`.
    fn strike(&self, key: &K, now: Nanos) {
        if let Err(not_until) = self.bucket.check_key(key) {
            let until = now + not_until.wait_time_from(now);
            let mut blocked = self.lock();
            if blocked.len() >= BLOCKED_CAPACITY {
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(key.clone(), until);
        }
    }

    fn forget_the_quiet(&self, now: Nanos) {
        self.bucket.retain_recent();
        self.lock().retain(|_, until| *until > now);
    }
}

impl Limits {
    pub(crate) fn new(settings: &Settings) -> Arc<Self> {
        let clock = Clock::default();
        let send_rate = NonZeroU32::new(settings.sends_per_second).unwrap_or(NonZeroU32::MIN);
        let send_burst = NonZeroU32::new(settings.send_burst).unwrap_or(send_rate);
        let auth = NonZeroU32::new(settings.auth_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        let limits = Arc::new(Self {
            sends: bucket(Quota::per_second(send_rate).allow_burst(send_burst), &clock),
            read_markers: bucket(settings.read_marker_budget.quota(), &clock),
            history_pages: bucket(settings.history_budget.quota(), &clock),
            inbox_pages: bucket(settings.inbox_budget.quota(), &clock),
            people_searches: bucket(settings.search_budget.quota(), &clock),
            message_searches: bucket(settings.message_search_budget.quota(), &clock),
            new_conversations: bucket(settings.new_conversation_budget.quota(), &clock),
            connects: bucket(settings.connect_budget.quota(), &clock),
            typing: bucket(settings.typing_budget.quota(), &clock),
            presence: bucket(settings.presence_budget.quota(), &clock),
            actions: bucket(settings.action_budget.quota(), &clock),
            uploads: bucket(settings.upload_budget.quota(), &clock),
            auth_attempts: bucket(Quota::per_minute(auth), &clock),
            unknown_tokens: Strikes::new(settings.unknown_token_budget.quota(), &clock),
            failed_logins: Strikes::new(settings.failed_login_budget.quota(), &clock),
            clock,
        });
        // Forget those who have been quiet, so the maps stay small.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else {
                    return;
                };
                limits.forget_the_quiet();
            }
        });
        limits
    }

    /// The buckets' clock (tests move it forward).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// May `user` do `action` now? `rate_limited` when over budget.
    pub(crate) fn check(&self, user: UserId, action: Action) -> Result<(), ApiError> {
        let bucket = match action {
            Action::Send => &self.sends,
            Action::ReadMarker => &self.read_markers,
            Action::HistoryPage => &self.history_pages,
            Action::InboxPage => &self.inbox_pages,
            Action::PeopleSearch => &self.people_searches,
            Action::MessageSearch => &self.message_searches,
            Action::NewConversation => &self.new_conversations,
            Action::Connect => &self.connects,
            Action::Typing => &self.typing,
            Action::PresenceSubscribe => &self.presence,
            Action::MessageAction => &self.actions,
            Action::Upload => &self.uploads,
        };
        bucket
            .check_key(&user)
            .map_err(|_| ApiError::new(ErrorCode::RateLimited, action.refusal()))
    }

    /// May a client at `addr` sign up or log in now? When not, how long
    /// until it may (for `Retry-After`).
    pub(crate) fn check_auth_attempt(&self, addr: ClientAddr) -> Result<(), Duration> {
        self.auth_attempts
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Whether requests with a bearer token from `addr` are refused for now
    /// (its unknown tokens are over budget): how long, if so. Asked before
    /// the token is looked up, so a guesser learns nothing meanwhile.
    pub(crate) fn tokens_refused(&self, addr: ClientAddr) -> Option<Duration> {
        self.unknown_tokens.refused(&addr, self.clock.now())
    }

    /// A bearer token from `addr` matched no session.
    pub(crate) fn unknown_token(&self, addr: ClientAddr) {
        self.unknown_tokens.strike(&addr, self.clock.now());
    }

    /// Whether `username` may be tried now: not while its failed log-ins
    /// are over budget (then no password is even hashed for it).
    pub(crate) fn may_try_login(&self, username: &str) -> bool {
        self.failed_logins
            .refused(&username.to_owned(), self.clock.now())
            .is_none()
    }

    /// A log-in to `username` failed.
    pub(crate) fn login_failed(&self, username: &str) {
        self.failed_logins
            .strike(&username.to_owned(), self.clock.now());
    }

    fn forget_the_quiet(&self) {
        self.sends.retain_recent();
        self.read_markers.retain_recent();
        self.history_pages.retain_recent();
        self.inbox_pages.retain_recent();
        self.people_searches.retain_recent();
        self.message_searches.retain_recent();
        self.new_conversations.retain_recent();
        self.connects.retain_recent();
        self.typing.retain_recent();
        self.presence.retain_recent();
        self.actions.retain_recent();
        self.auth_attempts.retain_recent();
        let now = self.clock.now();
        self.unknown_tokens.forget_the_quiet(now);
        self.failed_logins.forget_the_quiet(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::http::{Extensions, HeaderMap, HeaderValue};
    use std::net::SocketAddr;

    fn from_peer(peer: &str) -> Extensions {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        extensions
    }

    fn forwarded(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_static(v));
        }
        headers
    }

    fn ip(text: &str) -> ClientAddr {
        text.parse::<IpAddr>().unwrap().into()
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_added_counts_not_what_the_client_wrote() {
        let peer = from_peer("10.0.0.2:443");
        // The client wrote "6.6.6.6"; the proxy appended what it saw.
        let headers = forwarded(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(client_addr(&headers, &peer, true), Some(ip("203.0.113.9")));
        let split = forwarded(&["6.6.6.6", "203.0.113.9"]);
        assert_eq!(client_addr(&split, &peer, true), Some(ip("203.0.113.9")));
        // Not behind a proxy: the header is anyone's to write.
        assert_eq!(client_addr(&headers, &peer, false), Some(ip("10.0.0.2")));
        assert_eq!(
            client_addr(&HeaderMap::new(), &peer, true),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_bit_prefix() {
        assert_eq!(ip("2001:db8:1:2::1"), ip("2001:db8:1:2:ffff::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(
            ip("::ffff:192.0.2.1"),
            ip("192.0.2.1"),
            "mapped IPv4 is IPv4"
        );
        assert_ne!(ip("192.0.2.1"), ip("192.0.2.2"));
    }
}
