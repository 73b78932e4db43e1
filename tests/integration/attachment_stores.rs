//! The attachments store on a real S3-compatible server (moto's, installed
//! by `.ci/test`: `NATTER_TEST_MOTO` names its `moto_server`), and on the
//! object_store crate's in-memory store: the same code path, chosen by
//! `attachments-store` alone. A file large enough to go up in parts, its
//! ranges, an image's thumbnail, and deletion that reaches the bucket; and
//! two nodes sharing one store.

use crate::attachments::{fetch, pair, png, upload, with_files};
use crate::common::{TestServer, message_id};
use std::process::Stdio;
use std::time::Duration;

/// A moto S3 server on a free port, ended with the test.
struct Moto {
    child: tokio::process::Child,
    url: String,
}

impl Moto {
    async fn start() -> Self {
        let program = std::env::var("NATTER_TEST_MOTO").unwrap_or_else(|_| {
            format!(
                "{}/.ci/tools/moto/bin/moto_server",
                env!("CARGO_MANIFEST_DIR")
            )
        });
        assert!(
            std::path::Path::new(&program).exists(),
            "moto's S3 server is not installed at {program}: `.ci/test` installs it \
             (or `source .ci/lib.sh && ensure_moto`)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("moto_server starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("{url}/moto-api/")).await.is_ok() {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto_server did not answer on {url}");
    }

    /// The keys in `bucket` under `prefix`.
    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listing = reqwest::get(format!("{}/{bucket}?list-type=2&prefix={prefix}", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Uploads a 12 MB file (parts of 5 MiB), fetches it whole and by range,
/// sends a photo too, then deletes the message: all through the store the
/// server was given. With `bucket`, the objects are seen there meanwhile.
async fn round_trip(server: &TestServer, bucket: Option<&Moto>) {
    let (alice, bob, conversation) = pair(server).await;
    let big: Vec<u8> = (0..12_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (status, file) = upload(
        &alice,
        conversation,
        "big.bin",
        "application/octet-stream",
        big.clone(),
    )
    .await;
    assert_eq!(status, 201, "{file}");
    let (status, photo) = upload(&alice, conversation, "p.png", "image/png", png(900, 300)).await;
    assert_eq!(status, 201, "{photo}");
    let ids = [
        file["attachment_id"].as_str().unwrap().to_owned(),
        photo["attachment_id"].as_str().unwrap().to_owned(),
    ];
    let mut ws = alice.ws().await;
    let message = message_id();
    ws.send_and_ack(&with_files(
        &alice,
        conversation,
        &message,
        "",
        &[&ids[0], &ids[1]],
    ))
    .await;
    if let Some(moto) = bucket {
        let mut keys = moto.keys("natter-files", "chat/").await;
        keys.sort();
        let mut expected = vec![
            format!("chat/{}", ids[0]),
            format!("chat/{}", ids[1]),
            format!("chat/{}.thumb", ids[1]),
        ];
        expected.sort();
        assert_eq!(keys, expected);
    }
    let path = format!("/api/v1/attachments/{}", ids[0]);
    let (status, _, body) = fetch(&bob, &path, &[]).await;
    assert_eq!(status, 200);
    assert!(body == big, "12 MB come back as they went");
    let (status, _, part) = fetch(&bob, &path, &[("range", "bytes=5242870-5242889")]).await;
    assert_eq!((status, part), (206, big[5_242_870..5_242_890].to_vec()));
    let (status, _, thumb) =
        fetch(&bob, &format!("/api/v1/attachments/{}/thumb", ids[1]), &[]).await;
    assert_eq!(status, 200);
    let small = image::load_from_memory(&thumb).unwrap();
    assert_eq!((small.width(), small.height()), (400, 133));
    let action = crate::actions::action_id();
    crate::actions::acked(
        &mut ws,
        &crate::actions::delete(&action, conversation, &message),
    )
    .await;
    assert_eq!(fetch(&bob, &path, &[]).await.0, 404);
}

#[tokio::test]
async fn files_go_to_an_s3_bucket_and_come_back_and_a_deletion_reaches_the_bucket() {
    let moto = Moto::start().await;
    let created = reqwest::Client::new()
        .put(format!("{}/natter-files", moto.url))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "bucket made: {}",
        created.status()
    );
    let server = TestServer::start_with(&[
        ("NATTER_ATTACHMENTS_STORE", "s3://natter-files/chat"),
        ("AWS_ENDPOINT", &moto.url),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "natter"),
        ("AWS_SECRET_ACCESS_KEY", "natter-secret"),
        ("AWS_REGION", "us-east-1"),
    ])
    .await;
    round_trip(&server, Some(&moto)).await;
    // The deletion took the objects (file, photo and thumbnail) with it.
    let mut left = moto.keys("natter-files", "chat/").await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = moto.keys("natter-files", "chat/").await;
    }
    assert!(left.is_empty(), "objects left in the bucket: {left:?}");
}

#[tokio::test]
async fn the_same_code_runs_on_the_in_memory_store() {
    let server = TestServer::start_with(&[("NATTER_ATTACHMENTS_STORE", "memory:///")]).await;
    round_trip(&server, None).await;
}

#[tokio::test]
async fn a_store_that_cannot_be_opened_stops_the_server_at_start_up() {
    let config = crate::common::test_config(&[("NATTER_ATTACHMENTS_STORE", "nowhere://x")]);
    let db = natter::server::startup::connect(
        crate::common::fresh_database().await,
        config.natter.db_pool_size,
    )
    .await
    .unwrap();
    let Err(error) = natter::server::startup::Server::build(config, db).await else {
        panic!("a server with an unknown store started");
    };
    assert!(error.to_string().contains("attachments-store"), "{error}");
}

#[tokio::test]
async fn a_photo_sent_on_one_node_reaches_and_is_served_on_another_sharing_the_store() {
    let db_url = crate::common::fresh_database_url().await;
    let data = std::env::temp_dir().join(format!("natter-test-{}", uuid::Uuid::now_v7().simple()));
    let data = data.to_str().unwrap();
    let env = [("DATABASE_URL", db_url.as_str()), ("NATTER_DATA_DIR", data)];
    let one = crate::common::node::Node::start(&env);
    let two = crate::common::node::Node::start(&env);
    let alice = one.user("alice").await;
    let bob_there = one.user("bob").await;
    let bob = crate::common::TestUser {
        base: two.base.clone(),
        ..bob_there.clone()
    };
    let chat = crate::common::conversation(&alice, &[&bob_there], None).await;
    let chat_id = natter::protocol::ConversationId::parse(&chat).unwrap();
    let (status, photo) = upload(&alice, &chat, "p.png", "image/png", png(120, 80)).await;
    assert_eq!(status, 201, "{photo}");
    let id = photo["attachment_id"].as_str().unwrap().to_owned();
    let (mut a, mut b) = (alice.ws().await, bob.ws().await);
    a.send_and_ack(&with_files(
        &alice,
        chat_id,
        &message_id(),
        "from node one",
        &[&id],
    ))
    .await;
    let received = b.expect_event("message.receive").await;
    assert_eq!(received["attachments"][0], photo);
    let (status, _, thumb) = fetch(&bob, &format!("/api/v1/attachments/{id}/thumb"), &[]).await;
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&thumb).is_ok());
}
