//! One JSON line per scenario as it ends, then the Markdown table and the
//! issue's targets against the figures.
//!
//! The JSON lines also go to `target/bench/load.jsonl` (appended), so runs
//! can be compared later.

use crate::probe::{self, Usage};
use crate::target::Target;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A latency histogram in microseconds (1 µs to 10 minutes, 3 digits).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, elapsed: std::time::Duration) {
    h.saturating_record((elapsed.as_micros() as u64).max(1));
}

/// Percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(Self {
            samples: h.len(),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        })
    }
}

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub scenario: &'static str,
    /// What the latency columns time.
    pub timed: &'static str,
    /// How many operations (messages, pages, requests, connections).
    pub count: u64,
    pub rate: Option<f64>,
    pub latency: Option<Latency>,
    /// Every correctness check passed.
    pub ok: bool,
    /// The checks, in a few words.
    pub check: String,
    /// The scenario's own figure, in a few words.
    pub note: String,
    /// Everything else, for the JSON line.
    pub figures: Map<String, Value>,
    pub usage: Option<Usage>,
}

impl Outcome {
    pub fn new(scenario: &'static str, timed: &'static str) -> Self {
        Self {
            scenario,
            timed,
            ok: true,
            ..Self::default()
        }
    }

    pub fn failed(scenario: &'static str, error: &str) -> Self {
        let mut outcome = Self::new(scenario, "-");
        outcome.ok = false;
        outcome.check = format!("FAILED: {error}");
        outcome
    }

    pub fn figure(&mut self, key: &str, value: impl Into<Value>) {
        self.figures.insert(key.to_owned(), value.into());
    }

    pub fn number(&self, key: &str) -> Option<f64> {
        self.figures.get(key)?.as_f64()
    }

    /// A correctness check: `problems` is empty when it held.
    pub fn expect(&mut self, what: &str, problems: &[String]) {
        if problems.is_empty() {
            return;
        }
        self.ok = false;
        let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        let more = problems.len().saturating_sub(3);
        let mut text = format!("{what}: {}", shown.join("; "));
        if more > 0 {
            text.push_str(&format!(" (+{more} more)"));
        }
        eprintln!("load: CHECK FAILED: {text}");
        if !self.check.is_empty() {
            self.check.push_str("; ");
        }
        self.check.push_str(&text);
    }
}

pub fn progress(text: &str) {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    eprintln!(
        "\x1b[1;34m[{:>6.1}s]\x1b[0m {text}",
        start.elapsed().as_secs_f64()
    );
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

pub fn json_line(outcome: &Outcome, target: &Target) {
    let mut line = Map::new();
    line.insert("scenario".into(), json!(outcome.scenario));
    line.insert("ok".into(), json!(outcome.ok));
    line.insert("check".into(), json!(outcome.check));
    line.insert("count".into(), json!(outcome.count));
    line.insert(
        "rate_per_s".into(),
        json!(outcome.rate.map(|r| round(r, 1))),
    );
    line.insert("timed".into(), json!(outcome.timed));
    line.insert(
        "latency_ms".into(),
        match outcome.latency {
            Some(l) => json!({"samples": l.samples, "mean": round(l.mean, 3),
                "p50": round(l.p50, 3), "p95": round(l.p95, 3), "p99": round(l.p99, 3),
                "max": round(l.max, 3)}),
            None => Value::Null,
        },
    );
    for (key, value) in &outcome.figures {
        line.insert(key.clone(), value.clone());
    }
    if let Some(usage) = &outcome.usage
        && let Ok(Value::Object(usage)) = serde_json::to_value(usage)
    {
        for (key, value) in usage {
            let value = match value.as_f64() {
                Some(x) if value.is_f64() => json!(round(x, 3)),
                _ => value,
            };
            line.insert(key, value);
        }
    }
    line.insert("machine".into(), json!(probe::machine()));
    line.insert("target".into(), json!(target.describe()));
    line.insert(
        "unix_time".into(),
        json!(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        ),
    );
    let text = Value::Object(line).to_string();
    println!("{text}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let saved = std::fs::create_dir_all(&dir).and_then(|()| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("load.jsonl"))?;
        writeln!(file, "{text}")
    });
    if let Err(e) = saved {
        eprintln!("load: could not append to target/bench/load.jsonl: {e}");
    }
}

fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

fn rate_cell(rate: Option<f64>) -> String {
    match rate {
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) => format!("{r:.1}"),
        None => "-".to_owned(),
    }
}

pub fn table(outcomes: &[Outcome], target: &str) {
    let mut out = String::new();
    out.push_str(&format!("\nmachine: {}\n", probe::machine()));
    out.push_str(&format!("server: {target}\n\n"));
    out.push_str(
        "| scenario | timed | n | rate/s | p50 ms | p95 ms | p99 ms | max ms | check | \
         server CPU s | server peak RSS MiB | PostgreSQL CPU s | generator CPU s | other CPU s | \
         load | notes |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
    for o in outcomes {
        let l = o.latency;
        let u = o.usage.clone().unwrap_or_default();
        let load = match (u.load_start, u.load_end) {
            (Some(a), Some(b)) => format!("{a:.1}→{b:.1}"),
            _ => "-".to_owned(),
        };
        let check = if o.check.is_empty() {
            "ok".to_owned()
        } else {
            o.check.replace('|', "/")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            o.scenario,
            o.timed,
            o.count,
            rate_cell(o.rate),
            cell(l.map(|l| l.p50), 2),
            cell(l.map(|l| l.p95), 2),
            cell(l.map(|l| l.p99), 2),
            cell(l.map(|l| l.max), 2),
            check,
            cell(u.server_cpu_s, 2),
            cell(u.server_peak_rss_mb, 1),
            cell(u.pg_cpu_s, 2),
            cell(o.usage.as_ref().map(|u| u.generator_cpu_s), 2),
            cell(u.other_cpu_s, 2),
            load,
            o.note.replace('|', "/"),
        ));
    }
    println!("{out}");
}

/// The targets against this run's figures.
pub fn targets(outcomes: &[Outcome]) {
    let find = |name: &str| outcomes.iter().find(|o| o.scenario == name && o.count > 0);
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let mut lines = Vec::new();
    if let Some(send) = find("send") {
        let p99 = send.latency.map_or(f64::NAN, |l| l.p99);
        let rate = send.rate.unwrap_or(0.0);
        match find("limit").and_then(|l| l.rate) {
            Some(tps) => lines.push(format!(
                "send: {rate:.0} acked msgs/s = {:.2}x the limit row's {tps:.0} TPS (target >= 1.0x): {}; \
                 ack p99 {p99:.2} ms (target < 20 ms): {}",
                rate / tps,
                verdict(rate >= tps),
                verdict(p99 < 20.0)
            )),
            None => lines.push(format!(
                "send: {rate:.0} acked msgs/s (run `limit` too for the ratio); ack p99 {p99:.2} ms \
                 (target < 20 ms): {}",
                verdict(p99 < 20.0)
            )),
        }
        if let Some(us) = send.number("server_cpu_us_per_msg") {
            lines.push(format!(
                "send: server CPU {us:.1} µs per acked message, PostgreSQL {} µs",
                cell(send.number("pg_cpu_us_per_msg"), 1)
            ));
        }
    }
    for name in ["deliver", "deliver2"] {
        if let Some(o) = find(name) {
            let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
            let lost = o.number("lost").unwrap_or(f64::NAN);
            let dup = o.number("duplicated").unwrap_or(f64::NAN);
            lines.push(format!(
                "{name}: p99 {p99:.2} ms (target < 10 ms), {lost} lost, {dup} duplicated: {}",
                verdict(p99 < 10.0 && lost == 0.0 && dup == 0.0)
            ));
        }
    }
    // `history` measures a plain conversation and one with reactions and
    // replies: a line for each.
    for o in outcomes
        .iter()
        .filter(|o| o.scenario == "history" && o.count > 0)
    {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        lines.push(format!(
            "history ({}): p99 {p99:.2} ms (target < 2 ms): {}",
            o.timed,
            verdict(p99 < 2.0)
        ));
    }
    // `search` (issue 16): a line for each kind of search.
    for o in outcomes
        .iter()
        .filter(|o| o.scenario == "search" && o.count > 0)
    {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        lines.push(format!(
            "search ({}): p99 {p99:.2} ms over 1,000,000 messages (target < 20 ms): {}",
            o.timed,
            verdict(p99 < 20.0)
        ));
    }
    for (name, limit) in [("inbox", 5.0), ("fanout", 20.0)] {
        if let Some(o) = find(name) {
            let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
            lines.push(format!(
                "{name}: p99 {p99:.2} ms (target < {limit} ms): {}",
                verdict(p99 < limit)
            ));
        }
    }
    if let Some(o) = find("typing") {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        let per = o.number("db_transactions_per_notice").unwrap_or(f64::NAN);
        lines.push(format!(
            "typing (issue 13): notice to each other member p99 {p99:.2} ms (target < 10 ms): {}; \
             {} database transactions during the run and {} in as long a quiet window, so {per} per \
             notice (target: none per notice): {}; \
             server CPU {} µs per delivered notice",
            verdict(p99 < 10.0),
            cell(o.number("db_transactions"), 0),
            cell(o.number("db_transactions_quiet"), 0),
            verdict(per < 0.01),
            cell(o.number("server_cpu_us_per_delivery"), 2)
        ));
    }
    if let Some(o) = find("actions") {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        lines.push(format!(
            "actions (issue 14): edit, reaction or deletion to the other member p99 {p99:.2} ms \
             (target < 10 ms): {} (edit {} ms, reaction {} ms, delete {} ms); action.ack p99 {} ms",
            verdict(p99 < 10.0),
            cell(o.number("edit_p99_ms"), 2),
            cell(o.number("reaction_p99_ms"), 2),
            cell(o.number("delete_p99_ms"), 2),
            cell(o.number("ack_p99_ms"), 2)
        ));
    }
    let attachments = |key: &str| {
        outcomes
            .iter()
            .filter(|o| o.scenario == "attachments" && o.number(key).is_some())
            .collect::<Vec<_>>()
    };
    if let [o] = attachments("stored_mb_per_s")[..] {
        lines.push(format!(
            "attachments (issue 15): 20 people uploading 1 MB files: {} MB/s stored = {}x the \
             disk's own {} MB/s (dd + fsync, the limit row); upload→201 p99 {} ms",
            cell(o.number("stored_mb_per_s"), 1),
            cell(o.number("of_disk"), 2),
            cell(o.number("disk_mb_per_s"), 1),
            cell(o.latency.map(|l| l.p99), 2)
        ));
    }
    // Memory is flat when the server holds a small part of what is in
    // flight (a few 5 MiB parts per upload, whatever the file's size): a
    // server that held whole files would grow by all of it. The largest
    // files decide; the smaller ones' figures show the trend.
    let growth: Vec<(f64, f64, f64)> = attachments("file_mb")
        .iter()
        .filter_map(|o| {
            let (mb, at_once) = (o.number("file_mb")?, o.number("at_once")?);
            Some((
                mb,
                mb * at_once * 1e6 / 1048576.0,
                o.number("rss_growth_mib")?,
            ))
        })
        .collect();
    if let Some(&(_, in_flight, largest)) = growth.last() {
        let shown: Vec<String> = growth
            .iter()
            .map(|(mb, _, g)| format!("{mb} MB files +{g} MiB"))
            .collect();
        lines.push(format!(
            "attachments: server RSS over its base, 4 uploads at once: {} (flat: the largest \
             under a quarter of the {in_flight:.0} MiB in flight): {}",
            shown.join(", "),
            verdict(largest < in_flight / 4.0)
        ));
    }
    if let [o] = attachments("thumbnail_ms")[..] {
        lines.push(format!(
            "attachments: a 12-megapixel JPEG's upload→201 p99 {} ms (p50 {} ms; a plain file as \
             large p50 {} ms, so decode + thumbnail ≈ {} ms)",
            cell(o.number("photo_p99_ms"), 2),
            cell(o.number("photo_p50_ms"), 2),
            cell(o.number("plain_p50_ms"), 2),
            cell(o.number("thumbnail_ms"), 0)
        ));
    }
    if let Some(o) = find("presence") {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        let updates = o.number("db_row_updates").unwrap_or(f64::NAN);
        let disconnects = o.number("disconnects").unwrap_or(f64::NAN);
        lines.push(format!(
            "presence (issue 13): transition to each follower p99 {p99:.2} ms (target < 50 ms): {} \
             (online {} ms, offline {} ms after the grace); {updates} row updates on users for \
             {disconnects} disconnects (target: at most one per disconnect): {}",
            verdict(p99 < 50.0),
            cell(o.number("online_p99_ms"), 2),
            cell(o.number("offline_p99_ms"), 2),
            verdict(updates <= disconnects)
        ));
    }
    if let Some(o) = find("idle") {
        let kb = o.number("kb_per_connection").unwrap_or(f64::NAN);
        lines.push(format!(
            "idle: {kb:.1} KB per connection (target < 20 KB): {}",
            verdict(kb < 20.0)
        ));
    }
    if let Some(o) = find("page") {
        let p99 = o.latency.map_or(f64::NAN, |l| l.p99);
        let wasm = o.number("first_inbox_wasm_bytes").unwrap_or(f64::NAN);
        let again = o.number("repeat_inbox_wasm_bytes").unwrap_or(f64::NAN);
        lines.push(format!(
            "page (issue 10): inbox page TTFB p99 {p99:.2} ms under 50 clients; first visit {:.0} KB of \
             compressed wasm (target <= 250 KB): {}; repeat visit {again} bytes of it fetched \
             again (target 0): {}",
            wasm / 1000.0,
            verdict(wasm <= 250_000.0),
            verdict(again == 0.0)
        ));
    }
    if !lines.is_empty() {
        println!("targets (issues 6, 10, 13, 14 and 15):");
        for line in lines {
            println!("- {line}");
        }
    }
}
