//! `soak` (issue 17): the `deliver` pattern held for minutes (50 senders,
//! each with a receiver in a direct chat, open loop at `--soak-rate` msgs/s
//! in all for `--soak-seconds`), reported per 10-second window: send→ack
//! and send→receive percentiles, the generator's own lag, and what
//! PostgreSQL did in the same window (checkpoints, WAL fsyncs and their
//! mean time, commits), so that a stall can be put down to natter,
//! PostgreSQL, the disk or the generator.
//!
//! Each message id carries the microsecond it was sent at, so the ack and
//! the receipt are timed without any shared map.

use super::{Ctx, PATIENCE};
use crate::client::{self, User, Ws};
use crate::report::{Latency, Outcome, histogram, progress};
use crate::{Res, client::send_frame};
use futures::StreamExt;
use hdrhistogram::Histogram;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PAIRS: usize = 50;
const WINDOW: Duration = Duration::from_secs(10);
/// How often the generator checks how late its own timer fires.
const LAG_TICK: Duration = Duration::from_millis(10);

/// One histogram per window.
struct Windows(Vec<Histogram<u64>>);

impl Windows {
    fn new(count: usize) -> Self {
        Self((0..count).map(|_| histogram()).collect())
    }

    fn record(&mut self, sent_us: u64, latency_us: u64) {
        let last = self.0.len().saturating_sub(1);
        let window = ((sent_us / WINDOW.as_micros() as u64) as usize).min(last);
        if let Some(h) = self.0.get_mut(window) {
            h.saturating_record(latency_us.max(1));
        }
    }

    fn add(&mut self, other: &Windows) -> Res<()> {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            mine.add(theirs)?;
        }
        Ok(())
    }

    fn all(&self) -> Res<Histogram<u64>> {
        let mut all = histogram();
        for h in &self.0 {
            all.add(h)?;
        }
        Ok(all)
    }
}

/// `msg_<µs since the epoch of the run>_<sender>_<k>`: when it was sent.
fn sent_at(id: &str) -> Option<u64> {
    id.strip_prefix("msg_")?.split('_').next()?.parse().ok()
}

struct Sent {
    ids: Vec<String>,
    acks: Windows,
    errors: Vec<String>,
}

/// Sends at a fixed pace whatever the server does (a late tick is caught
/// up at once), timing each ack on the side.
async fn sender(
    ws: Ws,
    user: User,
    chat: String,
    (epoch, first, every, count, windows): (Instant, Duration, Duration, usize, usize),
    number: usize,
) -> Res<Sent> {
    let (mut sink, mut stream) = ws.split();
    let acks = tokio::spawn(async move {
        let (mut acks, mut errors, mut answered) = (Windows::new(windows), Vec::new(), 0);
        while answered < count {
            let Ok(Ok(Some(frame))) =
                tokio::time::timeout(PATIENCE, client::next_frame(&mut stream)).await
            else {
                break;
            };
            let now = epoch.elapsed().as_micros() as u64;
            match frame.event.as_str() {
                "message.ack" => {
                    answered += 1;
                    if let Some(at) = frame.payload.message_id.as_deref().and_then(sent_at) {
                        acks.record(at, now.saturating_sub(at));
                    }
                }
                "error" => {
                    answered += 1;
                    errors.push(frame.payload.code.unwrap_or_default());
                }
                _ => {}
            }
        }
        (acks, errors)
    });
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::from_std(epoch + first), every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut ids = Vec::with_capacity(count);
    for k in 0..count {
        ticks.tick().await;
        let id = format!("msg_{}_{number}_{k}", epoch.elapsed().as_micros());
        client::send(
            &mut sink,
            send_frame(
                &chat,
                &user,
                &id,
                "a soak test message, about as long as a chat line",
            ),
        )
        .await?;
        ids.push(id);
    }
    let (acks, errors) = acks.await?;
    Ok(Sent { ids, acks, errors })
}

/// Reads `message.receive` until `expected` have come, or nothing has for
/// [`PATIENCE`].
async fn receiver(
    ws: Ws,
    epoch: Instant,
    expected: usize,
    windows: usize,
) -> Res<(Vec<String>, Windows)> {
    let (_sink, mut stream) = ws.split();
    let (mut ids, mut latency) = (Vec::with_capacity(expected), Windows::new(windows));
    while ids.len() < expected {
        let Ok(Ok(Some(frame))) =
            tokio::time::timeout(PATIENCE, client::next_frame(&mut stream)).await
        else {
            break;
        };
        if frame.event != "message.receive" {
            continue;
        }
        let now = epoch.elapsed().as_micros() as u64;
        if let Some(id) = frame.payload.message_id {
            if let Some(at) = sent_at(&id) {
                latency.record(at, now.saturating_sub(at));
            }
            ids.push(id);
        }
    }
    Ok((ids, latency))
}

/// How late the generator's own 10 ms timer fires, worst per window (µs):
/// a stall here is the generator's, not the server's.
async fn lag(epoch: Instant, windows: usize) -> Vec<u64> {
    let mut worst = vec![0u64; windows];
    let mut next = tokio::time::Instant::from_std(epoch) + LAG_TICK;
    let end = tokio::time::Instant::from_std(epoch) + WINDOW * windows as u32;
    while next < end {
        tokio::time::sleep_until(next).await;
        let late = tokio::time::Instant::now()
            .saturating_duration_since(next)
            .as_micros() as u64;
        let window = ((next - tokio::time::Instant::from_std(epoch)).as_micros()
            / WINDOW.as_micros()) as usize;
        if let Some(w) = worst.get_mut(window) {
            *w = (*w).max(late);
        }
        next += LAG_TICK;
    }
    worst
}

/// PostgreSQL's counters at one moment.
#[derive(Clone, Copy, Default)]
struct PgCounters {
    checkpoints: i64,
    checkpoint_write_ms: f64,
    checkpoint_sync_ms: f64,
    wal_syncs: i64,
    wal_sync_ms: f64,
    wal_bytes: f64,
    commits: i64,
}

async fn pg_counters(db: &PgPool) -> Option<PgCounters> {
    let row: Result<(i64, f64, f64, i64, f64, f64, i64), _> = sqlx::query_as(
        "SELECT (b.checkpoints_timed + b.checkpoints_req)::int8, b.checkpoint_write_time, \
                b.checkpoint_sync_time, w.wal_sync::int8, w.wal_sync_time, w.wal_bytes::float8, \
                (SELECT xact_commit::int8 FROM pg_stat_database WHERE datname = current_database()) \
         FROM pg_stat_bgwriter b, pg_stat_wal w",
    )
    .fetch_one(db)
    .await;
    match row {
        Ok((checkpoints, cw, cs, syncs, sync_ms, bytes, commits)) => Some(PgCounters {
            checkpoints,
            checkpoint_write_ms: cw,
            checkpoint_sync_ms: cs,
            wal_syncs: syncs,
            wal_sync_ms: sync_ms,
            wal_bytes: bytes,
            commits,
        }),
        Err(e) => {
            eprintln!("load: reading PostgreSQL's counters: {e}");
            None
        }
    }
}

/// Samples the counters at every window's end.
async fn pg_sampler(db: PgPool, epoch: Instant, windows: usize) -> Vec<Option<PgCounters>> {
    let mut samples = vec![pg_counters(&db).await];
    for w in 1..=windows {
        tokio::time::sleep_until(tokio::time::Instant::from_std(epoch) + WINDOW * w as u32).await;
        samples.push(pg_counters(&db).await);
    }
    samples
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn quantiles(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "- | - | - | -".into();
    }
    format!(
        "{:.1} | {:.1} | {:.1} | {:.1}",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max())
    )
}

pub async fn soak(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let (rate, seconds) = (ctx.options.soak_rate, ctx.options.soak_seconds);
    let users = ctx.users(PAIRS * 2).await?;
    let mut chats = Vec::with_capacity(PAIRS);
    for pair in users.chunks(2) {
        chats.push(ctx.api.conversation(&pair[0], &[&pair[1]], None).await?);
    }
    let mut sockets = Vec::with_capacity(users.len());
    for user in &users {
        sockets.push(ctx.api.ws(user, None).await?);
    }
    let db = ctx.db().await.cloned();
    if let (Some(db), None) = (&db, &ctx.options.url) {
        // The benchmark's own cluster: time each WAL fsync.
        let _ = sqlx::raw_sql("ALTER SYSTEM SET track_wal_io_timing = on")
            .execute(db)
            .await;
        let _ = sqlx::raw_sql("SELECT pg_reload_conf()").execute(db).await;
    }
    let windows = seconds.div_ceil(WINDOW.as_secs()) as usize;
    let per_sender = (rate * seconds as f64 / PAIRS as f64).round() as usize;
    let every = Duration::from_secs_f64(PAIRS as f64 / rate);
    progress(&format!(
        "{PAIRS} senders at {rate} msgs/s in all for {seconds} s, reported every {} s",
        WINDOW.as_secs()
    ));

    let snapshot = ctx.target.probe.start();
    let epoch = Instant::now() + Duration::from_millis(200);
    let sampler = db.map(|db| tokio::spawn(pg_sampler(db, epoch, windows)));
    let lagger = tokio::spawn(lag(epoch, windows));
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let pair = i / 2;
        if i % 2 == 0 {
            let first = every.mul_f64(pair as f64 / PAIRS as f64);
            senders.push(tokio::spawn(sender(
                ws,
                users[i].clone(),
                chats[pair].clone(),
                (epoch, first, every, per_sender, windows),
                pair,
            )));
        } else {
            receivers.push(tokio::spawn(receiver(ws, epoch, per_sender, windows)));
        }
    }
    let mut sent = Vec::new();
    for task in senders {
        sent.push(task.await??);
    }
    let mut received = Vec::new();
    for task in receivers {
        received.push(task.await??);
    }
    let usage = ctx.target.probe.finish(&snapshot);
    let lag = lagger.await?;
    let pg = match sampler {
        Some(task) => task.await?,
        None => Vec::new(),
    };

    let (mut acks, mut receipts) = (Windows::new(windows), Windows::new(windows));
    let (mut lost, mut doubled, mut errors, mut sent_count) = (0, 0, Vec::new(), 0);
    let mut sent_per_window = vec![0u64; windows];
    for (s, (ids, latency)) in sent.iter().zip(&received) {
        acks.add(&s.acks)?;
        receipts.add(latency)?;
        errors.extend(s.errors.iter().cloned());
        sent_count += s.ids.len();
        for id in &s.ids {
            if let Some(at) = sent_at(id) {
                let w = ((at / WINDOW.as_micros() as u64) as usize).min(windows - 1);
                sent_per_window[w] += 1;
            }
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
        lost += s
            .ids
            .iter()
            .filter(|id| !counts.contains_key(id.as_str()))
            .count();
        doubled += counts.values().map(|n| n - 1).sum::<usize>();
    }

    // The windows, as a table on stderr (the JSON line and the summary
    // table stay one row).
    let mut table = String::from(
        "\n| window | sent | ack p50 | ack p99 | ack p99.9 | ack max | receive p50 | receive p99 | receive p99.9 | receive max | generator lag max | checkpoints | WAL fsyncs | fsync mean ms | WAL MB | commits |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut receive_p99 = Vec::new();
    for w in 0..windows {
        let delta = match (
            pg.get(w).copied().flatten(),
            pg.get(w + 1).copied().flatten(),
        ) {
            (Some(a), Some(b)) => {
                let syncs = b.wal_syncs - a.wal_syncs;
                format!(
                    "{}{} | {syncs} | {} | {:.1} | {}",
                    b.checkpoints - a.checkpoints,
                    if b.checkpoint_write_ms + b.checkpoint_sync_ms
                        > a.checkpoint_write_ms + a.checkpoint_sync_ms
                    {
                        " (writing)"
                    } else {
                        ""
                    },
                    if syncs > 0 && b.wal_sync_ms > a.wal_sync_ms {
                        format!("{:.2}", (b.wal_sync_ms - a.wal_sync_ms) / syncs as f64)
                    } else {
                        "-".into()
                    },
                    (b.wal_bytes - a.wal_bytes) / 1e6,
                    b.commits - a.commits
                )
            }
            _ => "- | - | - | - | -".into(),
        };
        receive_p99.push(receipts.0[w].value_at_quantile(0.99));
        table.push_str(&format!(
            "| {}–{} s | {} | {} | {} | {:.1} | {delta} |\n",
            w as u64 * WINDOW.as_secs(),
            (w as u64 + 1) * WINDOW.as_secs(),
            sent_per_window[w],
            quantiles(&acks.0[w]),
            quantiles(&receipts.0[w]),
            ms(lag[w]),
        ));
    }
    eprintln!("{table}");

    let all_receipts = receipts.all()?;
    let all_acks = acks.all()?;
    let mut outcome = Outcome::new("soak", "send→receive");
    outcome.count = all_receipts.len();
    outcome.rate = Some(sent_count as f64 / seconds as f64);
    outcome.latency = Latency::of(&all_receipts);
    outcome.usage = Some(usage);
    outcome.figure("sent", sent_count);
    outcome.figure("lost", lost);
    outcome.figure("duplicated", doubled);
    outcome.figure("errors", errors.len());
    outcome.figure("seconds", seconds);
    outcome.figure("receive_p999_ms", ms(all_receipts.value_at_quantile(0.999)));
    outcome.figure("ack_p99_ms", ms(all_acks.value_at_quantile(0.99)));
    outcome.figure("ack_p999_ms", ms(all_acks.value_at_quantile(0.999)));
    outcome.figure("ack_max_ms", ms(all_acks.max()));
    outcome.figure(
        "generator_lag_max_ms",
        ms(lag.iter().copied().max().unwrap_or(0)),
    );
    outcome.figure(
        "worst_window_receive_p99_ms",
        ms(receive_p99.iter().copied().max().unwrap_or(0)),
    );
    outcome.expect("errors", &errors);
    if lost + doubled > 0 {
        outcome.expect("delivered", &[format!("{lost} lost, {doubled} duplicated")]);
    }
    if outcome.ok {
        outcome.check = "0 lost, 0 duplicated, all acked".into();
    }
    outcome.note = format!(
        "open loop at {rate:.0}/s for {seconds} s; send→receive p99.9 {:.1} ms; ack max {:.0} ms; generator lag max {:.1} ms; per-window table on stderr",
        ms(all_receipts.value_at_quantile(0.999)),
        ms(all_acks.max()),
        ms(lag.iter().copied().max().unwrap_or(0))
    );
    Ok(outcome)
}
