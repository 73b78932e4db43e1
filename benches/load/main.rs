//! natter's load benchmark: `.ci/bench [scenario...]` (README, "Benchmark").
//!
//! A load generator that behaves like many real clients: it registers its own
//! users and drives only the public API (REST and WebSocket). By default it
//! starts the release `natter` binary on a fresh database in a private
//! PostgreSQL cluster (`target/bench-db`); `--url http://host:port` measures
//! a server that is already running instead.
//!
//! Each scenario prints one JSON line on stdout as it finishes (so runs can
//! be compared and plotted), and the run ends with a Markdown table and the
//! issue's targets against the figures. Progress goes to stderr. The exit
//! status is non-zero when a correctness check failed (a lost, doubled or
//! misordered message), never for a missed speed target.

mod client;
mod probe;
mod report;
mod scenarios;
#[path = "../../tests/support/mod.rs"]
mod support;
mod target;

use report::Outcome;
use std::time::Duration;

/// Every error the benchmark can meet ends the run with its message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, Error>;

/// Issue 6's scenarios in its order, then `deliver2` (which starts a second
/// node for its own run), `page` (issue 10: the pages, and the same pages
/// in Chromium), `typing` (issue 13), `actions` (issue 14: edits,
/// deletions and reactions), `attachments` (issue 15) and `search` (issue
/// 16).
pub const SCENARIOS: [&str; 13] = [
    "send",
    "deliver",
    "history",
    "inbox",
    "fanout",
    "idle",
    "limit",
    "deliver2",
    "page",
    "typing",
    "actions",
    "attachments",
    "search",
];

/// Scenarios that run only when named: `soak` takes minutes, and so does
/// signing up `presence`'s 5,000 users (an Argon2 hash each).
pub const NAMED_ONLY: [&str; 2] = ["soak", "presence"];

const USAGE: &str = "\
usage: .ci/bench [OPTIONS] [SCENARIO...]
       cargo bench --features ssr --bench load -- [OPTIONS] [SCENARIO...]

scenarios: send deliver history inbox fanout idle limit deliver2 page typing actions
           attachments search, or all (the default); history pages back through two conversations
           of 10,000 messages, a page of each in turn: one plain, one with
           reactions on a third of them and a tenth replies;
           deliver2 is deliver across two natter nodes on one
           database (senders on the first, receivers on a second); page is
           the server-rendered pages under 50 clients, then in Chromium on
           Fast 3G (needs the release bundle: .ci/bench builds it); typing
           is a group of 100 all typing (issue 13); actions is 100 people
           each editing, reacting to and deleting their messages in a direct
           chat, timed until the other person hears (issue 14); attachments
           is the disk's own write rate (dd, fsync), 20 people uploading
           1 MB files, the server's memory under 20 MB and 100 MB files, and
           a 12-megapixel JPEG's upload with its thumbnail (issue 15); search
           is message search over 1,000,000 messages in 2,000 conversations
           for a user in 200 of them (issue 16); soak (only when named,
           issue 17) holds deliver's pattern for minutes and reports every
           10 s with PostgreSQL's checkpoints and WAL fsyncs; presence (only
           when named, issue 13) signs up 5,000 users, each following 50,
           who disconnect and come back in waves (a server given with --url
           must run with NATTER_PRESENCE_GRACE_MS=1000, as the benchmark's
           own does)

options:
  --url URL               measure a running server (http://host:port) instead of
                          starting one; it must allow many sign-ups and sends
                          (NATTER_AUTH_ATTEMPTS_PER_MINUTE, NATTER_SENDS_PER_SECOND,
                          NATTER_SEND_BURST, NATTER_MAX_CONNECTIONS_PER_ADDRESS;
                          history's 6,000 reactions need NATTER_ACTION_BUDGET
                          raised too: actions stays within the default one; attachments
                          needs NATTER_UPLOAD_BUDGET, NATTER_UPLOAD_DAILY_BYTES and
                          NATTER_MAX_ATTACHMENT_BYTES over 100 MB)
  --server-pid PID        with --url: the server's process, for its CPU and memory
  --pgdata DIR            with --url: its PostgreSQL data folder, for the database's CPU
  --database-url URL      with --url: its database, for `limit` and batch sizes
  --data-dir DIR          with --url: its data-dir, for the disk `attachments` writes to
  --second-url URL        with --url: another node on the same database, for deliver2
  --deliver-rate N        messages per second in all for deliver and deliver2
                          (default 200)
  --idle-connections N    WebSockets held open by `idle` (default 10000)
  --idle-seconds S        how long `idle` watches them (default 30)
  --presence-users N      users in `presence` (default 5000)
  --presence-wave-ms N    over how long each `presence` wave's users leave, and come back
                          (default 0: all at once)
  --soak-rate N           messages per second in all for soak (default 1500)
  --soak-seconds S        how long soak lasts (default 180)
";

pub struct Options {
    pub scenarios: Vec<&'static str>,
    pub url: Option<String>,
    pub server_pid: Option<u32>,
    pub pgdata: Option<std::path::PathBuf>,
    pub database_url: Option<String>,
    pub data_dir: Option<std::path::PathBuf>,
    pub second_url: Option<String>,
    pub deliver_rate: f64,
    pub idle_connections: usize,
    pub idle_seconds: u64,
    pub presence_users: usize,
    pub presence_wave_ms: u64,
    pub soak_rate: f64,
    pub soak_seconds: u64,
}

fn parse_args() -> Res<Options> {
    let mut options = Options {
        scenarios: Vec::new(),
        url: None,
        server_pid: None,
        pgdata: None,
        database_url: None,
        data_dir: None,
        second_url: None,
        deliver_rate: 200.0,
        idle_connections: 10_000,
        idle_seconds: 30,
        presence_users: 5000,
        presence_wave_ms: 0,
        soak_rate: 1500.0,
        soak_seconds: 180,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| Error::from(format!("{name} needs a value\n\n{USAGE}")))
        };
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--url" => options.url = Some(value("--url")?.trim_end_matches('/').to_owned()),
            "--server-pid" => options.server_pid = Some(value("--server-pid")?.parse()?),
            "--pgdata" => options.pgdata = Some(value("--pgdata")?.into()),
            "--database-url" => options.database_url = Some(value("--database-url")?),
            "--data-dir" => options.data_dir = Some(value("--data-dir")?.into()),
            "--second-url" => {
                options.second_url = Some(value("--second-url")?.trim_end_matches('/').to_owned())
            }
            "--idle-connections" => {
                options.idle_connections = value("--idle-connections")?.parse()?
            }
            "--deliver-rate" => options.deliver_rate = value("--deliver-rate")?.parse()?,
            "--idle-seconds" => options.idle_seconds = value("--idle-seconds")?.parse()?,
            "--presence-users" => options.presence_users = value("--presence-users")?.parse()?,
            "--presence-wave-ms" => {
                options.presence_wave_ms = value("--presence-wave-ms")?.parse()?
            }
            "--soak-rate" => options.soak_rate = value("--soak-rate")?.parse()?,
            "--soak-seconds" => options.soak_seconds = value("--soak-seconds")?.parse()?,
            "all" => options.scenarios.extend(SCENARIOS),
            name => match SCENARIOS.iter().chain(&NAMED_ONLY).find(|s| **s == name) {
                Some(scenario) => options.scenarios.push(scenario),
                None => return Err(format!("unknown argument {name:?}\n\n{USAGE}").into()),
            },
        }
    }
    if options.scenarios.is_empty() {
        options.scenarios.extend(SCENARIOS);
    }
    // The order, each once, whatever order they were named in.
    options
        .scenarios
        .sort_by_key(|s| SCENARIOS.iter().position(|x| x == s));
    options.scenarios.dedup();
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("load: a correctness check failed (see the table)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Res<bool> {
    let options = parse_args()?;
    let mut target = target::Target::prepare(&options).await?;
    let outcome = measure(&options, &target).await;
    let described = target.describe();
    target.finish().await;
    let outcomes = outcome?;
    report::table(&outcomes, &described);
    report::targets(&outcomes);
    Ok(outcomes.iter().all(|o| o.ok))
}

async fn measure(options: &Options, target: &target::Target) -> Res<Vec<Outcome>> {
    let mut ctx = scenarios::Ctx::new(options, target).await?;
    let mut outcomes = Vec::new();
    for &name in &options.scenarios {
        report::progress(&format!("scenario {name}"));
        let measured = match ctx.run(name).await {
            Ok(measured) => measured,
            Err(e) => vec![Outcome::failed(name, &e.to_string())],
        };
        for outcome in measured {
            report::json_line(&outcome, target);
            outcomes.push(outcome);
        }
        // Let the previous scenario's sockets close and the database settle.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(outcomes)
}
