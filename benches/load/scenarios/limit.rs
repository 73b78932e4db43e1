//! `limit`: what this disk allows, measured without natter: pgbench on the
//! same PostgreSQL, one single-row INSERT per transaction, as many clients as
//! `send` has senders. Every acknowledged message needs a durable commit, so
//! this is the ceiling a one-commit-per-message server cannot pass, and the
//! figure group commit has to beat.

use super::Ctx;
use crate::Res;
use crate::report::{Latency, Outcome, histogram, progress, record};
use crate::target::pgbench;
use std::path::Path;
use std::time::Duration;

const CLIENTS: usize = 50;
const SECONDS: u64 = 10;

pub async fn limit(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let url = ctx
        .target
        .database_url
        .clone()
        .ok_or("`limit` needs the server's database (--database-url with --url)")?;
    let pgbench = pgbench().ok_or("pgbench not found (Debian: apt-get install postgresql)")?;
    let db = ctx.db().await.ok_or("cannot reach the database")?;
    // A scratch table shaped like a message row, dropped afterwards.
    sqlx::query("DROP TABLE IF EXISTS bench_limit")
        .execute(db)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_limit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         content text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(db)
    .await?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("limit.sql");
    std::fs::write(
        &script,
        "INSERT INTO bench_limit (content) VALUES \
         ('load test message, about as long as a short chat line');\n",
    )?;
    let prefix = format!("pgbench_{}", std::process::id());
    progress(&format!(
        "pgbench: {CLIENTS} clients, one-row INSERT per transaction, {SECONDS} s"
    ));

    let snapshot = ctx.target.probe.start();
    let output = tokio::process::Command::new(&pgbench)
        .current_dir(&dir)
        .args([
            "-n",
            "-T",
            &SECONDS.to_string(),
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
            "-l",
        ])
        .arg(format!("--log-prefix={prefix}"))
        .arg("-f")
        .arg(&script)
        .arg(&url)
        .output()
        .await?;
    let usage = ctx.target.probe.finish(&snapshot);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "pgbench failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or("pgbench printed no tps")?;
    let transactions = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|n| n.split_whitespace().next()?.parse::<u64>().ok());

    // Per-transaction log lines: client, transaction, latency (µs), ...
    let mut latency = histogram();
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(&format!("{prefix}.")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())?;
        for line in text.lines() {
            if let Some(us) = line.split_whitespace().nth(2).and_then(|f| f.parse().ok()) {
                record(&mut latency, Duration::from_micros(us));
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
    if let Some(db) = ctx.db().await {
        let _ = sqlx::query("DROP TABLE IF EXISTS bench_limit")
            .execute(db)
            .await;
    }

    let mut outcome = Outcome::new("limit", "pgbench txn");
    outcome.count = transactions.unwrap_or(latency.len());
    outcome.rate = Some(tps);
    outcome.latency = Latency::of(&latency);
    outcome.figure("clients", CLIENTS);
    outcome.figure("seconds", SECONDS);
    outcome.figure("tps", tps);
    if let (Some(pg), Some(n)) = (usage.pg_cpu_s, transactions) {
        outcome.figure("pg_cpu_us_per_txn", (pg * 1e6 / n.max(1) as f64).round());
    }
    outcome.usage = Some(usage);
    outcome.check = "-".into();
    outcome.note = format!(
        "the disk's durable-commit ceiling at {CLIENTS} clients; PostgreSQL {} µs/txn",
        outcome
            .number("pg_cpu_us_per_txn")
            .map_or("-".into(), |x| format!("{x:.0}"))
    );
    Ok(outcome)
}
