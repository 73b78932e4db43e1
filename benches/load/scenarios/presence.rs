//! `presence` (issue 13): 5,000 users (`--presence-users`) connected, each
//! following the 50 others of its group (51 consecutive users in one
//! conversation; the last group ends at the last user, so it overlaps the
//! one before), then waves of disconnects: in wave `w` every user whose
//! index is `w` modulo [`WAVES`] closes its socket (a fifth of each group,
//! so most followers stay connected), and once every follower still
//! connected has heard them go offline, they reconnect and follow again.
//!
//! Timed from each change to each follower that hears it: an offline one
//! from the close plus natter's grace ([`PRESENCE_GRACE_MS`], which the
//! benchmark's own server is started with), an online one from the moment
//! before reconnecting (so it includes the handshake). The rows of `users`
//! updated over the waves (`pg_stat_user_tables`) are counted against the
//! disconnects: a last-seen time is stored at most once per disconnect.

use super::{Ctx, PATIENCE, per_second};
use crate::Res;
use crate::client::User;
use crate::probe::{Usage, open_files_limit};
use crate::report::{Latency, Outcome, progress};
use crate::target::PRESENCE_GRACE_MS;
use follow::{Conn, Phase, Tally, World, close, open};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::unbounded_channel;

#[path = "presence_follow.rs"]
mod follow;

/// A user and the 50 others it follows.
const GROUP: usize = 51;
const WAVES: usize = 5;
const GRACE: Duration = Duration::from_millis(PRESENCE_GRACE_MS);

/// The first user of each group: every `GROUP`th, the last moved back so
/// that it ends at the last user.
fn group_start(user: usize, n: usize) -> usize {
    (user / GROUP * GROUP).min(n.saturating_sub(GROUP))
}

pub async fn presence(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let n = ctx.options.presence_users;
    if n < WAVES * 2 {
        return Err(format!("presence needs at least {} users", WAVES * 2).into());
    }
    if let Some(limit) = open_files_limit()
        && limit < n as u64 + 1000
    {
        return Err(format!(
            "{n} connections need about {} open files and the limit is {limit}: \
             run through .ci/bench (which raises it), or `ulimit -n 65536` first",
            n + 1000
        )
        .into());
    }
    ctx.db().await;
    let signing_up = (Instant::now(), ctx.target.probe.start());
    let users = ctx.users(n).await?;
    let signup = signing_up.0.elapsed();
    let signup_cpu = ctx.target.probe.finish(&signing_up.1).server_cpu_s;
    progress(&format!(
        "signing up took {:.1} s ({} s of server CPU); groups of {GROUP}",
        signup.as_secs_f64(),
        signup_cpu.map_or("-".into(), |s| format!("{s:.1}"))
    ));
    let mut starts: Vec<usize> = (0..n).map(|i| group_start(i, n)).collect();
    starts.dedup();
    for &start in &starts {
        let end = (start + GROUP).min(n);
        let others: Vec<&User> = users[start + 1..end].iter().collect();
        ctx.api
            .conversation(&users[start], &others, Some("presence"))
            .await?;
    }
    let follows: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let start = group_start(i, n);
            (start..(start + GROUP).min(n))
                .filter(|&f| f != i)
                .collect()
        })
        .collect();
    let mut followers = vec![Vec::new(); n];
    for (follower, followed) in follows.iter().enumerate() {
        for &subject in followed {
            followers[subject].push(follower);
        }
    }
    let index: Arc<HashMap<String, usize>> = Arc::new(
        users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect(),
    );
    let (tx, mut heard) = unbounded_channel();
    let world = World {
        api: ctx.api.clone(),
        users,
        index,
        follows,
        followers,
        tx,
    };
    let mut tally = Tally::new();

    progress(&format!(
        "connecting {n} users, each following {}",
        GROUP - 1
    ));
    let connecting = Instant::now();
    let mut conns: Vec<Option<Conn>> = (0..n).map(|_| None).collect();
    for (user, _, conn) in open(&world, (0..n).collect(), Duration::ZERO).await {
        conns[user] = Some(conn.map_err(|e| format!("connecting user {user}: {e}"))?);
    }
    let connected = connecting.elapsed();
    let mut first = Phase::new(&world, None, vec![None; n], n);
    first
        .run(&mut heard, Instant::now() + PATIENCE, &mut tally)
        .await;
    progress(&format!(
        "{n} connected and following in {:.1} s; reading the database's counts",
        connected.as_secs_f64()
    ));
    let before = row_updates(ctx).await;
    // Whatever came of the first connections meanwhile.
    while let Ok(late) = heard.try_recv() {
        first.take(late, &mut tally);
    }

    let snapshot = ctx.target.probe.start();
    let started = Instant::now();
    let mut disconnects = 0u64;
    // The longest time from a wave's first offline delivery to its last.
    let mut spread = Duration::ZERO;
    // The server's and the generator's CPU seconds while waves went
    // offline (no handshakes then: the deliveries, and the closes).
    let mut offline_cpu = (0.0, 0.0);
    for wave in 0..WAVES {
        let subjects: Vec<usize> = (wave..n).step_by(WAVES).collect();
        let mut from = vec![None; n];
        let going = ctx.target.probe.snapshot();
        let closing = Instant::now();
        // All at once, or spread evenly over `--presence-wave-ms` (and so
        // is their coming back).
        let pace =
            Duration::from_millis(ctx.options.presence_wave_ms) / subjects.len().max(1) as u32;
        for (k, &s) in subjects.iter().enumerate() {
            if !pace.is_zero() {
                let at = closing + pace * k as u32;
                tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            }
            if let Some(conn) = conns[s].take() {
                from[s] = Some(close(conn).await + GRACE);
                disconnects += 1;
            }
        }
        let closed = closing.elapsed();
        let deadline = Instant::now() + GRACE + PATIENCE;
        let mut offline = Phase::new(&world, Some((wave, false)), from, 0);
        let off = offline.run(&mut heard, deadline, &mut tally).await;
        let went = ctx.target.probe.finish(&going);
        offline_cpu.0 += went.server_cpu_s.unwrap_or(f64::NAN);
        offline_cpu.1 += went.generator_cpu_s;

        let mut from = vec![None; n];
        let mut reconnected = 0;
        let reconnecting = Instant::now();
        for (user, at, conn) in open(&world, subjects.clone(), pace).await {
            match conn {
                Ok(conn) => {
                    conns[user] = Some(conn);
                    from[user] = Some(at);
                    reconnected += 1;
                }
                Err(e) => tally.problem(format!("reconnecting user {user}: {e}")),
            }
        }
        let reopened = reconnecting.elapsed();
        let mut online = Phase::new(&world, Some((wave, true)), from, reconnected);
        let deadline = Instant::now() + PATIENCE;
        let on = online.run(&mut heard, deadline, &mut tally).await;
        spread = spread.max(off.over);
        progress(&format!(
            "wave {}/{WAVES}: {} users closed (in {} ms), {} offline transitions heard over {} \
             ms (p50 {} ms, p99 {} ms after the grace); reconnected (in {} ms), {} online heard \
             over {} ms (p50 {} ms, p99 {} ms)",
            wave + 1,
            subjects.len(),
            closed.as_millis(),
            off.count,
            off.over.as_millis(),
            ms(off.latency.map(|l| l.p50)),
            ms(off.latency.map(|l| l.p99)),
            reopened.as_millis(),
            on.count,
            on.over.as_millis(),
            ms(on.latency.map(|l| l.p50)),
            ms(on.latency.map(|l| l.p99)),
        ));
    }
    let waves = started.elapsed();
    let usage = ctx.target.probe.finish(&snapshot);
    progress("reading the database's counts again");
    let after = row_updates(ctx).await;
    for conn in conns.into_iter().flatten() {
        conn.abandon();
    }
    let run = Run {
        n,
        disconnects,
        waves,
        signup,
        signup_cpu,
        connected,
        spread,
        offline_cpu,
        updates: before.zip(after).map(|(b, a)| a - b),
        wave_ms: ctx.options.presence_wave_ms,
    };
    report(&tally, &run, usage)
}

/// What the run was, besides what the followers heard.
struct Run {
    n: usize,
    disconnects: u64,
    /// How long the waves took.
    waves: Duration,
    signup: Duration,
    /// The server's CPU seconds for the sign-ups (Argon2 hashes).
    signup_cpu: Option<f64>,
    connected: Duration,
    spread: Duration,
    offline_cpu: (f64, f64),
    /// Rows of `users` updated over the waves.
    updates: Option<i64>,
    /// Over how long each wave's users left (0: at once).
    wave_ms: u64,
}

fn report(tally: &Tally, run: &Run, usage: Usage) -> Res<Outcome> {
    let &Run {
        n,
        disconnects,
        waves,
        signup,
        signup_cpu,
        connected,
        spread,
        offline_cpu,
        updates,
        wave_ms,
    } = run;
    let mut outcome = Outcome::new("presence", "transition to each follower");
    outcome.count = tally.delivered;
    outcome.rate = Some(per_second(tally.delivered, waves));
    outcome.latency = Latency::of(&tally.all);
    let online = Latency::of(&tally.online);
    let offline = Latency::of(&tally.offline);
    let missed = tally.expected.saturating_sub(tally.delivered);
    outcome.figure("users", n);
    outcome.figure("following_each", GROUP - 1);
    outcome.figure("waves", WAVES);
    outcome.figure("disconnects", disconnects);
    outcome.figure("grace_ms", PRESENCE_GRACE_MS);
    outcome.figure("expected", tally.expected);
    outcome.figure("missed", missed);
    outcome.figure("doubled", tally.doubled);
    outcome.figure("unexpected", tally.unexpected);
    outcome.figure("echoed_to_self", tally.echoed);
    outcome.figure("uncounted_among_reconnecting", tally.uncounted);
    let after_server_close = Latency::of(&tally.after_server_close);
    for (name, l) in [
        ("online", online),
        ("offline", offline),
        ("offline_after_server_close", after_server_close),
    ] {
        if let Some(l) = l {
            outcome.figure(&format!("{name}_p50_ms"), round3(l.p50));
            outcome.figure(&format!("{name}_p99_ms"), round3(l.p99));
            outcome.figure(&format!("{name}_max_ms"), round3(l.max));
        }
    }
    outcome.figure("signup_s", (signup.as_secs_f64() * 10.0).round() / 10.0);
    outcome.figure("signup_server_cpu_s", signup_cpu);
    outcome.figure("offline_spread_ms_max", spread.as_millis() as u64);
    let offline_count = tally.offline.len().max(1) as f64;
    if offline_cpu.0.is_finite() {
        outcome.figure(
            "offline_server_cpu_us_per_delivery",
            (offline_cpu.0 * 1e6 / offline_count * 100.0).round() / 100.0,
        );
    }
    outcome.figure(
        "offline_generator_cpu_us_per_delivery",
        (offline_cpu.1 * 1e6 / offline_count * 100.0).round() / 100.0,
    );
    outcome.figure("connect_s", (connected.as_secs_f64() * 10.0).round() / 10.0);
    outcome.figure("waves_s", (waves.as_secs_f64() * 10.0).round() / 10.0);
    if let Some(cpu) = usage.server_cpu_s {
        // Reconnecting and subscribing included.
        outcome.figure(
            "server_cpu_us_per_delivery",
            (cpu * 1e6 / tally.delivered.max(1) as f64 * 100.0).round() / 100.0,
        );
    }
    if let Some(updates) = updates {
        outcome.figure("db_row_updates", updates);
        outcome.figure(
            "db_row_updates_per_disconnect",
            (updates as f64 / disconnects.max(1) as f64 * 1000.0).round() / 1000.0,
        );
    }
    outcome.usage = Some(usage);

    let mut problems = tally.problems.clone();
    if tally.more_problems > 0 {
        problems.push(format!("{} more problems", tally.more_problems));
    }
    for (count, what) in [
        (missed, "transitions missed"),
        (tally.doubled, "transitions doubled"),
        (tally.unexpected, "frames nobody was due"),
        (tally.echoed, "transitions echoed to the user's own socket"),
    ] {
        if count > 0 {
            problems.insert(0, format!("{count} {what}"));
        }
    }
    if let Some(updates) = updates
        && updates > disconnects as i64
    {
        problems.push(format!(
            "{updates} row updates on users for {disconnects} disconnects"
        ));
    }
    outcome.expect("each follower heard each transition once", &problems);
    if outcome.ok {
        outcome.check = "each connected follower heard each transition once; \
                         at most one write per disconnect"
            .into();
    }
    let leaving = match wave_ms {
        0 => "each leaving and coming back at once".to_owned(),
        ms => format!("each leaving, then coming back, over {ms} ms"),
    };
    outcome.figure("wave_ms", wave_ms);
    outcome.note = format!(
        "{n} users following {} each, {WAVES} waves {leaving}, {disconnects} disconnects; offline p99 {} ms \
         after the {PRESENCE_GRACE_MS} ms grace ({} ms after it from the close as the server saw \
         it; a wave's offline deliveries spread over up to {} ms), online p99 {} ms from the \
         reconnect; {} row updates on users",
        GROUP - 1,
        ms(offline.map(|l| l.p99)),
        ms(after_server_close.map(|l| l.p99)),
        spread.as_millis(),
        ms(online.map(|l| l.p99)),
        updates.map_or("-".into(), |u| u.to_string())
    );
    Ok(outcome)
}

/// Rows of `users` updated so far (PostgreSQL's statistics, which a
/// backend reports within 10 s of going idle: this waits that long first).
async fn row_updates(ctx: &mut Ctx<'_>) -> Option<i64> {
    tokio::time::sleep(Duration::from_secs(11)).await;
    let db = ctx.db().await?;
    let count = sqlx::query_scalar::<_, i64>(
        "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'users'",
    )
    .fetch_one(db)
    .await;
    match count {
        Ok(count) => Some(count),
        Err(e) => {
            eprintln!("load: reading row updates: {e}");
            None
        }
    }
}

fn ms(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.2}"))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
