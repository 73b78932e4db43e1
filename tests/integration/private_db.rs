//! The private PostgreSQL cluster (no `DATABASE_URL`) is natter's alone:
//! another Unix user on the machine can neither reach its socket nor, if it
//! could, authenticate as natter's role, which is the cluster's superuser
//! (every message, and programs run as the cluster's owner).

use crate::common::cluster::PrivateCluster;
use natter::server::embedded_pg::{self, DB_NAME};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

fn as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

/// `psql` as the Unix user `user`, asking for natter's role.
fn psql_as(user: &str, pg: &PrivateCluster, sql: &str) -> Output {
    Command::new("runuser")
        .args(["-u", user, "--", "psql", "-X", "-w", "-h"])
        .arg(pg.cluster.socket_dir())
        .args(["-U", "natter", "-d", DB_NAME, "-At", "-c", sql])
        .current_dir("/")
        .output()
        .expect("runuser and psql run")
}

/// natter itself (this process's user) still gets in.
async fn natter_gets_in(pg: &PrivateCluster) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&pg.cluster.connect_options(DB_NAME))
        .await
        .expect("natter's own user connects");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

fn assert_refused(who: &str, out: &Output) {
    assert!(
        !out.status.success(),
        "{who} got into the private database: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn no_other_unix_user_gets_into_the_private_database() {
    let pg = PrivateCluster::start_in(std::env::temp_dir()).await;
    let socket = pg.cluster.socket_dir().join(".s.PGSQL.5432");
    assert_eq!(mode(&pg.dir), 0o700, "the data folder is open to others");
    assert_eq!(mode(pg.cluster.socket_dir()), 0o700, "the socket's folder");
    assert_eq!(mode(&socket), 0o700, "the socket");
    let hba = std::fs::read_to_string(pg.cluster.pgdata().join("pg_hba.conf")).unwrap();
    let rules: Vec<&str> = hba
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .collect();
    assert_eq!(rules, ["local all natter peer map=natter"]);
    natter_gets_in(&pg).await;
    if as_root() {
        // Another user: cannot even reach the socket.
        assert_refused("nobody", &psql_as("nobody", &pg, "SELECT 1"));
        // The cluster's owner reaches it, and is still not natter.
        let owner = psql_as("postgres", &pg, "SELECT 1");
        assert_refused("postgres", &owner);
        let said = String::from_utf8_lossy(&owner.stderr);
        assert!(said.contains("Peer authentication failed"), "{said}");
    }
}

#[tokio::test]
async fn a_cluster_left_open_by_an_older_natter_is_closed_at_the_next_start() {
    let pg = PrivateCluster::start_in(std::env::temp_dir()).await;
    // What natter used to leave: every local connection trusted, the
    // folders open to all.
    std::fs::write(
        pg.cluster.pgdata().join("pg_hba.conf"),
        "local all all trust\n",
    )
    .unwrap();
    for (dir, mode) in [(pg.dir.as_path(), 0o755), (pg.cluster.socket_dir(), 0o777)] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(
        pg.cluster.socket_dir().join(".s.PGSQL.5432"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect_with(&pg.cluster.connect_options(DB_NAME))
            .await
            .unwrap();
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    if as_root() {
        let open = psql_as("nobody", &pg, "SELECT current_user");
        assert!(
            open.status.success(),
            "the open cluster should let nobody in: {}",
            String::from_utf8_lossy(&open.stderr)
        );
    }
    // natter starts again on the running cluster.
    embedded_pg::ensure_running(&pg.dir)
        .await
        .expect("natter starts on the running cluster");
    assert_eq!(mode(&pg.dir), 0o700);
    assert_eq!(mode(pg.cluster.socket_dir()), 0o700);
    natter_gets_in(&pg).await;
    if as_root() {
        assert_refused("nobody", &psql_as("nobody", &pg, "SELECT 1"));
        let owner = psql_as("postgres", &pg, "SELECT 1");
        assert_refused("postgres", &owner);
    }
}
