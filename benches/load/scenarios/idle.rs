//! `idle`: thousands of open, silent WebSockets: what each costs the server
//! in memory, and what keeping them costs in CPU.

use super::{Ctx, per_second};
use crate::Res;
use crate::probe::open_files_limit;
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Connections per user (the server allows 32 per user).
const PER_USER: usize = 30;
/// Handshakes in flight at once.
const OPENING_AT_ONCE: usize = 64;
/// Source addresses 127.0.0.1 to 127.0.0.8: each has its own ephemeral
/// ports, so the connections never run short of them.
const SOURCES: u8 = 8;

pub async fn idle(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let count = ctx.options.idle_connections;
    let watch = Duration::from_secs(ctx.options.idle_seconds);
    if let Some(limit) = open_files_limit() {
        let needed = count as u64 + 1000;
        if limit < needed {
            return Err(format!(
                "{count} connections need about {needed} open files and the limit is {limit}: \
                 run through .ci/bench (which raises it), or `ulimit -n 65536` first"
            )
            .into());
        }
    }
    let users = ctx.users(count.div_ceil(PER_USER)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = ctx.target.probe.server_rss_kb();
    progress(&format!("opening {count} WebSockets"));

    let opening = ctx.target.probe.start();
    let started = Instant::now();
    let api = &ctx.api;
    let users = &users;
    let opened: Vec<Res<(tokio::task::JoinHandle<()>, Duration)>> = futures::stream::iter(0..count)
        .map(|i| async move {
            let source = Ipv4Addr::new(127, 0, 0, 1 + (i % SOURCES as usize) as u8);
            let t0 = Instant::now();
            let ws = api.ws(&users[i / PER_USER], Some(source)).await?;
            let took = t0.elapsed();
            // Reading answers the server's pings; nothing else arrives.
            let reader = tokio::spawn(async move {
                let (_sink, mut stream) = ws.split();
                while let Some(Ok(_)) = stream.next().await {}
            });
            Ok((reader, took))
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await;
    let opening_time = started.elapsed();
    let opening_usage = ctx.target.probe.finish(&opening);
    let mut handshakes = histogram();
    let mut readers = Vec::with_capacity(count);
    let mut failures = Vec::new();
    for result in opened {
        match result {
            Ok((reader, took)) => {
                record(&mut handshakes, took);
                readers.push(reader);
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    let open = readers.len();
    // Let the server settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = ctx.target.probe.server_rss_kb();
    progress(&format!(
        "{open} open; watching them idle for {} s",
        watch.as_secs()
    ));

    let idling = ctx.target.probe.start();
    tokio::time::sleep(watch).await;
    let usage = ctx.target.probe.finish(&idling);
    let dropped = readers.iter().filter(|r| r.is_finished()).count();
    for reader in &readers {
        reader.abort();
    }

    let mut outcome = Outcome::new("idle", "handshake");
    outcome.count = open as u64;
    outcome.rate = Some(per_second(open as u64, opening_time));
    outcome.latency = Latency::of(&handshakes);
    outcome.figure("connections", open);
    outcome.figure("failed", failures.len());
    outcome.figure("dropped_while_idle", dropped);
    if let (Some(before), Some(after)) = (before, after) {
        let bytes = (after.saturating_sub(before) * 1024) as f64 / open.max(1) as f64;
        outcome.figure("server_rss_before_mb", (before as f64 / 1024.0).round());
        outcome.figure("server_rss_after_mb", (after as f64 / 1024.0).round());
        outcome.figure("bytes_per_connection", bytes.round());
        outcome.figure("kb_per_connection", (bytes / 100.0).round() / 10.0);
    }
    outcome.figure("idle_seconds", watch.as_secs());
    if let Some(cpu) = usage.server_cpu_s {
        outcome.figure(
            "idle_server_cpu_percent",
            (cpu / usage.wall_s * 100.0 * 100.0).round() / 100.0,
        );
    }
    outcome.figure("opening_server_cpu_s", opening_usage.server_cpu_s);
    outcome.usage = Some(usage);
    outcome.expect("connections", &failures);
    if dropped > 0 {
        outcome.expect("idle", &[format!("{dropped} closed while idle")]);
    }
    if outcome.ok {
        outcome.check = format!("{open} open, none dropped");
    }
    outcome.note = format!(
        "{} KB/connection; server CPU idle {}% of a core",
        outcome
            .number("kb_per_connection")
            .map_or("-".into(), |x| format!("{x:.1}")),
        outcome
            .number("idle_server_cpu_percent")
            .map_or("-".into(), |x| format!("{x:.2}"))
    );
    Ok(outcome)
}
