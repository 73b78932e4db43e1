//! The server binary with no `DATABASE_URL`: its private PostgreSQL cluster
//! is created on the first run and reused, data intact, on the next.

use crate::common::node::{self, Node};
use std::path::{Path, PathBuf};

fn stop_cluster(data_dir: &Path) {
    let data_dir = data_dir.to_str().unwrap();
    let status = node::command(&[("NATTER_DATA_DIR", data_dir)])
        .args(["db", "stop"])
        .status()
        .unwrap();
    assert!(status.success(), "natter db stop");
}

async fn post(base: &str, path: &str, body: serde_json::Value) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_first_run_creates_the_private_database_and_the_next_finds_its_data() {
    let data_dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("startup-{}", uuid::Uuid::now_v7().simple()));
    let env = [("NATTER_DATA_DIR", data_dir.to_str().unwrap())];
    let credentials = serde_json::json!({"username": "survivor", "password": "password1"});

    let first = Node::start(&env);
    let pgdata = std::fs::canonicalize(&data_dir).unwrap().join("pgdata");
    assert!(
        pgdata.join("PG_VERSION").is_file(),
        "the cluster was created"
    );
    let where_line = format!("embedded PostgreSQL: data in {}", pgdata.display());
    assert!(
        first.logged(&where_line),
        "one log line names the data folder: {:?}",
        first.log.lock().unwrap()
    );
    assert_eq!(
        post(&first.base, "/api/v1/auth/register", credentials.clone()).await,
        201
    );
    drop(first);
    // Stopped too, so the next run has to start it again from its files.
    stop_cluster(&data_dir);

    let second = Node::start(&env);
    assert_eq!(
        post(&second.base, "/api/v1/auth/login", credentials.clone()).await,
        200,
        "the account made in the first run is still there"
    );
    assert_eq!(
        post(&second.base, "/api/v1/auth/register", credentials).await,
        409
    );
    drop(second);
    stop_cluster(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
}
