//! The server under test: started here on a fresh database (the default), or
//! one already running (`--url`).
//!
//! Started here, natter is the release binary of this build, run from the
//! crate's folder (it reads `Leptos.toml` there) on a new database
//! `bench_<time>_<pid>` in the private cluster `target/bench-db`, made and
//! started by `natter db url` itself. The cluster keeps running afterwards,
//! like the tests' (`NATTER_DATA_DIR=target/bench-db target/release/natter db
//! stop` stops it); the database is dropped at the end, and so is the
//! server's own data folder (`target/bench-files/<database>`: the
//! attachments it stored).

use crate::probe::Probe;
use crate::report::progress;
use crate::support;
use crate::{Options, Res};
use sqlx::{Connection, PgConnection};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Target {
    /// `http://host:port`
    pub base: String,
    pub probe: Probe,
    /// The database natter uses, when it can be reached (for `limit` and for
    /// reading batch sizes).
    pub database_url: Option<String>,
    /// The server's `data-dir` (its attachments are in `attachments` there),
    /// when known: `attachments` measures the disk under it.
    pub data_dir: Option<PathBuf>,
    /// `--second-url`: a second node already running on the same database.
    second_url: Option<String>,
    started: Option<Started>,
}

/// A second node on the same database, for `deliver2`; one this run started
/// is stopped when this is dropped.
pub struct Second {
    pub base: String,
    pub probe: Probe,
    server: Option<Child>,
}

impl Drop for Second {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            stop(server);
        }
    }
}

/// What this run started and must stop.
struct Started {
    server: Child,
    admin_url: String,
    database: String,
    /// The server's data folder, this run's alone.
    files: PathBuf,
}

const BENCH_DB_DIR: &str = "target/bench-db";

/// Where each run's server keeps its files (`data-dir`), in a folder of the
/// run's database's name: never the developer's own `.natter`.
const FILES_DIR: &str = "target/bench-files";

/// The presence grace natter is started with here (`presence-grace-ms`,
/// 10,000 by default): `presence` assumes it when it times offline
/// transitions.
pub const PRESENCE_GRACE_MS: u64 = 1000;

impl Target {
    pub async fn prepare(options: &Options) -> Res<Self> {
        if let Some(url) = &options.url {
            return Ok(Self {
                base: url.clone(),
                probe: Probe::new(options.server_pid, options.pgdata.clone()),
                database_url: options.database_url.clone(),
                data_dir: options.data_dir.clone(),
                second_url: options.second_url.clone(),
                started: None,
            });
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let data_dir = root.join(BENCH_DB_DIR);
        progress(&format!(
            "starting the private PostgreSQL in {}",
            data_dir.display()
        ));
        let admin_url = cluster_url(root, &data_dir)?;
        let mut admin = PgConnection::connect(&admin_url).await?;
        let database = support::fresh_database(&mut admin, "bench").await?;
        admin.close().await?;
        let database_url = support::url_for(&admin_url, &database);
        progress(&format!("starting natter on database {database}"));
        let files = root.join(FILES_DIR).join(&database);
        let (server, base) = start_server(root, &database_url, &files)?;
        let pid = server.id();
        Ok(Self {
            base,
            probe: Probe::new(Some(pid), Some(data_dir.join("pgdata"))),
            database_url: Some(database_url),
            data_dir: Some(files.clone()),
            second_url: None,
            started: Some(Started {
                server,
                admin_url,
                database,
                files,
            }),
        })
    }

    /// One line on what was measured, for the report.
    pub fn describe(&self) -> String {
        match &self.started {
            Some(s) => format!(
                "natter {} (release, started by the benchmark, pid {}) on a fresh database {}",
                self.base,
                s.server.id(),
                s.database
            ),
            None => format!("natter at {} (already running)", self.base),
        }
    }

    /// A second node on the same database: the one `--second-url` names,
    /// or a new process this run starts (and stops when it is dropped).
    pub fn second_node(&self) -> Res<Second> {
        if let Some(base) = &self.second_url {
            return Ok(Second {
                base: base.clone(),
                probe: Probe::new(None, None),
                server: None,
            });
        }
        let (Some(database_url), Some(started)) = (&self.database_url, &self.started) else {
            return Err("deliver2 needs a second node: --second-url with --url".into());
        };
        progress("starting a second natter node on the same database");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // The same store as the first: every node of a database must share it.
        let (server, base) = start_server(root, database_url, &started.files)?;
        Ok(Second {
            base,
            probe: Probe::new(Some(server.id()), None),
            server: Some(server),
        })
    }

    /// Stops what this run started: natter (SIGTERM, its orderly shutdown),
    /// then its database and its data folder.
    pub async fn finish(&mut self) {
        let Some(mut started) = self.started.take() else {
            return;
        };
        stop(&mut started.server);
        if let Err(e) = support::drop_database(&started.admin_url, &started.database).await {
            eprintln!("load: could not drop {}: {e}", started.database);
        }
        match std::fs::remove_dir_all(&started.files) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("load: could not remove {}: {e}", started.files.display()),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(started) = &mut self.started {
            let _ = started.server.kill();
            let _ = started.server.wait();
        }
    }
}

fn natter() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_natter"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    command
}

/// `natter db url` for the benchmark's cluster: creates and starts it when
/// needed, and names its `natter` database (used here as the admin database).
fn cluster_url(root: &Path, data_dir: &Path) -> Res<String> {
    let out = natter()
        .current_dir(root)
        .env("NATTER_DATA_DIR", data_dir)
        .args(["db", "url"])
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("`natter db url` failed ({})", out.status).into());
    }
    let url = String::from_utf8(out.stdout)?;
    let url = url
        .lines()
        .rev()
        .find(|l| l.starts_with("postgres"))
        .ok_or("`natter db url` printed no URL")?;
    Ok(url.trim().to_owned())
}

/// Starts natter on `database_url` and waits for the line naming its
/// address. The limits meant for people (sign-ups per address, sends per
/// user) are lifted: one generator plays thousands of people from one
/// address, and so are the per-user budgets (one user asks for its inbox
/// hundreds of times). Everything else is the configuration in `Leptos.toml`, or the
/// environment (`NATTER_SEND_BATCH_MAX`, `NATTER_DB_POOL_SIZE`, ...).
fn start_server(root: &Path, database_url: &str, data_dir: &Path) -> Res<(Child, String)> {
    let mut command = natter();
    command
        .current_dir(root)
        .env("DATABASE_URL", database_url)
        .env("NATTER_DATA_DIR", data_dir)
        // `attachments` uploads a gigabyte per user over a few seconds, and
        // files over the default 25 MB limit to show memory stays flat.
        .env("NATTER_UPLOAD_DAILY_BYTES", "1000000000000")
        .env("NATTER_MAX_ATTACHMENT_BYTES", "200000000")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("NATTER_AUTH_ATTEMPTS_PER_MINUTE", "1000000")
        .env("NATTER_SENDS_PER_SECOND", "1000000")
        .env("NATTER_SEND_BURST", "1000000")
        // Every simulated client connects from 127.0.0.1.
        .env("NATTER_MAX_CONNECTIONS_PER_ADDRESS", "0")
        // Setting up signs many users up at once.
        .env("NATTER_PASSWORD_HASH_QUEUE", "1000000")
        .env("NATTER_PASSWORD_HASH_WAIT_MS", "600000")
        // A short grace, so that `presence`'s waves of disconnects are quick.
        .env("NATTER_PRESENCE_GRACE_MS", PRESENCE_GRACE_MS.to_string())
        .envs(
            [
                "READ_MARKER",
                "HISTORY",
                "INBOX",
                "SEARCH",
                "MESSAGE_SEARCH",
                "NEW_CONVERSATION",
                "CONNECT",
                "TYPING",
                "PRESENCE",
                "UNKNOWN_TOKEN",
                "FAILED_LOGIN",
                // `history` seeds thousands of reactions from three users.
                "ACTION",
                "UPLOAD",
            ]
            .map(|name| {
                (
                    format!("NATTER_{name}_BUDGET"),
                    "{ per-minute = 100000000, burst = 100000000 }",
                )
            }),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "warn");
    }
    let mut server = command.spawn()?;
    let stdout = server.stdout.take().ok_or("natter's stdout")?;
    let (lines, received) = mpsc::channel();
    // natter's log is on stdout: the address line goes to the benchmark,
    // everything else (warnings) to stderr, and the pipe never fills.
    std::thread::spawn(move || {
        let mut found = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !found && line.starts_with("natter is running at ") {
                found = true;
                let _ = lines.send(line);
            } else {
                eprintln!("natter: {line}");
            }
        }
    });
    let line = match received.recv_timeout(Duration::from_secs(120)) {
        Ok(line) => line,
        Err(_) => {
            let _ = server.kill();
            let _ = server.wait();
            return Err("natter did not report its address within 2 minutes".into());
        }
    };
    let base = line["natter is running at ".len()..].trim().to_owned();
    Ok((server, base))
}

/// SIGTERM, then up to 15 s for the orderly shutdown, then SIGKILL.
fn stop(server: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// `pgbench` from PATH, else Debian's newest `/usr/lib/postgresql/*/bin`.
pub fn pgbench() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(found) = std::env::split_paths(&path)
        .map(|dir| dir.join("pgbench"))
        .find(|p| p.is_file())
    {
        return Some(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin/pgbench");
            bin.is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
