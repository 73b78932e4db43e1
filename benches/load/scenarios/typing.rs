//! `typing` (issue 13): a group of 100, everyone connected and everyone
//! typing, each sending `typing` every 3 s (the web client's rate), spread
//! evenly. Timed from a notice leaving its typist to each other member
//! having it. The database's transactions over the run are counted: a
//! typing notice is never stored, and membership comes from the cache, so
//! the only ones are the server's own chores (session checks, presence
//! among nodes): the same window with nobody typing is counted first, and
//! what typing adds to it is the figure.

use super::Ctx;
use crate::Res;
use crate::client;
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 100;
/// How often each member says it types (the web client's `REPEAT_EVERY_MS`).
const EVERY: Duration = Duration::from_secs(3);
const RUN: Duration = Duration::from_secs(15);
/// How long late notices are waited for after the run.
const DRAIN: Duration = Duration::from_millis(500);

pub async fn typing(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    // Connected now, so that its own first statements are counted (and
    // flushed) long before the run.
    ctx.db().await;
    let users = ctx.users(MEMBERS).await?;
    let others: Vec<&client::User> = users[1..].iter().collect();
    let group = ctx
        .api
        .conversation(&users[0], &others, Some("typing"))
        .await?;
    let index: Arc<HashMap<String, usize>> = Arc::new(
        users
            .iter()
            .enumerate()
            .map(|(n, u)| (u.id.clone(), n))
            .collect(),
    );
    // Every member's socket reports each notice it hears: (typist, member,
    // when).
    let (heard_tx, mut heard) = mpsc::unbounded_channel::<(usize, usize, Instant)>();
    let mut sinks = Vec::with_capacity(MEMBERS);
    let mut readers = Vec::with_capacity(MEMBERS);
    for (member, user) in users.iter().enumerate() {
        let (sink, mut stream) = ctx.api.ws(user, None).await?.split();
        sinks.push(sink);
        let (heard, index) = (heard_tx.clone(), index.clone());
        readers.push(tokio::spawn(async move {
            while let Ok(Some(frame)) = client::next_frame(&mut stream).await {
                if frame.event != "typing" {
                    continue;
                }
                let typist = frame.payload.user_id.as_ref().and_then(|u| index.get(u));
                if let Some(&typist) = typist {
                    let _ = heard.send((typist, member, Instant::now()));
                }
            }
        }));
    }
    drop(heard_tx);
    let notice = Message::Text(
        serde_json::json!({"event": "typing", "payload": {"conversation_id": group}})
            .to_string()
            .into(),
    );

    // Once unmeasured: the node caches the group's members.
    client::send(&mut sinks[0], notice.clone()).await?;
    for _ in 1..MEMBERS {
        tokio::time::timeout(Duration::from_secs(10), heard.recv())
            .await
            .map_err(|_| "the warm-up notice did not reach everyone")?;
    }
    progress(&format!(
        "counting the database's transactions with nobody typing for {} s",
        RUN.as_secs()
    ));
    let quiet_start = ctx.transactions().await;
    tokio::time::sleep(RUN + DRAIN).await;
    let before = ctx.transactions().await;
    progress(&format!(
        "{MEMBERS} members typing, one notice each every {} s, for {} s",
        EVERY.as_secs(),
        RUN.as_secs()
    ));
    let snapshot = ctx.target.probe.start();
    let mut sent_at = vec![None::<Instant>; MEMBERS];
    let mut each = histogram();
    let (mut sent, mut delivered, mut echoed) = (0u64, 0u64, 0u64);
    let mut tick = tokio::time::interval(EVERY / MEMBERS as u32);
    let started = Instant::now();
    let mut next = 0;
    let mut arrive = |(typist, member, at): (usize, usize, Instant),
                      sent_at: &[Option<Instant>]| {
        if typist == member {
            echoed += 1;
        } else if let Some(from) = sent_at[typist] {
            delivered += 1;
            record(&mut each, at.duration_since(from));
        }
    };
    while started.elapsed() < RUN {
        tokio::select! {
            _ = tick.tick() => {
                sent_at[next] = Some(Instant::now());
                client::send(&mut sinks[next], notice.clone()).await?;
                sent += 1;
                next = (next + 1) % MEMBERS;
            }
            Some(arrival) = heard.recv() => arrive(arrival, &sent_at),
        }
    }
    while let Ok(Some(arrival)) = tokio::time::timeout(DRAIN, heard.recv()).await {
        arrive(arrival, &sent_at);
    }
    let usage = ctx.target.probe.finish(&snapshot);
    let after = ctx.transactions().await;
    for reader in readers {
        reader.abort();
    }
    drop(sinks);

    let expected = sent * (MEMBERS as u64 - 1);
    let mut outcome = Outcome::new("typing", "notice to each other member");
    outcome.count = delivered;
    outcome.rate = Some(delivered as f64 / RUN.as_secs_f64());
    outcome.latency = Latency::of(&each);
    outcome.figure("members", MEMBERS);
    outcome.figure("notices", sent);
    outcome.figure("missed", expected.saturating_sub(delivered));
    outcome.figure("echoed_to_typist", echoed);
    if let Some(cpu) = usage.server_cpu_s {
        outcome.figure(
            "server_cpu_us_per_delivery",
            (cpu * 1e6 / delivered.max(1) as f64 * 100.0).round() / 100.0,
        );
    }
    if let (Some(quiet_start), Some(before), Some(after)) = (quiet_start, before, after) {
        // Each window less the benchmark's own count that opened it.
        let quiet = before - quiet_start - 1;
        let typing = after - before - 1;
        outcome.figure("db_transactions_quiet", quiet);
        outcome.figure("db_transactions", typing);
        outcome.figure(
            "db_transactions_per_notice",
            ((typing - quiet).max(0) as f64 / sent.max(1) as f64 * 10_000.0).round() / 10_000.0,
        );
    }
    outcome.usage = Some(usage);
    // A notice may be lost to a full queue by design; none should be here,
    // and none may reach the typist's own socket.
    let mut problems = Vec::new();
    if echoed > 0 {
        problems.push(format!("{echoed} notices echoed to the typist"));
    }
    if delivered < expected {
        problems.push(format!(
            "{} of {expected} deliveries missed",
            expected - delivered
        ));
    }
    outcome.expect("every other member heard each notice", &problems);
    if outcome.ok {
        outcome.check = "each other member heard each notice".into();
    }
    outcome.note = format!(
        "{sent} notices to {} members each; {} database transactions meanwhile, {} in as long with nobody typing",
        MEMBERS - 1,
        outcome
            .number("db_transactions")
            .map_or("-".into(), |x| format!("{x}")),
        outcome
            .number("db_transactions_quiet")
            .map_or("-".into(), |x| format!("{x}"))
    );
    Ok(outcome)
}
