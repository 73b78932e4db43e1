//! `Leptos.toml`, read at start-up: the Leptos site options (`[leptos]`, the
//! same keys cargo-leptos uses) and natter's own settings (`[natter]`).
//!
//! Every key can be overridden by the environment: `LEPTOS_SITE_ADDR` for
//! `[leptos] site-addr` (cargo-leptos sets these when it runs the server),
//! `NATTER_DATA_DIR` for `[natter] data-dir`, and `DATABASE_URL` for
//! `[natter] database-url`. Values from the environment are read as TOML
//! values when they parse as one (`16`, `true`, `["a", "b"]`) and as plain
//! strings otherwise.

use super::limits::Budget;
use leptos::config::LeptosOptions;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// natter's own settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// An external PostgreSQL; empty means natter's private cluster under
    /// `data-dir`.
    #[serde(default)]
    pub(crate) database_url: String,
    /// Where the private cluster lives (relative to the working directory).
    pub(crate) data_dir: PathBuf,
    /// Connections in the pool that serves reads and account operations.
    pub db_pool_size: u32,
    /// How long a session lasts without being used.
    pub(crate) session_days: u32,
    /// How long a session lasts at most, however much it is used.
    pub(crate) session_max_days: u32,
    /// Seconds between each node's checks that its WebSockets' sessions
    /// are still live (and deletions of ended sessions).
    pub(crate) session_check_secs: u64,
    /// Messages written per transaction at most by the group-commit writer.
    pub(crate) send_batch_max: usize,
    /// Batches the group-commit writer commits at once at most, each on a
    /// connection of its own…
    pub(crate) send_batches_in_flight: usize,
    /// …another starting only once the oldest has taken this long (ms).
    pub(crate) send_overlap_after_ms: u64,
    /// How long after a commit its messages are indexed for search at the
    /// latest, in milliseconds (a search asks for them at once).
    pub(crate) search_index_lag_ms: u64,
    /// Frames queued for one connection before it counts as too slow and is
    /// disconnected (it catches up from history when it reconnects).
    pub(crate) outbound_queue: usize,
    /// Seconds between pings to an idle WebSocket; a connection silent for
    /// three intervals is dropped.
    pub(crate) ping_interval_secs: u64,
    /// Origins besides the server's own that may open a WebSocket or post a
    /// cookie-authenticated form (e.g. `https://chat.example.com`).
    #[serde(default)]
    pub(crate) allowed_origins: Vec<String>,
    /// Sign-up and log-in attempts one address may make per minute.
    pub(crate) auth_attempts_per_minute: u32,
    /// Take the client's address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    #[serde(default)]
    pub(crate) trust_proxy_headers: bool,
    /// The largest request body accepted, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Seconds a request's header may take to arrive, and a keep-alive
    /// connection may sit idle.
    pub(crate) header_read_timeout_secs: u64,
    /// Seconds a request's body may take to arrive.
    pub(crate) request_body_timeout_secs: u64,
    /// Connections one client address may hold at once (0: no cap; not
    /// applied with `trust-proxy-headers`).
    pub(crate) max_connections_per_address: usize,
    /// Messages one user may send per second, sustained…
    pub(crate) sends_per_second: u32,
    /// …and in a burst.
    pub(crate) send_burst: u32,
    /// Tell other natter nodes on the same database about new messages
    /// (PostgreSQL NOTIFY wake-ups), and listen for theirs.
    pub(crate) peer_fanout: bool,
    /// Password hashes (sign-ups, log-ins) run at once at most; 0 means one
    /// fewer than the machine's cores (at least one).
    pub(crate) password_hash_workers: usize,
    /// Password hashes waiting for their turn at most (past it:
    /// `rate_limited`).
    pub(crate) password_hash_queue: usize,
    /// How long one waits for its turn at most (then `unavailable`).
    pub(crate) password_hash_wait_ms: u64,
    /// Members of one group at most, its creator included.
    pub(crate) max_group_size: usize,
    /// Per user: read markers.
    pub(crate) read_marker_budget: Budget,
    /// Per user: history pages.
    pub(crate) history_budget: Budget,
    /// Per user: inbox pages (a page load counts one).
    pub(crate) inbox_budget: Budget,
    /// Per user: people searches.
    pub(crate) search_budget: Budget,
    /// Per user: message searches (each reads an index over every
    /// message of the user's conversations).
    pub(crate) message_search_budget: Budget,
    /// Per user: conversations started (or found again).
    pub(crate) new_conversation_budget: Budget,
    /// Per user: WebSockets opened.
    pub(crate) connect_budget: Budget,
    /// Per user: `typing` and `typing.stop` frames.
    pub(crate) typing_budget: Budget,
    /// Per user: `presence.subscribe` frames.
    pub(crate) presence_budget: Budget,
    /// Per user: edits, deletions, reactions added and taken away.
    pub(crate) action_budget: Budget,
    /// How long a user whose last connection closed still counts as online
    /// (a reload does not flicker), in milliseconds.
    pub(crate) presence_grace_ms: u64,
    /// Per client address: requests whose bearer token matches no session.
    pub(crate) unknown_token_budget: Budget,
    /// Per account: failed log-ins; past it the account's log-ins are
    /// refused until the budget refills.
    pub(crate) failed_login_budget: Budget,
    /// Where attachments' bytes are: empty for `<data-dir>/attachments`, or
    /// an object store URL (`s3://bucket/prefix`, `file:///path`).
    #[serde(default)]
    pub(crate) attachments_store: String,
    /// The largest file one may upload, in bytes.
    pub(crate) max_attachment_bytes: u64,
    /// Per user: uploads.
    pub(crate) upload_budget: Budget,
    /// Per user: bytes uploaded over any 24 hours.
    pub(crate) upload_daily_bytes: u64,
    /// Pixels of an image decoded for its thumbnail, at most.
    pub(crate) max_image_pixels: u64,
    /// Seconds an upload may wait to be sent before it is deleted.
    pub(crate) unsent_upload_secs: u64,
    /// The store's settings from the environment (`AWS_*`, lower-cased).
    #[serde(skip)]
    pub(crate) store_options: Vec<(String, String)>,
}

impl Settings {
    /// How long sessions last.
    pub(crate) fn session_lifetime(&self) -> crate::server::db::sessions::Lifetime {
        let days = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
        crate::server::db::sessions::Lifetime {
            days: days(self.session_days),
            max_days: days(self.session_max_days),
        }
    }

    /// The external database, if one is configured.
    pub(crate) fn external_database(&self) -> Option<&str> {
        let url = self.database_url.trim();
        (!url.is_empty()).then_some(url)
    }
}

/// Everything read from `Leptos.toml` and the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub natter: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: [{table}] {source}")]
    Table {
        path: PathBuf,
        table: &'static str,
        source: Box<toml::de::Error>,
    },
}

/// The configuration file: `NATTER_CONFIG` if set, else `Leptos.toml` in the
/// working directory.
pub fn default_path() -> PathBuf {
    std::env::var_os("NATTER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("Leptos.toml"))
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(path, &text, std::env::vars())
    }

    /// Parses `text` and layers `env` over it (split out so tests can pass
    /// their own environment).
    pub fn from_toml(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut file: toml::Table = text.parse().map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        let mut leptos = take_table(&mut file, "leptos");
        let mut natter = take_table(&mut file, "natter");
        let settings = field_names::<Settings>();
        let mut store_options = Vec::new();
        for (key, value) in env {
            if let Some(name) = key.strip_prefix("LEPTOS_") {
                leptos.insert(kebab(name), env_value(&value));
            } else if let Some(name) = key.strip_prefix("NATTER_") {
                // Only natter's own settings: other NATTER_* variables (a
                // test runner's, a deployment's) are none of its business.
                let name = kebab(name);
                if settings.contains(&name.as_str()) {
                    natter.insert(name, env_value(&value));
                } else if name != "config" {
                    tracing::debug!(variable = %key, "not a natter setting; ignored");
                }
            } else if key == "DATABASE_URL" {
                natter.insert("database-url".into(), toml::Value::String(value));
            } else if key.starts_with("AWS_") {
                // The object store builders' own names (aws_endpoint, ...).
                store_options.push((key.to_ascii_lowercase(), value));
            }
        }
        let table_error = |table: &'static str| {
            move |source| ConfigError::Table {
                path: path.to_owned(),
                table,
                source: Box::new(source),
            }
        };
        let mut natter: Settings = toml::Value::Table(natter)
            .try_into()
            .map_err(table_error("natter"))?;
        natter.store_options = store_options;
        Ok(Self {
            leptos: toml::Value::Table(leptos)
                .try_into()
                .map_err(table_error("leptos"))?,
            natter,
        })
    }
}

/// The keys a settings struct takes, as serde names them (kebab-case), read
/// off its derived `Deserialize` rather than written out a second time.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    /// The error every call ends with: the names are what it was for.
    struct Fields;
    struct Names<'a>(&'a mut &'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for Names<'_> {
        type Error = Fields;

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Fields> {
            *self.0 = fields;
            Err(Fields)
        }

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    impl serde::de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Fields
        }
    }
    impl std::error::Error for Fields {}
    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field names")
        }
    }
    impl std::fmt::Debug for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Fields")
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut fields));
    fields
}

fn take_table(file: &mut toml::Table, name: &str) -> toml::Table {
    match file.remove(name) {
        Some(toml::Value::Table(table)) => table,
        _ => toml::Table::new(),
    }
}

fn kebab(env_name: &str) -> String {
    env_name.to_ascii_lowercase().replace('_', "-")
}

fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
