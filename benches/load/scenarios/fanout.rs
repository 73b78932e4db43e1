//! `fanout`: a group of 200, everyone connected; one message at a time,
//! timed until the last member has it.

use super::Ctx;
use crate::Res;
use crate::client::{self, message_id, send_frame};
use crate::report::{Latency, Outcome, histogram, progress, record};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const MEMBERS: usize = 200;
const MESSAGES: usize = 50;
/// Between two messages, so that each is timed on its own.
const PAUSE: Duration = Duration::from_millis(20);

pub async fn fanout(ctx: &mut Ctx<'_>) -> Res<Outcome> {
    let users = ctx.users(MEMBERS).await?;
    let others: Vec<&client::User> = users[1..].iter().collect();
    let group = ctx
        .api
        .conversation(&users[0], &others, Some("fanout"))
        .await?;
    progress(&format!(
        "{MEMBERS} members connected; {MESSAGES} messages, one at a time"
    ));
    // Every member's socket reports each message it receives: (message
    // number, member, when).
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<(usize, usize, Instant)>();
    let mut sinks = Vec::with_capacity(MEMBERS);
    let mut readers = Vec::with_capacity(MEMBERS);
    for (member, user) in users.iter().enumerate() {
        let (sink, mut stream) = ctx.api.ws(user, None).await?.split();
        sinks.push(sink);
        let arrivals = arrivals_tx.clone();
        readers.push(tokio::spawn(async move {
            while let Ok(Some(frame)) = client::next_frame(&mut stream).await {
                if frame.event != "message.receive" {
                    continue;
                }
                let number = frame
                    .payload
                    .content
                    .as_deref()
                    .and_then(|c| c.strip_prefix("fanout "))
                    .and_then(|c| c.parse::<usize>().ok());
                if let Some(number) = number {
                    let _ = arrivals.send((number, member, Instant::now()));
                }
            }
        }));
    }
    drop(arrivals_tx);

    let snapshot = ctx.target.probe.start();
    let mut everyone = histogram();
    let mut each = histogram();
    // received[number][member]
    let mut received = vec![vec![0u32; MEMBERS]; MESSAGES];
    let mut timeouts = 0;
    for number in 0..MESSAGES {
        let sender = number % MEMBERS;
        let started = Instant::now();
        client::send(
            &mut sinks[sender],
            send_frame(
                &group,
                &users[sender],
                &message_id(),
                &format!("fanout {number}"),
            ),
        )
        .await?;
        let mut have = 0;
        let mut last = started;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while have < MEMBERS - 1 {
            let Ok(Some((n, member, at))) =
                tokio::time::timeout_at(deadline, arrivals.recv()).await
            else {
                timeouts += 1;
                break;
            };
            received[n][member] += 1;
            if n == number && received[n][member] == 1 && member != sender {
                have += 1;
                last = last.max(at);
                record(&mut each, at.duration_since(started));
            }
        }
        if have == MEMBERS - 1 {
            record(&mut everyone, last.duration_since(started));
        }
        tokio::time::sleep(PAUSE).await;
    }
    // Late or doubled deliveries.
    while let Ok(Some((n, member, _))) =
        tokio::time::timeout(Duration::from_millis(500), arrivals.recv()).await
    {
        received[n][member] += 1;
    }
    let usage = ctx.target.probe.finish(&snapshot);
    for reader in readers {
        reader.abort();
    }
    drop(sinks);

    let (mut lost, mut duplicated, mut echoed) = (0, 0, 0);
    for (number, members) in received.iter().enumerate() {
        let sender = number % MEMBERS;
        for (member, &count) in members.iter().enumerate() {
            if member == sender {
                echoed += count;
            } else if count == 0 {
                lost += 1;
            } else {
                duplicated += count - 1;
            }
        }
    }
    let mut outcome = Outcome::new("fanout", "last of 199 has it");
    outcome.count = everyone.len();
    outcome.latency = Latency::of(&everyone);
    outcome.usage = Some(usage);
    outcome.figure("members", MEMBERS);
    outcome.figure("lost", lost);
    outcome.figure("duplicated", duplicated);
    outcome.figure("echoed_to_sender", echoed);
    if let Some(l) = Latency::of(&each) {
        outcome.figure("each_delivery_p50_ms", (l.p50 * 1000.0).round() / 1000.0);
        outcome.figure("each_delivery_p99_ms", (l.p99 * 1000.0).round() / 1000.0);
    }
    if lost + duplicated as usize + echoed as usize + timeouts > 0 {
        outcome.expect(
            "delivered",
            &[format!(
                "{lost} lost, {duplicated} duplicated, {echoed} echoed to the sending socket, {timeouts} timed out"
            )],
        );
    }
    if outcome.ok {
        outcome.check = "each member got each message once".into();
    }
    outcome.note = format!(
        "{MESSAGES} messages to {} members each; one delivery p50 {} ms",
        MEMBERS - 1,
        outcome
            .number("each_delivery_p50_ms")
            .map_or("-".into(), |x| format!("{x:.2}"))
    );
    Ok(outcome)
}
