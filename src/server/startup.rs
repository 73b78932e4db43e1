//! From configuration to a running server: database, migrations, chat core,
//! router, listener.

use super::attachments::Files;
use super::chat::ChatCore;
use super::config::Config;
use super::embedded_pg;
use super::limits::Limits;
use super::router;
use super::site;
use super::state::AppState;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Cluster(#[from] embedded_pg::ClusterError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Store(#[from] super::attachments::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The configured database's connection options: `DATABASE_URL` (or
/// `[natter] database-url`) when set, else the private cluster, created and
/// started if needed.
pub async fn database_options(config: &Config) -> Result<PgConnectOptions, StartError> {
    if let Some(url) = config.natter.external_database() {
        return Ok(PgConnectOptions::from_str(url)?);
    }
    let cluster = embedded_pg::ensure_running(&config.natter.data_dir).await?;
    tracing::info!(
        data = %cluster.pgdata.display(),
        socket = %cluster.socket_dir.display(),
        "embedded PostgreSQL: data in {}", cluster.pgdata.display()
    );
    Ok(cluster.connect_options(embedded_pg::DB_NAME))
}

/// A pool on `options` with natter's migrations applied.
pub async fn connect(options: PgConnectOptions, size: u32) -> Result<PgPool, StartError> {
    let pool = PgPoolOptions::new()
        .max_connections(size.max(2))
        // A request waits this long for a connection before it is answered
        // `unavailable`, rather than hanging while the database is down.
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    Ok(pool)
}

/// A server ready to accept connections.
pub struct Server {
    pub(crate) listener: tokio::net::TcpListener,
    pub(crate) router: axum::Router,
    pub state: AppState,
    pub(crate) committer: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn build(mut config: Config, db: PgPool) -> Result<Self, StartError> {
        site::check_bundle(&mut config.leptos);
        let limits = Limits::new(&config.natter);
        let files = Arc::new(Files::open(&config.natter)?);
        tokio::spawn(files.clone().sweep(db.clone()));
        let (chat, committer) =
            ChatCore::start(db.clone(), &config.natter, limits.clone(), files.clone());
        tokio::spawn(super::session_sweep::run(
            db.clone(),
            chat.hub.clone(),
            config.natter.session_lifetime(),
            Duration::from_secs(config.natter.session_check_secs.max(1)),
        ));
        let addr = config.leptos.site_addr;
        let hasher = Arc::new(super::hashing::Hasher::new(&config.natter));
        let state = AppState {
            leptos_options: config.leptos,
            db,
            settings: Arc::new(config.natter),
            chat,
            limits,
            files,
            hasher,
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Self {
            listener,
            router: router::router(state.clone()),
            state,
            committer,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then shuts down in order: stop
    /// accepting; store and answer every send already queued (acked, or
    /// refused as `unavailable`); close every WebSocket with 1012 (service
    /// restart) once every frame its client sent before it heard of the
    /// restart is answered (`unavailable` for sends by then), so clients
    /// reconnect, possibly to another node, and resend exactly what was not
    /// acked. Bounded by [`SHUTDOWN_BOUND`] in all.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            state,
            committer,
        } = self;
        let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
        let settings = &state.settings;
        let limits = super::http::HttpLimits {
            header_read: Duration::from_secs(settings.header_read_timeout_secs.max(1)),
            // Behind a proxy every connection comes from the proxy.
            per_address: if settings.trust_proxy_headers {
                0
            } else {
                settings.max_connections_per_address
            },
        };
        let http = tokio::spawn(super::http::serve(listener, router, limits, async move {
            let _ = http_stopped.await;
        }));
        shutdown.await;
        let started = tokio::time::Instant::now();
        let _ = stop_http.send(());
        drain(&state, committer).await;
        let left = SHUTDOWN_BOUND.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, http).await {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(join)) => Err(std::io::Error::other(join)),
        }
    }
}

/// How long a shutdown may take from signal to exit.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(10);

async fn drain(state: &AppState, committer: tokio::task::JoinHandle<()>) {
    use super::chat::hub::Kick;
    state.chat.committer.close();
    if tokio::time::timeout(Duration::from_secs(5), committer)
        .await
        .is_err()
    {
        tracing::warn!("shutdown: sends still being stored after 5 s; closing anyway");
    }
    state.chat.hub.kick_all(Kick::Restart);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while state.chat.hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Graces cut short: whoever was here was last seen now (or when they
    // left), stored in one statement; the other nodes drop them when this
    // node goes quiet, or keep them if they reconnected there.
    let here = state
        .chat
        .presence
        .everyone_here(crate::server::clock::now_ms());
    if !here.is_empty() {
        let (users, at): (Vec<_>, Vec<_>) = here.into_iter().unzip();
        let stored = super::db::presence::store_last_seen(&state.db, &users, &at);
        match tokio::time::timeout(Duration::from_secs(1), stored).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "shutdown: storing last-seen times failed"),
            Err(_) => tracing::warn!("shutdown: storing last-seen times took over 1 s; skipped"),
        }
    }
    tracing::info!("shutdown: every send answered, every connection closed");
}
