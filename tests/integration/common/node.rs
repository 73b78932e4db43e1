//! natter as a separate process: the real binary, for tests that run two of
//! it, signal it or kill it.

use super::TestUser;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub struct Node {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Everything it printed so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

/// The binary with the tests' settings: the project's Leptos.toml, a port of
/// its own, and limits high enough for tests that make many users.
pub fn command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_natter"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(super::UNLIMITED.iter().copied());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

impl Node {
    /// Starts the binary and waits for the line that names its address.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let child = command(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the natter binary starts");
        // Owned by a `Node` at once, so the process is killed and reaped on
        // every path, a failed start included.
        let mut node = Node {
            child,
            base: String::new(),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        let stdout = node.child.stdout.take().expect("piped stdout");
        let (lines, received) = mpsc::channel();
        let log = node.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line.clone());
                let _ = lines.send(line);
            }
        });
        loop {
            let line = received
                .recv_timeout(Duration::from_secs(60))
                .expect("the server reports its address within a minute");
            if let Some(url) = line.strip_prefix("natter is running at ") {
                node.base = url.trim().to_owned();
                return node;
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends a signal (`TERM`, `KILL`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits for the process to end, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Still running (not exited, crashed or killed).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// A fresh user with a random name, signed up through this node.
    pub async fn user(&self, prefix: &str) -> TestUser {
        super::register_on(&self.base, &super::username(prefix), "correct horse").await
    }

    /// A second session of an account made by [`Node::user`] (another
    /// device), through this node.
    pub async fn login(&self, username: &str) -> TestUser {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "log-in");
        let body: serde_json::Value = response.json().await.unwrap();
        TestUser {
            id: natter::protocol::UserId::parse(body["user_id"].as_str().unwrap()).unwrap(),
            username: username.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
            base: self.base.clone(),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
