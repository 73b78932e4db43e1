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

#[tokio::test(flavor = "multi_thread")]
async fn other_natter_variables_in_the_environment_do_not_stop_it_from_starting() {
    let db_url = crate::common::fresh_database_url().await;
    // A test runner's or a deployment's own variables that happen to share
    // the prefix; only natter's settings are read from the environment.
    let node = tokio::task::block_in_place(|| {
        Node::start(&[
            ("DATABASE_URL", &db_url),
            ("NATTER_FOO", "1"),
            ("NATTER_E2E_BIN", "target/release/natter"),
        ])
    });
    let credentials = serde_json::json!({"username": "unbothered", "password": "password1"});
    assert_eq!(
        post(&node.base, "/api/v1/auth/register", credentials).await,
        201
    );
}
