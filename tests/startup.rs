//! The server binary with no `DATABASE_URL`: its private PostgreSQL cluster
//! is created on the first run and reused, data intact, on the next.

// Tests panic on anything unexpected; that is their job.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Run {
    child: Child,
    base: String,
    log: Vec<String>,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn natter(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_natter"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("NATTER_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    command
}

/// Starts the server and waits for the line that names its address.
fn start(data_dir: &Path) -> Run {
    let child = natter(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the natter binary starts");
    // Owned by a `Run` at once, so the process is killed and reaped on
    // every path, a failed start included.
    let mut run = Run {
        child,
        base: String::new(),
        log: Vec::new(),
    };
    let stdout = run.child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = received
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reports its address within a minute");
        if let Some(url) = line.strip_prefix("natter is running at ") {
            run.base = url.trim().to_owned();
            return run;
        }
        run.log.push(line);
    }
}

fn stop_cluster(data_dir: &Path) {
    let status = natter(data_dir).args(["db", "stop"]).status().unwrap();
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
    let credentials = serde_json::json!({"username": "survivor", "password": "password1"});

    let first = start(&data_dir);
    let pgdata = std::fs::canonicalize(&data_dir).unwrap().join("pgdata");
    assert!(
        pgdata.join("PG_VERSION").is_file(),
        "the cluster was created"
    );
    let says_where = first
        .log
        .iter()
        .any(|l| l.contains("embedded PostgreSQL") && l.contains(&pgdata.display().to_string()));
    assert!(
        says_where,
        "one log line names the data folder: {:?}",
        first.log
    );
    assert_eq!(
        post(&first.base, "/api/v1/auth/register", credentials.clone()).await,
        201
    );
    drop(first);
    // Stopped too, so the next run has to start it again from its files.
    stop_cluster(&data_dir);

    let second = start(&data_dir);
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
