//! natter's private PostgreSQL cluster, used when no `DATABASE_URL` is set.
//!
//! Layout under the data folder (`[natter] data-dir`):
//! `pgdata/` the cluster, `run/` its unix socket (no TCP port is opened, so it
//! can never collide with another cluster), `postgres.log` the server's log,
//! `cluster.lock` taken while starting so that several natter processes (two
//! nodes, parallel tests) agree on one cluster.
//!
//! The cluster is created on first use (`initdb`) and started when it is not
//! running (`pg_ctl start`); it keeps running after natter exits, so the next
//! start is instant. `natter db stop` stops it. PostgreSQL refuses to run as
//! root: when natter runs as root, the cluster belongs to the `postgres` user.
//!
//! Nobody else on the machine gets in: the data folder and the socket's
//! folder are 0700, the socket too, and the only way in is PostgreSQL's
//! peer authentication for natter's own Unix user (mapped to the `natter`
//! role). Every start writes that policy again, so a cluster made by an
//! older natter (which trusted every local connection) is closed too.

use sqlx::postgres::PgConnectOptions;
use std::ffi::OsString;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser and database natter creates in its cluster (the name is
/// also written out in `ensure_database`'s CREATE DATABASE).
const DB_USER: &str = "natter";
pub const DB_NAME: &str = "natter";
/// A unix socket path must fit in `sun_path` (108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: install Debian's \
         `postgresql` package (apt-get install postgresql), or set DATABASE_URL to use \
         an existing server"
    )]
    MissingBinaries,
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "the postgres user cannot reach {0}; when natter runs as root its cluster belongs \
         to `postgres`, so choose a data-dir (NATTER_DATA_DIR) on a path it can enter"
    )]
    Unreachable(PathBuf),
    #[error("the socket path {0} is too long for a unix socket; choose a shorter data-dir")]
    SocketPathTooLong(PathBuf),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// A running private cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub(crate) base: PathBuf,
    pub(crate) pgdata: PathBuf,
    pub(crate) socket_dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    /// The folder holding the cluster's socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The cluster's data folder.
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// Connection options for `database`.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(DB_USER)
            .database(database)
    }

    /// The same as a URL, for tools that take one (psql, pgbench, sqlx).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{DB_USER}@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Stops the cluster (fast shutdown: sessions are closed, nothing
    /// committed is lost).
    pub fn stop(&self) -> Result<(), ClusterError> {
        if self.is_running()? {
            self.pg_ctl(&["stop", "-m", "fast", "-w"])?;
        }
        Ok(())
    }

    fn is_running(&self) -> Result<bool, ClusterError> {
        let out = self.run(self.pg_ctl_command(&["status"]))?;
        Ok(out.status.success())
    }

    fn pg_ctl_command(&self, args: &[&str]) -> Command {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(&self.pgdata).args(args);
        command
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output, ClusterError> {
        checked(self.run(self.pg_ctl_command(args))?, "pg_ctl")
    }

    /// A command for one of PostgreSQL's programs, run as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new(runuser());
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, mut command: Command) -> Result<Output, ClusterError> {
        let what = format!("{command:?}");
        // The cluster's processes must not inherit a locale PostgreSQL
        // rejects, nor die with natter's process group on Ctrl-C.
        command.env("LC_ALL", "C").current_dir(&self.base);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.output().map_err(io(what))
    }
}

fn checked(out: Output, name: &str) -> Result<Output, ClusterError> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(ClusterError::Command {
            command: name.to_owned(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// The directory holding `initdb` and `pg_ctl`: `PATH` first, then Debian's
/// `/usr/lib/postgresql/<version>/bin`, newest version first.
fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin"));
    for dir in std::env::split_paths(&on_path) {
        if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Makes sure the cluster under `base` exists and runs, and that natter's
/// database exists in it.
pub async fn ensure_running(base: &Path) -> Result<Cluster, ClusterError> {
    let base = base.to_owned();
    let cluster = tokio::task::spawn_blocking(move || ensure_started(&base))
        .await
        .map_err(|e| ClusterError::Io {
            what: "starting the cluster".into(),
            source: std::io::Error::other(e),
        })??;
    ensure_database(&cluster)
        .await
        .map_err(|e| ClusterError::Io {
            what: format!("creating the {DB_NAME} database"),
            source: std::io::Error::other(e),
        })?;
    Ok(cluster)
}

/// The cluster under `base` if one was ever created there (running or not).
pub(crate) fn existing(base: &Path) -> Option<Cluster> {
    let base = fs::canonicalize(base).ok()?;
    base.join("pgdata/PG_VERSION").is_file().then_some(())?;
    Some(cluster_at(base, find_bin_dir()?))
}

fn cluster_at(base: PathBuf, bin: PathBuf) -> Cluster {
    Cluster {
        pgdata: base.join("pgdata"),
        socket_dir: base.join("run"),
        base,
        bin,
        as_postgres: running_as_root(),
    }
}

/// The blocking part: create and start the cluster, under the start lock.
fn ensure_started(base: &Path) -> Result<Cluster, ClusterError> {
    let bin = find_bin_dir().ok_or(ClusterError::MissingBinaries)?;
    fs::create_dir_all(base).map_err(io(format!("creating {}", base.display())))?;
    let base = fs::canonicalize(base).map_err(io(format!("resolving {}", base.display())))?;
    let cluster = cluster_at(base, bin);
    let socket_path = cluster.socket_dir.join(".s.PGSQL.5432");
    if socket_path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(ClusterError::SocketPathTooLong(socket_path));
    }

    let lock_path = cluster.base.join("cluster.lock");
    let lock = File::create(&lock_path).map_err(io(format!("creating {}", lock_path.display())))?;
    lock.lock()
        .map_err(io(format!("locking {}", lock_path.display())))?;

    if cluster.as_postgres {
        hand_to_postgres(&cluster)?;
    }
    if !cluster.pgdata.join("PG_VERSION").is_file() {
        init(&cluster)?;
    }
    let policy_changed = secure(&cluster)?;
    let socket = cluster.socket_dir.join(".s.PGSQL.5432");
    if cluster.is_running()? && !socket.exists() {
        // A server whose socket has gone (its folder was removed under it)
        // cannot be reached: restart it so the socket is made again.
        tracing::warn!(data = %cluster.pgdata.display(), "the private PostgreSQL lost its socket; restarting it");
        cluster.pg_ctl(&["stop", "-m", "fast", "-w"])?;
    }
    if !cluster.is_running()? {
        start(&cluster)?;
    } else if policy_changed {
        // A cluster started by an older natter: it takes the new policy
        // at once (its socket keeps its old mode, but behind a 0700 folder).
        cluster.pg_ctl(&["reload"])?;
    }
    drop(lock);
    Ok(cluster)
}

/// util-linux's `runuser`: on `PATH`, else where Debian puts it (root's
/// `PATH` has `/usr/sbin`, but a service manager's or a CI runner's may not).
fn runuser() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join("runuser"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("runuser"))
}

/// As root, the cluster's folders belong to `postgres`, which must be able to
/// reach them.
fn hand_to_postgres(cluster: &Cluster) -> Result<(), ClusterError> {
    chown_to_postgres(&cluster.base)?;
    let mut probe = Command::new(runuser());
    probe
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(&cluster.base);
    if !probe.status().map_err(io("running runuser"))?.success() {
        return Err(ClusterError::Unreachable(cluster.base.clone()));
    }
    Ok(())
}

fn init(cluster: &Cluster) -> Result<(), ClusterError> {
    // A half-made cluster from an interrupted first run is useless; initdb
    // wants an empty folder.
    if cluster.pgdata.exists() {
        let stale = cluster
            .base
            .join(format!("pgdata.incomplete.{}", std::process::id()));
        fs::rename(&cluster.pgdata, &stale).map_err(io("moving an incomplete cluster aside"))?;
    }
    let mut initdb = cluster.command("initdb");
    initdb
        .arg("-D")
        .arg(&cluster.pgdata)
        .args([
            "-U",
            DB_USER,
            // Rewritten by `secure` before the first start; no moment
            // where the cluster trusts anyone.
            "--auth-local=peer",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C",
        ])
        .arg("--no-instructions");
    checked(cluster.run(initdb)?, "initdb")?;
    Ok(())
}

/// Who may connect, written again at every start: natter's own Unix user
/// over the socket, as the `natter` role, and nobody else; the folders that
/// hold the data, the log and the socket closed to everyone else. Whether
/// the authentication files changed (a running cluster must reload them).
fn secure(cluster: &Cluster) -> Result<bool, ClusterError> {
    private_folder(&cluster.base)?;
    fs::create_dir_all(&cluster.socket_dir).map_err(io("creating the socket folder"))?;
    if cluster.as_postgres {
        chown_to_postgres(&cluster.socket_dir)?;
    }
    private_folder(&cluster.socket_dir)?;
    let hba = format!(
        "# Written by natter at every start: only natter's own Unix user, over\n\
         # the private socket (the cluster listens on no TCP port).\n\
         local all {DB_USER} peer map=natter\n"
    );
    let ident = format!(
        "# Written by natter at every start.\nnatter {} {DB_USER}\n",
        own_user_name()?
    );
    let mut changed = false;
    for (name, text) in [("pg_hba.conf", hba), ("pg_ident.conf", ident)] {
        let path = cluster.pgdata.join(name);
        if fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        fs::write(&path, text).map_err(io(format!("writing {}", path.display())))?;
        if cluster.as_postgres {
            chown_to_postgres(&path)?;
        }
        changed = true;
    }
    Ok(changed)
}

fn private_folder(path: &Path) -> Result<(), ClusterError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(io(format!("making {} private", path.display())))
}

/// The name of the Unix user natter runs as: the one peer authentication
/// sees on its connections.
fn own_user_name() -> Result<String, ClusterError> {
    let out = checked(
        Command::new("id")
            .arg("-un")
            .output()
            .map_err(io("running id -un"))?,
        "id -un",
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn start(cluster: &Cluster) -> Result<(), ClusterError> {
    // Local-only (no TCP listener), the socket in our own folder and only
    // for its owner, and enough connections for several nodes plus the
    // tests. Durability settings stay at PostgreSQL's defaults: fsync and
    // synchronous_commit on. A random page read costs the planner 1.1
    // sequential ones, not 4 (a spinning disk's): on an SSD, with the data
    // cached, a small table's index lookup repeated per row beats scanning
    // it whole (the inbox's page: 7.5 → 2.1 ms for 100 chats among 250 users).
    let options = format!(
        "-c listen_addresses='' -c unix_socket_directories='{}' \
         -c unix_socket_permissions=0700 -c max_connections=300 -c shared_buffers=256MB \
         -c random_page_cost=1.1",
        cluster.socket_dir.display()
    );
    let log = cluster.base.join("postgres.log");
    let log = log.to_string_lossy();
    cluster.pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options])?;
    Ok(())
}

fn chown_to_postgres(path: &Path) -> Result<(), ClusterError> {
    let out = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .output()
        .map_err(io("running chown"))?;
    checked(out, "chown postgres:postgres").map(drop)
}

/// Creates natter's database unless it exists; a concurrent creator winning
/// the race is fine.
async fn ensure_database(cluster: &Cluster) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        DB_NAME,
    )
    .fetch_one(&mut conn)
    .await?;
    if !exists {
        // `DB_NAME`, which a statement cannot take as a parameter.
        let created = sqlx::query!("CREATE DATABASE natter")
            .execute(&mut conn)
            .await;
        match created {
            // 42P04: it exists; 23505: a concurrent creator got there first.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            other => {
                other?;
            }
        }
    }
    conn.close().await
}
