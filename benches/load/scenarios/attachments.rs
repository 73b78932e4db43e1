//! `attachments` (issue 15): files into the object store, against what the
//! disk itself can do, in four parts.
//!
//! - The limit row: `dd` writes 1,000 MB in 1 MB blocks and fsyncs, into the
//!   folder the server keeps attachments in (`<data-dir>/attachments`), so
//!   the rate is that filesystem's, measured in the same run as the uploads
//!   it bounds.
//! - 20 people (10 direct chats, both members uploading) each upload 50
//!   files of 1 MB one after another, all 20 at once: MB/s acknowledged
//!   (201) and the time to each 201. The store's folder backend (the
//!   `object_store` crate's) does not fsync, so the page cache may carry
//!   uploads past the dd rate; what matters is that they do not fall far
//!   below it.
//! - Memory: the server's resident memory, sampled every 10 ms, over the
//!   above, then over 4 uploads at once of 20 MB files, then of 100 MB ones.
//!   Streamed, the peak does not follow the file size (an upload holds at
//!   most a few 5 MiB parts); a server that held whole files would grow by
//!   4 × 100 MB.
//! - A 12-megapixel JPEG (4000 × 3000, gradients and noise, so it
//!   compresses like a photo, not like a flat picture), uploaded 30 times one
//!   after another, each followed by a file of the same size that is not an
//!   image: the difference between the two is the decode and the thumbnail.
//!
//! Checked afterwards: every 201's size is the bytes sent; every 25th 1 MB
//! file, the first of each large size and the photo read back as the same
//! bytes; the photo is measured 4000 × 3000 and its thumbnail is a JPEG at
//! most 400 px on its longer side.

#[path = "attachments_photo.rs"]
mod photo;

use super::{Ctx, Rng, per_second};
use crate::Res;
use crate::client::{Api, Uploaded, User};
use crate::probe::Probe;
use crate::report::{Latency, Outcome, histogram, progress, record};
use bytes::Bytes;
use futures::StreamExt;
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USERS: usize = 20;
const PER_USER: usize = 50;
/// A megabyte as dd and disks count it: a 1 MB file's rate per second is
/// its MB/s.
const MB: usize = 1_000_000;
/// `dd`'s 1 MB blocks: as many bytes as the 1 MB uploads store.
const DD_BLOCKS: usize = USERS * PER_USER;
/// The large files (MB) and what their rows time.
const LARGE: [(usize, &str); 2] = [
    (20, "20 MB upload→201, 4 at once (rate: MB/s)"),
    (100, "100 MB upload→201, 4 at once (rate: MB/s)"),
];
const AT_ONCE: usize = 4;
const LARGE_FILES: usize = 8;
/// Every how many 1 MB files one is read back and compared.
const CHECK_EVERY: usize = 25;
const OCTETS: &str = "application/octet-stream";

/// One upload and what came of it.
struct Done {
    user: usize,
    seq: usize,
    len: usize,
    took: Duration,
    answer: Res<Uploaded>,
}

/// What a phase's uploads came to: the time to each 201 whose size is the
/// bytes sent, the bytes so stored, refusals, and sizes that differ.
struct Tally {
    latency: Histogram<u64>,
    stored: usize,
    errors: Vec<String>,
    problems: Vec<String>,
}

fn tally(done: &[Done]) -> Tally {
    let (errors, problems) = (Vec::new(), Vec::new());
    let mut t = Tally {
        latency: histogram(),
        stored: 0,
        errors,
        problems,
    };
    for d in done {
        match &d.answer {
            Ok(up) if up.size != d.len as u64 => t.problems.push(format!(
                "user {} file {}: sent {} bytes, the 201 says {}",
                d.user, d.seq, d.len, up.size
            )),
            Ok(_) => {
                t.stored += d.len;
                record(&mut t.latency, d.took);
            }
            Err(e) => t.errors.push(e.to_string()),
        }
    }
    t
}

/// `len` bytes of noise (incompressible, like most files people send).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A file: `noise` with a line naming it at the start, so that each file
/// differs and none begins like an image.
fn file(noise: &[u8], label: &str) -> Bytes {
    let mut bytes = noise.to_vec();
    let head = format!("natter load benchmark: {label}\n");
    let n = head.len().min(bytes.len());
    bytes[..n].copy_from_slice(&head.as_bytes()[..n]);
    Bytes::from(bytes)
}

/// The people, and their chats: user `u` is in `chats[u / 2]`.
struct People<'a> {
    api: &'a Api,
    users: &'a [User],
    chats: &'a [String],
}

impl People<'_> {
    /// User `user`'s upload number `seq` of `body`, not an image, timed
    /// to its answer.
    async fn upload(&self, user: usize, seq: usize, body: Bytes) -> Done {
        let (name, len) = (format!("u{user}-{seq}.bin"), body.len());
        let chat = &self.chats[user / 2];
        let started = Instant::now();
        let answer = (self.api)
            .upload(&self.users[user], chat, &name, OCTETS, body)
            .await;
        let took = started.elapsed();
        Done {
            user,
            seq,
            len,
            took,
            answer,
        }
    }

    /// Whether an upload reads back, by its uploader (nobody else may
    /// before it is sent), as `bytes`.
    async fn reads_back(&self, d: &Done, bytes: &Bytes) -> bool {
        let Ok(up) = &d.answer else { return false };
        let user = &self.users[d.user];
        let back = self.api.download(user, &up.attachment_id, false).await;
        back.is_ok_and(|b| b == bytes)
    }
}

/// Runs `work` while sampling the server's resident memory every 10 ms:
/// its output and the highest sample (KiB), when the server's process is
/// known.
async fn with_peak<F: std::future::Future>(probe: &Probe, work: F) -> (F::Output, Option<u64>) {
    let mut peak = probe.server_rss_kb();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return (out, peak),
            _ = tick.tick() => {
                if let Some(kb) = probe.server_rss_kb() {
                    peak = Some(peak.map_or(kb, |p| p.max(kb)));
                }
            }
        }
    }
}

fn mib(kb: u64) -> f64 {
    (kb as f64 / 1024.0 * 10.0).round() / 10.0
}

/// A phase's row: uploads acknowledged, MB/s stored, time to each 201,
/// the server's peak memory and its growth over `base` (before any
/// upload), and the checks.
fn row(
    timed: &'static str,
    t: &Tally,
    elapsed: Duration,
    peak: Option<u64>,
    base: Option<u64>,
) -> Outcome {
    let mut row = Outcome::new("attachments", timed);
    row.count = t.latency.len();
    row.rate = Some(per_second(t.stored as u64, elapsed) / MB as f64);
    row.latency = Latency::of(&t.latency);
    row.figure("errors", t.errors.len());
    if let Some(peak) = peak {
        row.figure("peak_rss_mib", mib(peak));
    }
    if let (Some(peak), Some(base)) = (peak, base) {
        row.figure("base_rss_mib", mib(base));
        row.figure("rss_growth_mib", mib(peak.saturating_sub(base)));
    }
    row.expect("refused", &t.errors);
    row.expect("stored", &t.problems);
    row
}

/// The disk's own sequential write rate (MB/s) in `dir`, and the seconds
/// dd took: its own figure, or the time it ran when its words cannot be
/// read.
async fn disk_rate(dir: &Path) -> Res<(f64, f64)> {
    let scratch = dir.join(format!("bench-dd-{}", std::process::id()));
    let started = Instant::now();
    let output = tokio::process::Command::new("dd")
        .env("LC_ALL", "C")
        .arg("if=/dev/zero")
        .arg(format!("of={}", scratch.display()))
        .args(["bs=1000000", &format!("count={DD_BLOCKS}"), "conv=fsync"])
        .output()
        .await;
    let took = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&scratch);
    let output = output?;
    let words = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("dd failed ({}): {}", output.status, words.trim()).into());
    }
    // "256000000 bytes (256 MB, 244 MiB) copied, 0.61 s, 420 MB/s"
    let copied = |l: &str| l.split_once(" copied, ")?.1.split(' ').next()?.parse().ok();
    let seconds = words.lines().find_map(copied).unwrap_or(took);
    Ok(((DD_BLOCKS as f64 / seconds * 10.0).round() / 10.0, seconds))
}

/// Where the server's store writes, or this build's `target/bench` when it
/// is not known (a server given by `--url` without `--data-dir`).
fn store_dir(ctx: &Ctx<'_>) -> Res<PathBuf> {
    if let Some(dir) = &ctx.target.data_dir {
        let dir = dir.join("attachments");
        if dir.is_dir() {
            return Ok(dir);
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub async fn attachments(ctx: &mut Ctx<'_>) -> Res<Vec<Outcome>> {
    let dir = store_dir(ctx)?;
    progress(&format!(
        "dd: {DD_BLOCKS} MB and fsync in {}",
        dir.display()
    ));
    let snapshot = ctx.target.probe.start();
    let (disk, dd_seconds) = disk_rate(&dir).await?;
    let mut limit = Outcome::new("attachments", "dd 1 MB blocks + fsync (rate: MB/s)");
    limit.usage = Some(ctx.target.probe.finish(&snapshot));
    limit.count = DD_BLOCKS as u64;
    limit.rate = Some(disk);
    limit.figure("disk_mb_per_s", disk);
    limit.figure("dd_seconds", dd_seconds);
    limit.check = "-".into();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shown = dir.strip_prefix(root).unwrap_or(&dir).display();
    limit.note = format!("the limit row: the disk's own write rate, in {shown}");

    let users = ctx.users(USERS).await?;
    let mut chats = Vec::new();
    for two in users.chunks(2) {
        chats.push(ctx.api.conversation(&two[0], &[&two[1]], None).await?);
    }
    let (api, probe) = (&ctx.api, &ctx.target.probe);
    let people = People {
        api,
        users: &users,
        chats: &chats,
    };
    let people = &people;
    let noises: Vec<Vec<u8>> = (0..USERS).map(|u| noise(MB, u as u64 + 1)).collect();
    let one = |u: usize, seq: usize| file(&noises[u], &format!("user {u}, file {seq}"));
    let base = probe.server_rss_kb();
    progress(&format!(
        "{USERS} people each uploading {PER_USER} files of 1 MB, all at once"
    ));
    let snapshot = probe.start();
    let started = Instant::now();
    let everyone = futures::future::join_all((0..USERS).map(|u| async move {
        let mut done = Vec::new();
        for seq in 0..PER_USER {
            done.push(people.upload(u, seq, one(u, seq)).await);
        }
        done
    }));
    let (done, peak) = with_peak(probe, everyone).await;
    let elapsed = started.elapsed();
    let usage = probe.finish(&snapshot);
    let done: Vec<Done> = done.into_iter().flatten().collect();
    let mut t = tally(&done);
    let acked: Vec<&Done> = done.iter().filter(|d| d.answer.is_ok()).collect();
    for d in acked.iter().step_by(CHECK_EVERY) {
        if !people.reads_back(d, &one(d.user, d.seq)).await {
            let (u, seq) = (d.user, d.seq);
            t.problems
                .push(format!("user {u} file {seq}: not read back the same"));
        }
    }
    let mut small = row("1 MB upload→201 (rate: MB/s)", &t, elapsed, peak, base);
    let rate = small.rate.unwrap_or(0.0);
    small.figure("users", USERS);
    small.figure("uploads", done.len());
    small.figure("stored_mb_per_s", (rate * 10.0).round() / 10.0);
    small.figure("disk_mb_per_s", disk);
    small.figure("of_disk", (rate / disk * 100.0).round() / 100.0);
    small.figure("read_back", acked.len().div_ceil(CHECK_EVERY));
    if let Some(cpu) = usage.server_cpu_s {
        let per_mb = cpu * 1000.0 / (t.stored as f64 / MB as f64).max(1.0);
        small.figure("server_cpu_ms_per_mb", (per_mb * 100.0).round() / 100.0);
    }
    small.usage = Some(usage);
    if small.ok {
        small.check = "each 201's size is the bytes sent; every 25th reads back the same".into();
    }
    let growth = |o: &Outcome| {
        o.number("rss_growth_mib")
            .map_or("-".into(), |g| g.to_string())
    };
    small.note = format!(
        "{USERS} people × {PER_USER} files at once: {rate:.0} MB/s stored = {:.2}× the dd row; \
         server RSS +{} MiB over its base",
        rate / disk,
        growth(&small)
    );

    let mut outcomes = vec![limit, small];
    for (size, timed) in LARGE {
        let big = file(&noise(size * MB, size as u64), &format!("{size} MB"));
        progress(&format!(
            "{LARGE_FILES} files of {size} MB, {AT_ONCE} at once"
        ));
        let snapshot = probe.start();
        let started = Instant::now();
        let uploads = futures::stream::iter(0..LARGE_FILES)
            .map(|n| people.upload(n % AT_ONCE, n, big.clone()))
            .buffer_unordered(AT_ONCE)
            .collect::<Vec<_>>();
        let (done, peak) = with_peak(probe, uploads).await;
        let elapsed = started.elapsed();
        let usage = probe.finish(&snapshot);
        let mut t = tally(&done);
        if let Some(d) = done.iter().find(|d| d.answer.is_ok())
            && !people.reads_back(d, &big).await
        {
            t.problems
                .push(format!("a {size} MB file not read back the same"));
        }
        let mut row = row(timed, &t, elapsed, peak, base);
        row.figure("file_mb", size);
        row.figure("at_once", AT_ONCE);
        row.usage = Some(usage);
        if row.ok {
            row.check = "sizes as sent; the first reads back the same".into();
        }
        row.note = format!(
            "server RSS +{} MiB over its base, with {} MB in flight",
            growth(&row),
            AT_ONCE * size
        );
        outcomes.push(row);
    }
    outcomes.push(photo::photos(api, probe, &users[0], &chats[0]).await?);
    Ok(outcomes)
}
