//! What each process spent, from `/proc`: the server's CPU and memory,
//! PostgreSQL's CPU (the postmaster and every backend), the generator's own
//! CPU, and the whole machine's (so the noise of other work shows).
//!
//! CPU times in `/proc/<pid>/stat` are in USER_HZ ticks, which Linux fixes
//! at 100 per second for user space whatever the kernel's own tick.

use serde::Serialize;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

const TICKS_PER_SECOND: f64 = 100.0;

pub struct Probe {
    server: Option<u32>,
    pgdata: Option<PathBuf>,
}

/// The counters at one moment.
pub struct Snapshot {
    at: Instant,
    server_cpu: Option<u64>,
    pg_cpu: Option<u64>,
    generator_cpu: u64,
    machine: Option<(u64, u64)>,
    load: Option<f64>,
}

/// What a scenario cost, between two snapshots.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Usage {
    pub wall_s: f64,
    pub server_cpu_s: Option<f64>,
    /// The server's peak resident memory during the scenario (its high-water
    /// mark, reset at the start), or since it started when the reset is not
    /// allowed.
    pub server_peak_rss_mb: Option<f64>,
    pub pg_cpu_s: Option<f64>,
    /// This process and the programs it ran (pgbench).
    pub generator_cpu_s: f64,
    /// CPU time the whole machine spent (all cores), and what of it was
    /// neither the server, PostgreSQL nor the generator: other work sharing
    /// the machine.
    pub machine_cpu_s: Option<f64>,
    pub other_cpu_s: Option<f64>,
    pub cores: usize,
    /// The one-minute load average at the start and at the end.
    pub load_start: Option<f64>,
    pub load_end: Option<f64>,
}

impl Probe {
    pub fn new(server: Option<u32>, pgdata: Option<PathBuf>) -> Self {
        Self { server, pgdata }
    }

    /// Resets the server's memory high-water mark, then reads every counter.
    pub fn start(&self) -> Snapshot {
        if let Some(pid) = self.server {
            // "5" resets VmHWM to the current RSS (Linux 4.0+); without the
            // right to, the peak is the one since the server started.
            let _ = fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
        self.snapshot()
    }

    /// Every counter, without resetting the memory high-water mark (for a
    /// part of a scenario measured inside its whole).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            server_cpu: self
                .server
                .and_then(|pid| process_cpu(pid).map(|(own, _)| own)),
            pg_cpu: self.postgres_cpu(),
            generator_cpu: process_cpu(std::process::id())
                .map(|(own, children)| own + children)
                .unwrap_or(0),
            machine: machine_cpu(),
            load: load_average(),
        }
    }

    /// The usage since `start`.
    pub fn finish(&self, start: &Snapshot) -> Usage {
        let end = self.snapshot();
        let seconds =
            |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?) as f64 / TICKS_PER_SECOND);
        let server_cpu_s = seconds(start.server_cpu, end.server_cpu);
        let pg_cpu_s = seconds(start.pg_cpu, end.pg_cpu);
        let generator_cpu_s =
            end.generator_cpu.saturating_sub(start.generator_cpu) as f64 / TICKS_PER_SECOND;
        let machine_cpu_s = match (start.machine, end.machine) {
            (Some((busy0, _)), Some((busy1, _))) => {
                Some(busy1.saturating_sub(busy0) as f64 / TICKS_PER_SECOND)
            }
            _ => None,
        };
        let other_cpu_s = machine_cpu_s.map(|m| {
            (m - server_cpu_s.unwrap_or(0.0) - pg_cpu_s.unwrap_or(0.0) - generator_cpu_s).max(0.0)
        });
        Usage {
            wall_s: end.at.duration_since(start.at).as_secs_f64(),
            server_cpu_s,
            server_peak_rss_mb: self
                .server
                .and_then(|pid| status_kb(pid, "VmHWM:"))
                .map(|kb| kb as f64 / 1024.0),
            pg_cpu_s,
            generator_cpu_s,
            machine_cpu_s,
            other_cpu_s,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_start: start.load,
            load_end: end.load,
        }
    }

    /// The server's resident memory now, in KiB.
    pub fn server_rss_kb(&self) -> Option<u64> {
        status_kb(self.server?, "VmRSS:")
    }

    /// The postmaster (first line of `postmaster.pid`) with everything it
    /// reaped, plus every live child: backends that come and go are counted
    /// whether they end during the measurement or not.
    fn postgres_cpu(&self) -> Option<u64> {
        let pidfile = fs::read_to_string(self.pgdata.as_ref()?.join("postmaster.pid")).ok()?;
        let postmaster: u32 = pidfile.lines().next()?.trim().parse().ok()?;
        let (own, reaped) = process_cpu(postmaster)?;
        let mut total = own + reaped;
        for entry in fs::read_dir("/proc").ok()?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(stat) = read_stat(pid)
                && stat.ppid == postmaster
            {
                total += stat.own;
            }
        }
        Some(total)
    }
}

struct Stat {
    ppid: u32,
    own: u64,
    children: u64,
}

/// Fields of `/proc/<pid>/stat` after the command name (which may hold
/// spaces and parentheses, hence the last `)`): state is field 3, ppid 4,
/// utime 14, stime 15, cutime 16, cstime 17.
fn read_stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some(Stat {
        ppid: u32::try_from(field(4)?).ok()?,
        own: field(14)? + field(15)?,
        children: field(16)? + field(17)?,
    })
}

/// (own CPU, CPU of reaped children), in ticks.
fn process_cpu(pid: u32) -> Option<(u64, u64)> {
    read_stat(pid).map(|s| (s.own, s.children))
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// (busy, total) ticks of all cores since boot.
fn machine_cpu() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already
    // inside user).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The soft limit on open files of this process (the server inherits it).
pub fn open_files_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine, in a few words: cores, CPU model, memory.
pub fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(String::from("?"), |kb| {
            format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0)
        });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores ({model}), {memory} memory")
}
