//! `page`: the server-rendered pages a signed-in person opens (the inbox
//! with 200 conversations, a conversation with 50 messages) under 50
//! concurrent clients, then the same pages in Chromium on a slow mobile
//! network: how long until they are usable, on a first and a repeat visit,
//! and how many bytes each costs.

use super::{Ctx, per_second};
use crate::Res;
use crate::client::{User, Ws, message_id, send_frame};
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::SinkExt;
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

const CHATS: usize = 200;
const MESSAGES: usize = 50;
const CLIENTS: usize = 50;
/// Requests per client per page.
const ROUNDS: usize = 20;
/// Browser runs per page (the median is reported).
const BROWSER_RUNS: usize = 3;

pub async fn page(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let others = ctx.users(CHATS).await?;
    let me = ctx.fresh_user().await?;
    progress(&format!(
        "one user in {CHATS} direct chats, one of them with {MESSAGES} messages"
    ));
    let mut chats = Vec::with_capacity(CHATS);
    for other in &others {
        chats.push(ctx.api.conversation(&me, &[other], None).await?);
    }
    let mut ws = ctx.api.ws(&me, None).await?;
    let long = chats[0].clone();
    for (k, chat) in chats.iter().enumerate().rev() {
        send_and_ack(&mut ws, &me, chat, &format!("the last word in chat {k}")).await?;
    }
    let mut newest = String::new();
    for k in 1..MESSAGES {
        newest = format!("message {k} of the long conversation, a line of the usual length");
        send_and_ack(&mut ws, &me, &long, &newest).await?;
    }
    drop(ws);
    let conversation_path = format!("/c/{long}");

    progress(&format!(
        "{CLIENTS} clients, each asking for both pages {ROUNDS} times"
    ));
    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let api = ctx.api.clone();
        let me = me.clone();
        let conversation_path = conversation_path.clone();
        clients.push(tokio::spawn(async move {
            let (mut inbox, mut conversation) = (histogram(), histogram());
            let (mut inbox_sent, mut conversation_sent) = (0, 0);
            for _ in 0..ROUNDS {
                let (took, body) = api.page(&me, "/", true).await?;
                record(&mut inbox, took);
                inbox_sent = body.len();
                let (took, body) = api.page(&me, &conversation_path, true).await?;
                record(&mut conversation, took);
                conversation_sent = body.len();
            }
            Ok::<_, crate::Error>((inbox, conversation, inbox_sent, conversation_sent))
        }));
    }
    let mut inbox_ttfb = histogram();
    let mut conversation_ttfb = histogram();
    let (mut inbox_sent, mut conversation_sent) = (0, 0);
    for client in clients {
        let (inbox, conversation, a, b) = client.await??;
        inbox_ttfb.add(&inbox)?;
        conversation_ttfb.add(&conversation)?;
        (inbox_sent, conversation_sent) = (a, b);
    }
    let elapsed = started.elapsed();
    let usage = ctx.target.probe.finish(&snapshot);

    // What the pages hold, read once more without compression.
    let mut problems = Vec::new();
    let inbox_html = String::from_utf8(ctx.api.page(&me, "/", false).await?.1)?;
    let rows = inbox_html.matches(r#"data-testid="inbox-row""#).count();
    if rows != CHATS {
        problems.push(format!(
            "the inbox page shows {rows} conversations of {CHATS}"
        ));
    }
    let conversation_html =
        String::from_utf8(ctx.api.page(&me, &conversation_path, false).await?.1)?;
    if !conversation_html.contains(&newest) {
        problems.push("the conversation page lacks its newest message".to_owned());
    }
    let (inbox_bytes, conversation_bytes) = (inbox_html.len(), conversation_html.len());

    let mut outcome = Outcome::new("page", "inbox page TTFB");
    outcome.count = inbox_ttfb.len() + conversation_ttfb.len();
    outcome.rate = Some(per_second(outcome.count, elapsed));
    outcome.latency = Latency::of(&inbox_ttfb);
    outcome.usage = Some(usage);
    outcome.figure("clients", CLIENTS);
    outcome.figure("inbox_html_bytes", inbox_bytes);
    outcome.figure("conversation_html_bytes", conversation_bytes);
    outcome.figure("inbox_sent_bytes", inbox_sent);
    outcome.figure("conversation_sent_bytes", conversation_sent);
    let conversation = Latency::of(&conversation_ttfb);
    if let Some(l) = conversation {
        outcome.figure("conversation_ttfb_p50_ms", round(l.p50));
        outcome.figure("conversation_ttfb_p99_ms", round(l.p99));
    }
    outcome.expect("pages", &problems);

    progress(&format!(
        "the same pages in Chromium on Fast 3G, {BROWSER_RUNS} runs each, first and repeat visits"
    ));
    let browser = match in_browser(&ctx.target.base, &me, &["/", &conversation_path]) {
        Ok(browser) => browser,
        Err(e) => {
            outcome.expect("browser", &[e.to_string()]);
            return Ok(outcome);
        }
    };
    let mut notes = vec![format!(
        "{CLIENTS} clients, brotli accepted; pages {} KB / {} KB of HTML, {} KB / {} KB sent; \
         conversation page TTFB p50 {} / p99 {} ms",
        inbox_bytes / 1000,
        conversation_bytes / 1000,
        inbox_sent / 1000,
        conversation_sent / 1000,
        conversation.map_or(f64::NAN, |l| round(l.p50)),
        conversation.map_or(f64::NAN, |l| round(l.p99)),
    )];
    for (path, name) in [
        ("/".to_owned(), "inbox"),
        (conversation_path, "conversation"),
    ] {
        let mut said = Vec::new();
        for visit in ["first", "repeat"] {
            let figures = &browser["pages"][&path][visit];
            for key in ["interactive_ms", "hydrated_ms", "bytes", "wasm_bytes"] {
                outcome.figure(&format!("{visit}_{name}_{key}"), figures[key].clone());
            }
            said.push(format!(
                "{visit} {:.1} s, {} KB",
                figures["interactive_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0,
                figures["bytes"].as_f64().unwrap_or(f64::NAN) / 1000.0
            ));
        }
        notes.push(format!("{name} on Fast 3G: {}", said.join(", ")));
    }
    if outcome.ok {
        outcome.check = format!("{CHATS} conversations and the newest message in every page");
    }
    outcome.note = notes.join("; ");
    Ok(outcome)
}

/// Sends one message and waits for its ack.
async fn send_and_ack(ws: &mut Ws, user: &User, chat: &str, body: &str) -> Res<()> {
    let id = message_id();
    ws.send(send_frame(chat, user, &id, body)).await?;
    loop {
        let frame = super::expect_frame(ws).await?;
        match frame.event.as_str() {
            "message.ack" if frame.payload.message_id.as_deref() == Some(&id) => return Ok(()),
            "error" => {
                return Err(
                    format!("send refused: {}", frame.payload.code.unwrap_or_default()).into(),
                );
            }
            _ => {}
        }
    }
}

/// `end2end/page-load.mjs` in Debian's Chromium: its JSON.
fn in_browser(base: &str, me: &User, paths: &[&str]) -> Res<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("end2end");
    let output = std::process::Command::new("node")
        .current_dir(&dir)
        .arg("page-load.mjs")
        .arg(base)
        .arg(&me.token)
        .arg(BROWSER_RUNS.to_string())
        .args(paths)
        .output()
        .map_err(|e| format!("running node end2end/page-load.mjs: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("{stderr}");
        let reason = stderr
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or("see its output above");
        return Err(format!("end2end/page-load.mjs failed: {reason}").into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}
