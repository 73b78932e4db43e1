//! `natter` (serve), `natter db url`, `natter db stop`.

use super::config::{Config, default_path};
use super::embedded_pg;
use super::startup::{self, Server};
use std::process::ExitCode;

pub async fn main() -> ExitCode {
    keep_large_blocks_returnable();
    init_tracing();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::load(&default_path()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["serve"] => serve(config).await,
        ["db", "url"] => db_url(&config).await,
        ["db", "stop"] => db_stop(&config).await,
        _ => {
            eprintln!(
                "usage: natter [serve]      start the server\n       natter db url       \
                 start the private database and print its URL\n       natter db stop      \
                 stop the private database"
            );
            ExitCode::from(2)
        }
    }
}

/// Password hashing allocates 19 MiB at a time. glibc's adaptive mmap
/// threshold would soon serve such blocks from its heaps and keep them after
/// they are freed (a few dozen sign-ups left 850 MB resident); pinning the
/// threshold keeps every large block an mmap, returned when freed.
fn keep_large_blocks_returnable() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it is called once, first
    // thing in main, with a valid parameter and value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    tracing::error!("{error}");
    eprintln!("natter: {error}");
    ExitCode::FAILURE
}

async fn serve(config: Config) -> ExitCode {
    let size = config.natter.db_pool_size;
    let db = match startup::database_options(&config).await {
        Ok(options) => match startup::connect(options, size).await {
            Ok(db) => db,
            Err(e) => return fail(&e),
        },
        Err(e) => return fail(&e),
    };
    let server = match Server::build(config, db).await {
        Ok(server) => server,
        Err(e) => return fail(&e),
    };
    match server.local_addr() {
        Ok(addr) => {
            tracing::info!("natter listening on http://{addr}");
            println!("natter is running at http://{addr}");
        }
        Err(e) => return fail(&e),
    }
    match server.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
}

async fn db_url(config: &Config) -> ExitCode {
    if let Some(url) = config.natter.external_database() {
        println!("{url}");
        return ExitCode::SUCCESS;
    }
    match embedded_pg::ensure_running(&config.natter.data_dir).await {
        Ok(cluster) => {
            println!("{}", cluster.url(embedded_pg::DB_NAME));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn db_stop(config: &Config) -> ExitCode {
    match embedded_pg::existing(&config.natter.data_dir).map(|c| c.stop()) {
        Some(Ok(())) | None => ExitCode::SUCCESS,
        Some(Err(e)) => fail(&e),
    }
}
