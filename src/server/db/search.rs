//! Message search: which messages of a user's conversations match, in
//! which order, and each found message as a result (with its snippet).
//!
//! Newest first, the matches are found by `search_newest`; by rank, here
//! (every match, ranked).

use crate::protocol::{
    ConversationId, ConversationKind, MessageId, SearchHit, SearchQuery, UserId, snippet_pieces,
};
use sqlx::PgExecutor;

/// Where a result is in the order of a search: opaque to clients, it is
/// `<µs>_<seq>_<conversation_id>` newest first, with `<rank>_` before it by
/// rank.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SearchCursor {
    pub(crate) rank: Option<f32>,
    /// When the message was stored, in µs since the epoch.
    pub(crate) at_us: i64,
    pub(crate) seq: i64,
    pub(crate) conversation: ConversationId,
}

/// Times a cursor may hold: from the epoch to the year 10000.
const LATEST_US: i64 = 253_402_300_800_000_000;

impl SearchCursor {
    /// `None` unless `text` is a cursor of a search in this order.
    pub(crate) fn parse(text: &str, ranked: bool) -> Option<Self> {
        let (rank, text) = if ranked {
            let (rank, rest) = text.split_once('_')?;
            let rank = rank.parse::<f32>().ok().filter(|r| r.is_finite())?;
            (Some(rank), rest)
        } else {
            (None, text)
        };
        let (micros, rest) = text.split_once('_')?;
        let (seq, conversation) = rest.split_once('_')?;
        let at_us: i64 = micros.parse().ok()?;
        Some(Self {
            rank,
            at_us: (0..LATEST_US).contains(&at_us).then_some(at_us)?,
            seq: seq.parse().ok()?,
            conversation: ConversationId::parse(conversation)?,
        })
    }
}

impl std::fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(rank) = self.rank {
            write!(f, "{rank}_")?;
        }
        write!(f, "{}_{}_{}", self.at_us, self.seq, self.conversation)
    }
}

/// A message that matched, and its place in the order.
pub(crate) struct Found {
    pub(crate) conversation_id: ConversationId,
    pub(crate) seq: i64,
    pub(crate) at_us: i64,
    pub(crate) rank: Option<f32>,
}

impl Found {
    fn cursor(&self) -> SearchCursor {
        SearchCursor {
            rank: self.rank,
            at_us: self.at_us,
            seq: self.seq,
            conversation: self.conversation_id,
        }
    }
}

/// The parts of a cursor as the statements take them (none: from the top).
pub(crate) fn bounds(
    after: Option<SearchCursor>,
) -> (Option<i64>, Option<ConversationId>, Option<i64>) {
    match after {
        Some(c) => (Some(c.at_us), Some(c.conversation), Some(c.seq)),
        None => (None, None, None),
    }
}

/// Up to `limit` results of `query` for `reader` after `after`, newest
/// first (or best first when `ranked`), and the cursor of the last one
/// when more follow.
pub(crate) async fn search(
    db: &sqlx::PgPool,
    reader: UserId,
    query: &SearchQuery,
    ranked: bool,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<(Vec<SearchHit>, Option<SearchCursor>)> {
    let mut found = if ranked {
        by_rank(db, reader, query, after, limit + 1).await?
    } else {
        super::search_newest::newest(db, reader, query, after, limit + 1).await?
    };
    let more = found.len() as i64 > limit;
    found.truncate(limit as usize);
    let next = more.then(|| found.last().map(Found::cursor)).flatten();
    let hits = describe(db, reader, query, &found).await?;
    Ok((hits, next))
}

/// Every match in the reader's conversations, best first (`ts_rank`),
/// newest first among equals, after `after`. The GIN index drives (the
/// fence), membership is checked on its matches, and only theirs ranked.
async fn by_rank(
    db: impl PgExecutor<'_>,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let (at_us, conversation, seq) = bounds(after);
    sqlx::query_as!(
        Found,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
           found AS MATERIALIZED (
               SELECT m.created_at, m.conversation_id, m.seq, m.sender_id, m.tsv
               FROM message_words m CROSS JOIN q
               WHERE m.tsv @@ q.q),
           hits AS MATERIALIZED (
               SELECT f.created_at, f.conversation_id, f.seq, ts_rank(f.tsv, q.q) AS rank
               FROM found f
               JOIN participants p
                 ON p.conversation_id = f.conversation_id AND p.user_id = $7
                AND p.left_at IS NULL
               CROSS JOIN q
               WHERE ($8::uuid IS NULL OR f.conversation_id = $8)
                 AND ($9::text IS NULL OR f.sender_id = (SELECT id FROM users WHERE username = $9)))
           SELECT conversation_id AS "conversation_id!: ConversationId", seq AS "seq!",
                  (extract(epoch FROM created_at) * 1000000)::int8 AS "at_us!",
                  rank AS "rank?"
           FROM hits
           WHERE $10::float4 IS NULL
              OR (rank, created_at, conversation_id, seq)
                 < ($10::float4, 'epoch'::timestamptz + $3::int8 * interval '1 microsecond',
                    $4::uuid, $5::int8)
           ORDER BY rank DESC, created_at DESC, conversation_id DESC, seq DESC
           LIMIT $6"#,
        query.words,
        query.prefix,
        at_us,
        conversation as Option<ConversationId>,
        seq,
        limit,
        reader as UserId,
        query.conversation as Option<ConversationId>,
        query.from.as_ref().map(ToString::to_string),
        after.and_then(|c| c.rank),
    )
    .fetch_all(db)
    .await
}

struct HitRow {
    message_id: MessageId,
    conversation_id: ConversationId,
    kind: String,
    title: Option<String>,
    participant_name: Option<String>,
    sender_id: UserId,
    sender_name: String,
    timestamp: i64,
    snippet: String,
}

/// The found messages as results, in the same order: one statement of
/// key lookups, the snippets made for these alone. One deleted since it
/// was found is left out.
async fn describe(
    db: impl PgExecutor<'_>,
    reader: UserId,
    query: &SearchQuery,
    found: &[Found],
) -> sqlx::Result<Vec<SearchHit>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let conversations: Vec<ConversationId> = found.iter().map(|f| f.conversation_id).collect();
    let seqs: Vec<i64> = found.iter().map(|f| f.seq).collect();
    let rows = sqlx::query_as!(
        HitRow,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q)
           SELECT m.message_id AS "message_id!: MessageId",
                  m.conversation_id AS "conversation_id!: ConversationId",
                  c.kind AS "kind!", c.title,
                  (SELECT username FROM users
                   WHERE c.kind = 'direct'
                     AND id = CASE WHEN c.direct_low = $3 THEN c.direct_high
                                   ELSE c.direct_low END) AS "participant_name?",
                  m.sender_id AS "sender_id!: UserId",
                  coalesce(u.username, '') AS "sender_name!",
                  m.client_ts AS "timestamp!",
                  search_snippet(m.content, q.q) AS "snippet!"
           FROM unnest($4::uuid[], $5::int8[]) WITH ORDINALITY AS k(conversation_id, seq, ord)
           JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
           JOIN conversations c ON c.id = m.conversation_id
           LEFT JOIN users u ON u.id = m.sender_id
           CROSS JOIN q
           WHERE m.deleted_at IS NULL
           ORDER BY k.ord"#,
        query.words,
        query.prefix,
        reader as UserId,
        &conversations as &[ConversationId],
        &seqs,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SearchHit {
            message_id: r.message_id,
            conversation_id: r.conversation_id,
            kind: if r.kind == "direct" {
                ConversationKind::Direct
            } else {
                ConversationKind::Group
            },
            title: r.title,
            participant_name: r.participant_name,
            sender_id: r.sender_id,
            sender_name: r.sender_name,
            timestamp: r.timestamp,
            snippet: snippet_pieces(&r.snippet),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_nothing_else_is_one() {
        let conversation = ConversationId::parse("conv_0190a6f8c2b47cc1a1b2c3d4e5f60718").unwrap();
        let newest = SearchCursor {
            rank: None,
            at_us: 1_713_087_600_000_123,
            seq: 42,
            conversation,
        };
        let text = newest.to_string();
        assert_eq!(
            text,
            "1713087600000123_42_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718"
        );
        assert_eq!(SearchCursor::parse(&text, false), Some(newest));
        assert_eq!(SearchCursor::parse(&text, true), None, "not a ranked one");
        let ranked = SearchCursor {
            rank: Some(0.060_792_7),
            ..newest
        };
        assert_eq!(SearchCursor::parse(&ranked.to_string(), true), Some(ranked));
        for bad in [
            "",
            "x",
            "1_2",
            "-1_2_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "999999999999999999_2_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "1_x_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718",
            "1_2_user_0190a6f8c2b47cc1a1b2c3d4e5f60718",
        ] {
            assert_eq!(SearchCursor::parse(bad, false), None, "{bad}");
        }
        assert_eq!(
            SearchCursor::parse("NaN_1_2_conv_0190a6f8c2b47cc1a1b2c3d4e5f60718", true),
            None
        );
    }
}
