//! Attachments end to end against a real server and a real PostgreSQL
//! (docs/protocol.md 2.21, 3.14, 3.15): uploaded, sent with a message,
//! heard live and in history by the other member, fetched whole, by range
//! and as a thumbnail; private to the conversation; each sent once; gone
//! with their message.

use crate::common::{TestServer, TestUser, WsClient, message_id, now_ms};
use natter::protocol::ConversationId;
use serde_json::{Value, json};

/// A picture of `width` × `height` as PNG bytes (a gradient, so it is not
/// all one colour).
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// Uploads `bytes` as `name` of `content_type` to a conversation: the
/// answer's status and body.
pub(crate) async fn upload(
    user: &TestUser,
    conversation: impl ToString,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let response = user
        .client()
        .post(format!(
            "{}/api/v1/chat/{}/attachments?name={}",
            user.base,
            conversation.to_string(),
            urlencode(name)
        ))
        .bearer_auth(&user.token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `message.send` frame of `text` with these uploads.
pub(crate) fn with_files(
    me: &TestUser,
    conversation: ConversationId,
    id: &str,
    text: &str,
    files: &[&str],
) -> Value {
    json!({"event": "message.send", "payload": {
        "conversation_id": conversation, "sender_id": me.id, "message_id": id,
        "content": text, "timestamp": now_ms(), "attachments": files}})
}

/// `GET` as `user`, with extra headers: status, headers, body.
pub(crate) async fn fetch(
    user: &TestUser,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = user
        .client()
        .get(format!("{}{path}", user.base))
        .bearer_auth(&user.token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

pub(crate) async fn pair(server: &TestServer) -> (TestUser, TestUser, ConversationId) {
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.conversation(&alice, &[&bob]).await;
    (alice, bob, conversation)
}

async fn sent(ws: &mut WsClient, frame: &Value) {
    ws.send_and_ack(frame).await;
}

#[tokio::test]
async fn a_photo_sent_reaches_the_other_member_live_in_history_whole_by_range_and_as_thumbnail() {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let photo = png(1200, 900);
    let (status, uploaded) = upload(
        &alice,
        conversation,
        "holiday.png",
        "image/png",
        photo.clone(),
    )
    .await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["name"], "holiday.png");
    assert_eq!(uploaded["size"], photo.len());
    assert_eq!(uploaded["content_type"], "image/png");
    assert_eq!(
        (uploaded["width"].clone(), uploaded["height"].clone()),
        (json!(1200), json!(900))
    );
    let id = uploaded["attachment_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("att_"), "{id}");

    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    let message = message_id();
    // No text: a message of one photo.
    sent(
        &mut alice_ws,
        &with_files(&alice, conversation, &message, "", &[&id]),
    )
    .await;
    let received = bob_ws.expect_event("message.receive").await;
    assert_eq!(received["message_id"], message.as_str());
    assert_eq!(received["content"], "");
    assert_eq!(received["attachments"], json!([uploaded.clone()]));

    let page = bob.get(&format!("/api/v1/chat/{conversation}")).await;
    let page: Value = page.json().await.unwrap();
    assert_eq!(
        page["messages"][0]["attachments"],
        json!([uploaded.clone()])
    );
    let inbox: Value = bob
        .get(&format!("/api/v1/chats/{}", bob.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["chats"][0]["last_attachment"], uploaded);

    // The same bytes, to the other member.
    let path = format!("/api/v1/attachments/{id}");
    let (status, headers, body) = fetch(&bob, &path, &[]).await;
    assert_eq!(status, 200);
    assert!(body == photo, "the bytes come back as uploaded");
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(
        headers["cache-control"],
        "private, max-age=31536000, immutable"
    );
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{id}\""));
    // Unchanged since: nothing to send.
    let (status, _, body) = fetch(&bob, &path, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (304, 0));
    // A part of it: exactly those bytes.
    let (status, headers, body) = fetch(&bob, &path, &[("range", "bytes=100-199")]).await;
    assert_eq!(status, 206);
    assert_eq!(body, photo[100..200].to_vec());
    assert_eq!(
        headers["content-range"].to_str().unwrap(),
        format!("bytes 100-199/{}", photo.len())
    );
    let (status, _, body) = fetch(&bob, &path, &[("range", "bytes=-10")]).await;
    assert_eq!((status, body), (206, photo[photo.len() - 10..].to_vec()));
    let past = format!("bytes={}-", photo.len());
    let (status, headers, _) = fetch(&bob, &path, &[("range", &past)]).await;
    assert_eq!(status, 416);
    assert_eq!(
        headers["content-range"].to_str().unwrap(),
        format!("bytes */{}", photo.len())
    );

    // The thumbnail: a JPEG at most 400 px on its longer side, same shape.
    let (status, headers, thumb) = fetch(&bob, &format!("{path}/thumb"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    let small = image::load_from_memory(&thumb).unwrap();
    assert_eq!((small.width(), small.height()), (400, 300));
}

#[tokio::test]
async fn nobody_outside_the_conversation_can_fetch_a_file_and_nobody_but_its_uploader_before_it_is_sent()
 {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let carol = server.user("carol").await;
    let (_, photo) = upload(&alice, conversation, "p.png", "image/png", png(50, 40)).await;
    let id = photo["attachment_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/attachments/{id}");
    // Not sent yet: the uploader sees it (a preview), the other member not.
    assert_eq!(fetch(&alice, &path, &[]).await.0, 200);
    assert_eq!(fetch(&bob, &path, &[]).await.0, 404);
    let mut ws = alice.ws().await;
    sent(
        &mut ws,
        &with_files(&alice, conversation, &message_id(), "look", &[&id]),
    )
    .await;
    assert_eq!(fetch(&bob, &path, &[]).await.0, 200);
    assert_eq!(fetch(&bob, &format!("{path}/thumb"), &[]).await.0, 200);
    // Someone else: the same 404 as an id that does not exist.
    let (status, _, body) = fetch(&carol, &path, &[]).await;
    let unknown = format!("/api/v1/attachments/att_{}", uuid::Uuid::now_v7().simple());
    let (unknown_status, _, unknown_body) = fetch(&carol, &unknown, &[]).await;
    assert_eq!((status, unknown_status), (404, 404));
    assert_eq!(body, unknown_body);
    assert_eq!(fetch(&carol, &format!("{path}/thumb"), &[]).await.0, 404);
    assert_eq!(
        fetch(&carol, "/api/v1/attachments/nonsense", &[]).await.0,
        404
    );
    // Nor may Carol upload to their conversation.
    let (status, refused) =
        upload(&carol, conversation, "x.txt", "text/plain", b"hi".to_vec()).await;
    assert_eq!((status, refused["code"].as_str()), (404, Some("not_found")));
    // Without a session, nothing.
    let anonymous = reqwest::get(server.url(&path)).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

#[tokio::test]
async fn an_html_or_svg_file_is_downloaded_never_shown_and_a_fake_image_is_not_an_image() {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let (status, html) = upload(&alice, conversation, "evil.html", "text/html", page.clone()).await;
    assert_eq!(status, 201, "{html}");
    assert_eq!(html["content_type"], "text/html");
    assert!(html.get("width").is_none(), "{html}");
    let (_, svg) = upload(
        &alice,
        conversation,
        "evil.svg",
        "image/svg+xml",
        b"<svg onload='alert(1)'/>".to_vec(),
    )
    .await;
    // Declared a PNG, but its bytes are not one.
    let (_, fake) = upload(&alice, conversation, "fake.png", "image/png", page.clone()).await;
    assert_eq!(fake["content_type"], "application/octet-stream");
    assert!(fake.get("width").is_none(), "{fake}");
    let ids: Vec<&str> = [&html, &svg, &fake]
        .iter()
        .map(|a| a["attachment_id"].as_str().unwrap())
        .collect();
    let mut ws = alice.ws().await;
    sent(
        &mut ws,
        &with_files(&alice, conversation, &message_id(), "files", &ids),
    )
    .await;
    for id in &ids {
        let (status, headers, body) = fetch(&bob, &format!("/api/v1/attachments/{id}"), &[]).await;
        assert_eq!(status, 200);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        assert!(!body.is_empty());
        // Not an image: no thumbnail.
        assert_eq!(
            fetch(&bob, &format!("/api/v1/attachments/{id}/thumb"), &[])
                .await
                .0,
            404
        );
    }
}

#[tokio::test]
async fn an_upload_is_sent_once_by_its_uploader_in_its_conversation_all_or_none() {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let elsewhere = server
        .conversation(&alice, &[&server.user("dan").await])
        .await;
    let (_, first) = upload(&alice, conversation, "a.txt", "text/plain", b"a".to_vec()).await;
    let (_, second) = upload(&alice, conversation, "b.txt", "text/plain", b"b".to_vec()).await;
    let (_, other) = upload(&alice, elsewhere, "c.txt", "text/plain", b"c".to_vec()).await;
    let (a, b, c) = (
        first["attachment_id"].as_str().unwrap(),
        second["attachment_id"].as_str().unwrap(),
        other["attachment_id"].as_str().unwrap(),
    );
    let mut alice_ws = alice.ws().await;
    let mut bob_ws = bob.ws().await;
    // Another conversation's upload (with one of this one's): refused, and
    // neither is claimed.
    let refused_id = message_id();
    alice_ws
        .send_json(&with_files(&alice, conversation, &refused_id, "x", &[a, c]))
        .await;
    let refusal = alice_ws.expect_error("not_found").await;
    assert_eq!(refusal["payload"]["field"], "attachments");
    assert_eq!(refusal["payload"]["message_id"], refused_id.as_str());
    // Someone else's upload.
    bob_ws
        .send_json(&with_files(&bob, conversation, &message_id(), "x", &[a]))
        .await;
    bob_ws.expect_error("not_found").await;
    // Sent, then retried with the same id: one message.
    let message = message_id();
    let frame = with_files(&alice, conversation, &message, "two files", &[a, b]);
    sent(&mut alice_ws, &frame).await;
    let received = bob_ws.expect_event("message.receive").await;
    assert_eq!(
        received["attachments"],
        json!([first, second]),
        "in the order named"
    );
    sent(&mut alice_ws, &frame).await;
    bob_ws
        .expect_silence(std::time::Duration::from_millis(300))
        .await;
    // The same upload with another message: a conflict.
    alice_ws
        .send_json(&with_files(
            &alice,
            conversation,
            &message_id(),
            "again",
            &[b],
        ))
        .await;
    let taken = alice_ws.expect_error("conflict").await;
    assert_eq!(taken["payload"]["field"], "attachments");
    // Malformed lists never reach the database.
    for files in [vec![c, c], vec![c; 11]] {
        alice_ws
            .send_json(&with_files(&alice, elsewhere, &message_id(), "x", &files))
            .await;
        let invalid = alice_ws.expect_error("invalid_payload").await;
        assert_eq!(invalid["payload"]["field"], "attachments", "{invalid}");
    }
    // Neither text nor files.
    alice_ws
        .send_json(&with_files(&alice, conversation, &message_id(), "", &[]))
        .await;
    let empty = alice_ws.expect_error("invalid_payload").await;
    assert_eq!(empty["payload"]["field"], "content");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    // The other conversation's upload is still free to send there.
    sent(
        &mut alice_ws,
        &with_files(&alice, elsewhere, &message_id(), "", &[c]),
    )
    .await;
}

#[tokio::test]
async fn deleting_a_message_deletes_its_files() {
    let data = std::env::temp_dir().join(format!("natter-test-{}", uuid::Uuid::now_v7().simple()));
    let server = TestServer::start_with(&[("NATTER_DATA_DIR", data.to_str().unwrap())]).await;
    let (alice, bob, conversation) = pair(&server).await;
    let (_, photo) = upload(&alice, conversation, "p.png", "image/png", png(64, 64)).await;
    let id = photo["attachment_id"].as_str().unwrap().to_owned();
    let mut ws = alice.ws().await;
    let message = message_id();
    sent(
        &mut ws,
        &with_files(&alice, conversation, &message, "soon gone", &[&id]),
    )
    .await;
    let path = format!("/api/v1/attachments/{id}");
    assert_eq!(fetch(&bob, &path, &[]).await.0, 200);
    let action = crate::actions::action_id();
    crate::actions::acked(
        &mut ws,
        &crate::actions::delete(&action, conversation, &message),
    )
    .await;
    assert_eq!(fetch(&bob, &path, &[]).await.0, 404);
    assert_eq!(fetch(&alice, &path, &[]).await.0, 404);
    assert_eq!(fetch(&bob, &format!("{path}/thumb"), &[]).await.0, 404);
    let page: Value = bob
        .get(&format!("/api/v1/chat/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(page["messages"][0].get("attachments").is_none(), "{page}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM attachments")
        .fetch_one(&server.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    // And the bytes are gone from the store (the default: a folder).
    let folder = data.join("attachments");
    assert!(folder.is_dir());
    crate::common::chatter::wait_until(
        "the objects are deleted",
        std::time::Duration::from_secs(5),
        || std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0) == 0,
    )
    .await;
}
