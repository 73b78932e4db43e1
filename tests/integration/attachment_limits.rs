//! What an upload is held to (docs/protocol.md 1.4, 3.14): its size, known
//! before the body is read or found as it arrives; the uploader's budget
//! and day; images that would decode into too many pixels, and thumbnails
//! that keep nothing but pixels; uploads never sent; and the page's plain
//! form that carries files without JavaScript.

use crate::attachments::{fetch, pair, png, upload, with_files};
use crate::common::{TestServer, message_id};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn attachment_rows(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM attachments")
        .fetch_one(&server.db)
        .await
        .unwrap()
}

/// Sends only a request's header over a raw socket and reads what comes
/// back before any body is sent.
async fn answer_before_body(server: &TestServer, head: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_before_its_body_is_read_or_as_soon_as_it_grows_past_it() {
    let server = TestServer::start_with(&[("NATTER_MAX_ATTACHMENT_BYTES", "1000")]).await;
    let (alice, _, conversation) = pair(&server).await;
    let head = format!(
        "POST /api/v1/chat/{conversation}/attachments?name=big.bin HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 5000000\r\n\r\n",
        alice.token
    );
    let answer = answer_before_body(&server, &head).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    assert!(answer.contains("a file is at most 1000 bytes"), "{answer}");
    // No length given (chunked): refused once past the limit, nothing kept.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![7u8; 100])).collect();
    let response = alice
        .client()
        .post(server.url(&format!(
            "/api/v1/chat/{conversation}/attachments?name=big.bin"
        )))
        .bearer_auth(&alice.token)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("too_large"), Some("file"))
    );
    // Just under: stored.
    let (status, _) = upload(
        &alice,
        conversation,
        "ok.bin",
        "application/octet-stream",
        vec![1; 1000],
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(attachment_rows(&server).await, 1);
    // Empty: refused.
    let (status, empty) = upload(&alice, conversation, "e.bin", "text/plain", Vec::new()).await;
    assert_eq!((status, empty["field"].as_str()), (400, Some("file")));
}

#[tokio::test]
async fn an_image_that_would_decode_into_too_many_pixels_is_refused_and_nothing_is_kept() {
    let server = TestServer::start().await;
    let (alice, _, conversation) = pair(&server).await;
    // A PNG whose header says 100,000 × 100,000 (10 gigapixels, 30 GB of
    // pixels) in under a hundred bytes: a decompression bomb.
    let (status, refused) = upload(
        &alice,
        conversation,
        "bomb.png",
        "image/png",
        bomb(100_000, 100_000),
    )
    .await;
    assert_eq!(status, 413, "{refused}");
    assert_eq!(refused["code"], "too_large");
    assert_eq!(refused["field"], "file");
    assert_eq!(refused["message"], "the image is over 50000000 pixels");
    assert_eq!(attachment_rows(&server).await, 0);
    // The server is fine: a real photo goes through.
    let (status, _) = upload(&alice, conversation, "ok.png", "image/png", png(20, 20)).await;
    assert_eq!(status, 201);
}

/// A valid PNG header of `width` × `height` and a token of pixel data.
fn bomb(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn uploads_are_held_to_a_budget_and_to_a_daily_volume() {
    let server = TestServer::start_with(&[
        ("NATTER_UPLOAD_BUDGET", "{ per-minute = 1, burst = 3 }"),
        ("NATTER_UPLOAD_DAILY_BYTES", "1000"),
    ])
    .await;
    let (alice, bob, conversation) = pair(&server).await;
    let (status, _) = upload(&alice, conversation, "a", "text/plain", vec![b'a'; 600]).await;
    assert_eq!(status, 201);
    // Over the day's volume (600 + 500 > 1000), by its declared length.
    let (status, over) = upload(&alice, conversation, "b", "text/plain", vec![b'b'; 500]).await;
    assert_eq!((status, over["code"].as_str()), (429, Some("rate_limited")));
    assert_eq!(over["field"], "file");
    let (status, _) = upload(&alice, conversation, "c", "text/plain", vec![b'c'; 400]).await;
    assert_eq!(status, 201);
    // Three uploads in a burst: the fourth waits.
    let (status, budget) = upload(&alice, conversation, "d", "text/plain", vec![b'd'; 1]).await;
    assert_eq!(status, 429);
    assert_eq!(budget["message"], "too many uploads; wait a moment");
    // One person's limits are not another's.
    let (status, _) = upload(&bob, conversation, "e", "text/plain", vec![b'e'; 900]).await;
    assert_eq!(status, 201);
    assert_eq!(attachment_rows(&server).await, 3);
}

#[tokio::test]
async fn an_upload_never_sent_is_deleted_and_cannot_be_sent_after() {
    let server = TestServer::start_with(&[("NATTER_UNSENT_UPLOAD_SECS", "1")]).await;
    let (alice, _, conversation) = pair(&server).await;
    let (_, photo) = upload(&alice, conversation, "p.png", "image/png", png(30, 30)).await;
    let id = photo["attachment_id"].as_str().unwrap().to_owned();
    let mut deadline = 50;
    while attachment_rows(&server).await > 0 {
        deadline -= 1;
        assert!(deadline > 0, "the unsent upload is still there after 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        fetch(&alice, &format!("/api/v1/attachments/{id}"), &[])
            .await
            .0,
        404
    );
    let mut ws = alice.ws().await;
    ws.send_json(&with_files(
        &alice,
        conversation,
        &message_id(),
        "late",
        &[&id],
    ))
    .await;
    ws.expect_error("not_found").await;
}

/// A `multipart/form-data` body of text fields and files.
fn form(boundary: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, content_type, bytes) in files {
        body.extend(format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        ).as_bytes());
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn a_multipart_upload_and_the_pages_plain_form_carry_files_without_javascript() {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let picture = png(80, 60);
    // The JSON API takes a multipart body too.
    let response = alice
        .client()
        .post(server.url(&format!("/api/v1/chat/{conversation}/attachments")))
        .bearer_auth(&alice.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(form("XyZ", &[], &[("a b.png", "image/png", &picture)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(
        (uploaded["name"].as_str(), uploaded["width"].as_u64()),
        (Some("a b.png"), Some(80))
    );

    // The composer's form, posted by a browser with the session cookie.
    let cookie = format!("natter_session={}", alice.token);
    let message = message_id();
    let post_from = |origin: &str, body: Vec<u8>| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(server.url(&format!("/c/{conversation}/send")))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("content-type", "multipart/form-data; boundary=B0und")
            .body(body)
    };
    let post = |body: Vec<u8>| post_from(&server.base, body);
    let fields = [
        ("conversation_id", conversation.to_string()),
        ("message_id", message.clone()),
        ("content", String::new()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut bob_ws = bob.ws().await;
    let sent = post(form(
        "B0und",
        &fields,
        &[
            ("cv.pdf", "application/pdf", b"%PDF-1.4 hello"),
            ("", "application/octet-stream", b""),
        ],
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(sent.status().as_u16(), 303);
    assert_eq!(
        sent.headers()["location"],
        format!("/c/{conversation}").as_str()
    );
    let received = bob_ws.expect_event("message.receive").await;
    assert_eq!(received["message_id"], message.as_str());
    assert_eq!(received["attachments"][0]["name"], "cv.pdf");
    assert_eq!(
        received["attachments"][0]["content_type"],
        "application/pdf"
    );
    assert_eq!(
        received["attachments"].as_array().unwrap().len(),
        1,
        "the empty file input is no file"
    );
    let id = received["attachments"][0]["attachment_id"]
        .as_str()
        .unwrap();
    let (status, headers, body) = fetch(&bob, &format!("/api/v1/attachments/{id}"), &[]).await;
    assert_eq!((status, body), (200, b"%PDF-1.4 hello".to_vec()));
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );

    // Neither text nor file: back to the page with the error, nothing sent.
    let fields = [("message_id", message_id()), ("content", String::new())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = post(form("B0und", &fields, &[])).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 303);
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/c/{conversation}?__path=/api/send&__err=")),
        "{location}"
    );
    bob_ws.expect_silence(Duration::from_millis(300)).await;
    // From another site: refused before anything is read.
    let forged = post_from("https://evil.example", form("B0und", &fields, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
}

/// A JPEG of `width` × `height` carrying an EXIF block with `secret` in it
/// (where a phone puts the GPS position).
fn jpeg_with_exif(width: u32, height: u32, secret: &[u8]) -> Vec<u8> {
    let picture =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85)
        .encode_image(&picture)
        .unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0".to_vec();
    exif.extend(secret);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend([0xff, 0xe1]);
    out.extend(((exif.len() + 2) as u16).to_be_bytes());
    out.extend(exif);
    out.extend(&plain[2..]);
    out
}

#[tokio::test]
async fn a_thumbnail_is_made_from_the_pixels_and_carries_none_of_the_photos_metadata() {
    let server = TestServer::start().await;
    let (alice, bob, conversation) = pair(&server).await;
    let secret = b"GPS 48.8584 N 2.2945 E";
    let photo = jpeg_with_exif(1000, 500, secret);
    let (status, uploaded) = upload(
        &alice,
        conversation,
        "eiffel.jpg",
        "image/jpeg",
        photo.clone(),
    )
    .await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(
        (uploaded["width"].as_u64(), uploaded["height"].as_u64()),
        (Some(1000), Some(500))
    );
    let id = uploaded["attachment_id"].as_str().unwrap().to_owned();
    let mut ws = alice.ws().await;
    ws.send_and_ack(&with_files(&alice, conversation, &message_id(), "", &[&id]))
        .await;
    let contains = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret);
    // The original is the sender's to share as it is...
    let (_, _, original) = fetch(&bob, &format!("/api/v1/attachments/{id}"), &[]).await;
    assert!(contains(&original));
    // ...the thumbnail everyone's page loads has none of it.
    let (status, _, thumb) = fetch(&bob, &format!("/api/v1/attachments/{id}/thumb"), &[]).await;
    assert_eq!(status, 200);
    assert!(!contains(&thumb), "the thumbnail kept the EXIF block");
    let small = image::load_from_memory(&thumb).unwrap();
    assert_eq!((small.width(), small.height()), (400, 200));
}
