//! `search` (issue 16): message search over 1,000,000 messages in 2,000
//! conversations, for a user in 200 of them.
//!
//! The messages are written straight into the database (one
//! `INSERT … SELECT generate_series`, the server's indexes kept up as it
//! goes): 500 per conversation spread over the last 30 days, each 4 to 15
//! words drawn from a vocabulary of about 220 with a steep skew (the first
//! words are in most messages, `meeting` in about one in six, the last ones
//! in one in a hundred or fewer), a random token in one message of five
//! (`k<number>`: ids, names, links; 300,000 of them), the phrase "pull
//! request" in one in a hundred and `xylophone` in one in 20,000. The user
//! (signed up through the API like anyone) is a member of the first 200
//! conversations and the sender of every fifth message in them. A second
//! user is in ten more conversations of 500 messages, whose last message
//! was three days ago: chats that were quiet while the rest of the server
//! was busy. Then `VACUUM ANALYZE`, as autovacuum would have done on a
//! database that grew over a month.
//!
//! Timed: `GET /api/v1/search` one request at a time, 200 of each: a
//! common word (`meeting`), a rare word (`xylophone`), a phrase
//! (`"pull request"`), and a search being typed (`pull req`, its last word
//! a prefix); each a row with its p99 against the 20 ms target; and the
//! common word searched by the user of quiet chats.
//!
//! Checked afterwards against the database itself: the common word's
//! first page is the 20 newest matching messages of the user's
//! conversations; paging through the rare word and the phrase with the
//! cursor lists every matching message of the user's once, newest first,
//! and nothing of the other 1,800 conversations.

use super::Ctx;
use crate::Res;
use crate::client::User;
use crate::report::{Latency, Outcome, histogram, progress, record};
use serde::Deserialize;
use sqlx::PgPool;
use std::time::Instant;

const CONVERSATIONS: i64 = 2_000;
const MINE: i64 = 200;
const PER_CONVERSATION: i64 = 500;
const OTHER_USERS: i64 = 1_000;
const REQUESTS: usize = 200;
/// The quiet user's conversations (500 messages each, all over three days
/// old), after the others.
const QUIET: i64 = 10;

/// The searches timed, what each row calls it, and whether the user of
/// quiet chats searches.
const SEARCHES: [(&str, &str, bool); 5] = [
    ("meeting", "a common word", false),
    ("xylophone", "a rare word", false),
    ("\"pull request\"", "a phrase", false),
    ("pull req", "typing (prefix)", false),
    ("meeting", "a common word, quiet chats", true),
];

/// Skewed: a word near the front is drawn far more often (the draw is
/// `1 + floor(n * random()^3)`).
const VOCABULARY: &str = "the i you to meeting a and it is that of in for on we this be have \
are not but with at can was do so just what about will know if get all like my me go your think \
from they up now out there one see when how time good no yes then well did today need make \
tomorrow back let work more been could would some lunch new also had its our here should going \
because want has right sure him them thanks really still after very please week call great over \
take come look into only last maybe other where something first way even thing find again people \
ok nice day why lot before much said later team next send code review deploy build test release \
branch merge fix bug issue ticket email docs design plan update change server client report data \
file link page error note idea question answer project doc sprint standup demo budget office \
coffee train flight hotel weekend birthday party dinner movie music game football match score \
pull request photo video sketch draft version feature config script query index cache queue \
worker cluster metrics alert graph chart slide deck agenda notes summary hiring interview offer \
contract invoice payment refund order delivery package address phone number password login \
account profile settings";

#[derive(Deserialize)]
struct Page {
    results: Vec<Hit>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Hit {
    message_id: String,
    snippet: Vec<Piece>,
}

#[derive(Deserialize)]
struct Piece {
    text: String,
    hit: bool,
}

pub async fn search(ctx: &mut Ctx<'_>) -> Res<Vec<Outcome>> {
    let me = ctx.fresh_user().await?;
    let quiet = ctx.fresh_user().await?;
    let run = ctx.run.clone();
    let db = ctx
        .db()
        .await
        .ok_or("search stores its messages in the database: give --database-url")?
        .clone();
    progress("storing 1,005,000 messages in 2,010 conversations");
    let started = Instant::now();
    fill(&db, &me, &quiet, &run).await?;
    let fill_s = started.elapsed().as_secs_f64();

    let http = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let base = ctx.target.base.clone();
    let mut outcomes = Vec::new();
    for (q, timed, quietly) in SEARCHES {
        let client = Client {
            http: &http,
            base: &base,
            me: if quietly { &quiet } else { &me },
        };
        let snapshot = ctx.target.probe.start();
        let mut latency = histogram();
        let mut first: Option<Page> = None;
        let t0 = Instant::now();
        for _ in 0..REQUESTS {
            let sent = Instant::now();
            let page = client.get(q, None).await?;
            record(&mut latency, sent.elapsed());
            first.get_or_insert(page);
        }
        let elapsed = t0.elapsed();
        let mut outcome = Outcome::new("search", timed);
        outcome.count = latency.len();
        outcome.rate = Some(latency.len() as f64 / elapsed.as_secs_f64().max(1e-9));
        outcome.latency = Latency::of(&latency);
        outcome.usage = Some(ctx.target.probe.finish(&snapshot));
        outcome.figure("q", q);
        outcome.figure("messages", (CONVERSATIONS + QUIET) * PER_CONVERSATION);
        outcome.figure("fill_s", (fill_s * 10.0).round() / 10.0);
        let page = first.ok_or("no search was answered")?;
        outcome.figure("first_page", page.results.len());
        let problems = check(&client, &db, q, page).await?;
        outcome.expect("results", &problems);
        if outcome.ok {
            outcome.check = "the same messages as the database's own search, each once".into();
        }
        outcome.note = format!("{q}, p99 target < 20 ms");
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The user's searches over HTTP.
struct Client<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    me: &'a User,
}

impl Client<'_> {
    async fn get(&self, q: &str, cursor: Option<&str>) -> Res<Page> {
        let mut params = vec![("q", q)];
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor));
        }
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/search", self.base), params)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.me.token)
            .send()
            .await?;
        let status = response.status();
        if status != 200 {
            return Err(format!("search {q}: HTTP {status}: {}", response.text().await?).into());
        }
        Ok(response.json().await?)
    }
}

/// The user's uuid, as the database keeps it.
fn uuid_of(user: &User) -> Res<uuid::Uuid> {
    let hex = user.id.strip_prefix("user_").ok_or("not a user id")?;
    Ok(uuid::Uuid::parse_str(hex)?)
}

/// Users, conversations, members and messages, straight into the tables.
async fn fill(db: &PgPool, me: &User, quiet: &User, run: &str) -> Res<()> {
    let (me, quiet) = (uuid_of(me)?, uuid_of(quiet)?);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, username, password_hash) \
         SELECT md5($1 || 'u' || i)::uuid, 'sb' || $1 || '_' || i, 'not a hash' \
         FROM generate_series(1, $2::int8) i",
    )
    .bind(run)
    .bind(OTHER_USERS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO conversations (id, kind, title, last_seq, last_change) \
         SELECT md5($1 || 'c' || i)::uuid, 'group', 'search bench ' || i, $2, $2 \
         FROM generate_series(1, $3::int8) i",
    )
    .bind(run)
    .bind(PER_CONVERSATION)
    .bind(CONVERSATIONS + QUIET)
    .execute(&mut *tx)
    .await?;
    // Five others in each (neighbouring conversations share some), the
    // user in the first 200, the quiet user in the last ten.
    sqlx::query(
        "INSERT INTO participants (conversation_id, user_id, read_seq) \
         SELECT DISTINCT md5($1 || 'c' || i)::uuid, \
                md5($1 || 'u' || ((i * 7 + k) % $3 + 1))::uuid, $4 \
         FROM generate_series(1, $2::int8 + $8) i, generate_series(0, 4) k \
         UNION ALL \
         SELECT md5($1 || 'c' || i)::uuid, $5, $4 FROM generate_series(1, $6::int8) i \
         UNION ALL \
         SELECT md5($1 || 'c' || i)::uuid, $7, $4 FROM generate_series($2::int8 + 1, $2 + $8) i",
    )
    .bind(run)
    .bind(CONVERSATIONS)
    .bind(OTHER_USERS)
    .bind(PER_CONVERSATION)
    .bind(me)
    .bind(MINE)
    .bind(quiet)
    .bind(QUIET)
    .execute(&mut *tx)
    .await?;
    // The aggregate names `g` so that it is the inner query's (one draw
    // per word), not the outer one's.
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, change, message_id, sender_id, content, \
                               client_ts, created_at) \
         SELECT md5($1 || 'c' || i)::uuid, s, s, 'sb' || $1 || '_' || i || '_' || s, \
                CASE WHEN i <= $4 AND s % 5 = 0 THEN $5 \
                     ELSE md5($1 || 'u' || ((i * 7 + s % 5) % $6 + 1))::uuid END, \
                t.content, (extract(epoch FROM t.at) * 1000)::int8, t.at \
         FROM generate_series(1, $3::int8) s, generate_series(1, $2::int8 + $8) i, \
         LATERAL (SELECT \
             (SELECT string_agg(v.w[1 + floor(array_length(v.w, 1) \
                                              * power(random(), 3) + 0 * g)::int], ' ') \
              FROM generate_series(1, 4 + (s * 7 + i) % 12) g) \
             || CASE WHEN random() < 0.01 THEN ' pull request' ELSE '' END \
             || CASE WHEN random() < 0.00005 THEN ' xylophone' ELSE '' END \
             || CASE WHEN random() < 0.2 THEN ' k' || floor(random() * 300000)::int ELSE '' END \
                AS content, \
             now() - interval '30 days' + s * interval '5184 s' + random() * interval '1 hour' \
               - CASE WHEN i > $2 THEN interval '3 days' ELSE interval '0' END AS at \
           FROM (SELECT regexp_split_to_array($7, '\\s+') AS w) v) t",
    )
    .bind(run)
    .bind(CONVERSATIONS)
    .bind(PER_CONVERSATION)
    .bind(MINE)
    .bind(me)
    .bind(OTHER_USERS)
    .bind(VOCABULARY)
    .bind(QUIET)
    .execute(&mut *tx)
    .await?;
    // Indexed as natter's indexer does it, in the same transaction.
    sqlx::query(
        "SELECT count(*) FROM index_messages( \
             ARRAY(SELECT md5($1 || 'c' || i)::uuid FROM generate_series(1, $2::int8) i), $3)",
    )
    .bind(run)
    .bind(CONVERSATIONS + QUIET)
    .bind(PER_CONVERSATION)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    progress("VACUUM ANALYZE messages, message_words");
    sqlx::query("VACUUM ANALYZE messages, message_words")
        .execute(db)
        .await?;
    Ok(())
}

/// What the server answered for `q` against the database's own answer:
/// the ids of the user's matching messages, newest first.
async fn check(client: &Client<'_>, db: &PgPool, q: &str, first: Page) -> Res<Vec<String>> {
    let mut problems = Vec::new();
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT m.message_id FROM messages m \
         JOIN message_words w ON w.conversation_id = m.conversation_id AND w.seq = m.seq \
         JOIN participants p ON p.conversation_id = m.conversation_id \
              AND p.user_id = $1 AND p.left_at IS NULL \
         WHERE m.deleted_at IS NULL AND w.tsv @@ search_query($2, $3) \
         ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC",
    )
    .bind(uuid_of(client.me)?)
    // The searches here are all words: the server's prefix rule comes
    // to "unless quoted".
    .bind(q)
    .bind(!q.ends_with('"'))
    .fetch_all(db)
    .await?;
    let first_ids: Vec<&str> = first
        .results
        .iter()
        .map(|h| h.message_id.as_str())
        .collect();
    let want: Vec<&str> = expected.iter().take(20).map(String::as_str).collect();
    if first_ids != want {
        problems.push(format!("{q}: the first page is not the 20 newest matches"));
    }
    if first
        .results
        .iter()
        .any(|h| !h.snippet.iter().any(|p| p.hit && !p.text.is_empty()))
    {
        problems.push(format!("{q}: a result without a highlighted word"));
    }
    // Every match, paged, for the searches with few (the common word has
    // ~17,000 in the user's conversations).
    if expected.len() <= 2_000 {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = client.get(q, cursor.as_deref()).await?;
            seen.extend(page.results.into_iter().map(|h| h.message_id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
            if seen.len() > expected.len() {
                break;
            }
        }
        if seen != expected {
            problems.push(format!(
                "{q}: paged {} results, the database has {} matches",
                seen.len(),
                expected.len()
            ));
        }
    }
    Ok(problems)
}
