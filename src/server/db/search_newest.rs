//! Newest-first search: the matches after a cursor, found the cheapest
//! way for this search. Which way is picked by what a first look finds
//! rather than by the planner's guess: PostgreSQL's statistics know only
//! the commonest words, and a prepared statement is planned once for any
//! words. Measured on 1,000,000 messages with the user in a tenth of the
//! traffic (the `search` benchmark):
//!
//! 1. [`walk`] the newest [`WALK_WINDOW`] messages from the cursor (a
//!    backwards scan of `message_words_order_idx`, in the index alone),
//!    testing those of the user's conversations (a primary-key lookup
//!    each). A word in one message of twenty fills its page there (~2 ms).
//! 2. Found some but not a page: the rate found says how many messages a
//!    page needs. Up to [`WALK_MAX`], walk that many (~0.5 µs each):
//!    a word in one message of fifty.
//! 3. More: [`matches`] within the time those messages span (extrapolated
//!    from the first walk's), the GIN index's matches ANDed with the
//!    order index's range before any row is read (~6 ms for a phrase in
//!    one message of a hundred).
//! 4. Nothing found, or still not a page: every match of the user's
//!    conversations, read the cheaper of two ways, as [`last_resort`]
//!    judges: [`matches`] from the start of time, the GIN index's matches
//!    of everyone's conversations (few, for a rare word: ~1 ms), or
//!    [`in_mine`], every message of the user's own conversations (few, for
//!    someone whose chats are small and were quiet while the rest of the
//!    server was busy: a common word then costs them their own messages,
//!    not the server's hundreds of thousands of matches).
//!
//! A search `in:` one conversation is none of these: [`in_conversation`]
//! reads that conversation's matches alone (its key, ANDed with the GIN
//! index), however quiet it has been.
//!
//! The weak case left: a common word searched by someone in many long
//! chats, all quiet while the server was busy (both last resorts read a lot).

use super::search::{Found, SearchCursor};
use crate::protocol::{ConversationId, SearchQuery, UserId};
use sqlx::PgPool;

/// Messages (of anyone's conversations) the first walk looks at.
pub(crate) const WALK_WINDOW: i64 = 4_000;
/// ... and a wider walk at most; past it, the GIN index within a time.
pub(crate) const WALK_MAX: i64 = 12_000;

/// Up to `limit` matches after `after`, newest first.
pub(crate) async fn newest(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    if let Some(conversation) = query.conversation {
        return in_conversation(db, reader, query, conversation, after, limit).await;
    }
    let first = walk(db, reader, query, after, WALK_WINDOW, limit).await?;
    let found = first.hits.len() as i64;
    // A full page, or every message there is was looked at.
    if found >= limit || first.walked < WALK_WINDOW {
        return Ok(first.hits);
    }
    if found > 0 {
        // Twice what the rate found says: a page short by chance costs a
        // fall back to everything.
        let needed = WALK_WINDOW * limit * 2 / found;
        if needed <= WALK_MAX {
            let wider = walk(db, reader, query, after, needed, limit).await?;
            if wider.hits.len() as i64 >= limit || wider.walked < needed {
                return Ok(wider.hits);
            }
        } else if let (Some(oldest), Some(newest)) = (first.oldest_us, first.newest_us) {
            let span = (newest - oldest).max(1);
            let since = newest.saturating_sub(span.saturating_mul(needed / WALK_WINDOW + 1));
            let within = matches(db, reader, query, after, Some(since), limit).await?;
            if within.len() as i64 >= limit {
                return Ok(within);
            }
        }
    }
    last_resort(db, reader, query, after, limit).await
}

/// Messages of the newest ones [`last_resort`] tests to tell how common
/// the search is.
const SAMPLE: i64 = 1_000;

/// Every match of the reader's conversations after `after`: from the GIN
/// index if the search's matches (as in the newest [`SAMPLE`] messages)
/// are fewer than the messages of the reader's conversations, else by
/// reading those. The sample is read by key (the fence): left to the
/// planner, it read all matches from the GIN index (74 ms, not 1).
async fn last_resort(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let sizes = sqlx::query!(
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
           recent AS MATERIALIZED (
               SELECT conversation_id, seq FROM message_words
               ORDER BY created_at DESC, conversation_id DESC, seq DESC
               LIMIT $3)
           SELECT (SELECT count(*) FROM recent r
                   CROSS JOIN LATERAL (
                       SELECT tsv FROM message_words
                       WHERE conversation_id = r.conversation_id AND seq = r.seq
                       OFFSET 0) m
                   CROSS JOIN q WHERE m.tsv @@ q.q) AS "hits!",
                  (SELECT count(*) FROM recent) AS "sampled!",
                  (SELECT coalesce(sum(c.last_seq), 0)::int8 FROM participants p
                   JOIN conversations c ON c.id = p.conversation_id
                   WHERE p.user_id = $4 AND p.left_at IS NULL) AS "mine!",
                  (SELECT greatest(reltuples, 0)::int8 FROM pg_class
                   WHERE oid = 'message_words'::regclass) AS "stored!""#,
        query.words,
        query.prefix,
        SAMPLE,
        reader as UserId,
    )
    .fetch_one(db)
    .await?;
    if read_mine(sizes.hits, sizes.sampled, sizes.stored, sizes.mine) {
        in_mine(db, reader, query, after, limit).await
    } else {
        matches(db, reader, query, after, None, limit).await
    }
}

/// Whether reading the `mine` messages of the reader's conversations is
/// cheaper than the GIN index's matches: `hits` of `sampled` recent
/// messages matched, of about `stored` in all.
fn read_mine(hits: i64, sampled: i64, stored: i64, mine: i64) -> bool {
    let matches = (hits as f64 / sampled.max(1) as f64) * stored as f64;
    (mine as f64) < matches
}

/// Every match in the reader's conversations after `after`, newest first,
/// at most `limit`, read from each conversation's rows by its key: the
/// fence keeps the search's words out of the conversation's scan, so the
/// GIN index (all of the server's matches) is never read for it.
async fn in_mine(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let (at_us, conversation, seq) = super::search::bounds(after);
    sqlx::query_as!(
        Found,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q)
           SELECT m.conversation_id AS "conversation_id!: ConversationId", m.seq AS "seq!",
                  (extract(epoch FROM m.created_at) * 1000000)::int8 AS "at_us!",
                  NULL::float4 AS "rank?"
           FROM participants p
           CROSS JOIN LATERAL (
               SELECT created_at, conversation_id, seq, sender_id, tsv FROM message_words
               WHERE conversation_id = p.conversation_id
               OFFSET 0) m
           CROSS JOIN q
           WHERE p.user_id = $7 AND p.left_at IS NULL AND m.tsv @@ q.q
             AND ($8::uuid IS NULL OR m.conversation_id = $8)
             AND ($9::text IS NULL OR m.sender_id = (SELECT id FROM users WHERE username = $9))
             AND ((extract(epoch FROM m.created_at) * 1000000)::int8, m.conversation_id, m.seq)
                 < (coalesce($3::int8, 9223372036854775807),
                    coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                    coalesce($5::int8, 9223372036854775807))
           ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC
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
    )
    .fetch_all(db)
    .await
}

/// A walk's matches, how many messages it looked at, and the time they
/// span.
struct Walked {
    hits: Vec<Found>,
    walked: i64,
    oldest_us: Option<i64>,
    newest_us: Option<i64>,
}

struct WalkRow {
    walked: i64,
    oldest_us: Option<i64>,
    newest_us: Option<i64>,
    conversation_id: Option<ConversationId>,
    seq: Option<i64>,
    at_us: Option<i64>,
}

/// The matches among the newest `window` messages after `after`: the
/// order index alone picks them, the membership test is a hash of the
/// reader's conversations, and each candidate's words are a primary-key
/// lookup. At most `limit`.
async fn walk(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    window: i64,
    limit: i64,
) -> sqlx::Result<Walked> {
    let (at_us, conversation, seq) = super::search::bounds(after);
    let rows = sqlx::query_as!(
        WalkRow,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
           recent AS MATERIALIZED (
               SELECT created_at, conversation_id, seq FROM message_words
               WHERE (created_at, conversation_id, seq)
                     < (coalesce('epoch'::timestamptz + $3::int8 * interval '1 microsecond',
                                 'infinity'),
                        coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                        coalesce($5::int8, 9223372036854775807))
               ORDER BY created_at DESC, conversation_id DESC, seq DESC
               LIMIT $6),
           span AS (
               SELECT count(*) AS walked,
                      (extract(epoch FROM min(created_at)) * 1000000)::int8 AS oldest_us,
                      (extract(epoch FROM max(created_at)) * 1000000)::int8 AS newest_us
               FROM recent),
           hits AS (
               SELECT r.created_at, r.conversation_id, r.seq
               FROM recent r
               JOIN participants p
                 ON p.conversation_id = r.conversation_id AND p.user_id = $7
                AND p.left_at IS NULL
               JOIN message_words m ON m.conversation_id = r.conversation_id AND m.seq = r.seq
               CROSS JOIN q
               WHERE m.tsv @@ q.q
                 AND ($8::uuid IS NULL OR r.conversation_id = $8)
                 AND ($9::text IS NULL
                      OR m.sender_id = (SELECT id FROM users WHERE username = $9))
               ORDER BY r.created_at DESC, r.conversation_id DESC, r.seq DESC
               LIMIT $10)
           SELECT s.walked AS "walked!", s.oldest_us, s.newest_us,
                  h.conversation_id AS "conversation_id?: ConversationId", h.seq AS "seq?",
                  (extract(epoch FROM h.created_at) * 1000000)::int8 AS "at_us?"
           FROM span s LEFT JOIN hits h ON true
           ORDER BY h.created_at DESC, h.conversation_id DESC, h.seq DESC"#,
        query.words,
        query.prefix,
        at_us,
        conversation as Option<ConversationId>,
        seq,
        window,
        reader as UserId,
        query.conversation as Option<ConversationId>,
        query.from.as_ref().map(ToString::to_string),
        limit,
    )
    .fetch_all(db)
    .await?;
    let (walked, oldest_us, newest_us) = rows
        .first()
        .map_or((0, None, None), |r| (r.walked, r.oldest_us, r.newest_us));
    let hits = rows
        .into_iter()
        .filter_map(|r| {
            Some(Found {
                conversation_id: r.conversation_id?,
                seq: r.seq?,
                at_us: r.at_us?,
                rank: None,
            })
        })
        .collect();
    Ok(Walked {
        hits,
        walked,
        oldest_us,
        newest_us,
    })
}

/// Every match in the reader's conversations after `after` (and stored
/// since `since_us`, when given), newest first, at most `limit`. From the
/// GIN index; a `since_us` lets PostgreSQL AND it with the order index's
/// range before reading any row. The fence makes the GIN index drive:
/// without it the planner may walk the order index with the search as a
/// filter, or read every message of the reader's conversations one
/// conversation at a time (it did, 150 ms for a rare word, when its
/// statistics on members were stale); only the matches are then checked
/// for membership. Two statements,
/// and in the one without a bound the cursor compared as a number, which
/// no index holds: a plan made once for any bound (a prepared
/// statement's) would otherwise AND in the order index's range of every
/// message there is (a hundred times slower for a rare word).
async fn matches(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    since_us: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let (at_us, conversation, seq) = super::search::bounds(after);
    let from = query.from.as_ref().map(ToString::to_string);
    let Some(since_us) = since_us else {
        return sqlx::query_as!(
            Found,
            r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
               hits AS MATERIALIZED (
                   SELECT m.created_at, m.conversation_id, m.seq, m.sender_id
                   FROM message_words m CROSS JOIN q
                   WHERE m.tsv @@ q.q
                     AND ((extract(epoch FROM m.created_at) * 1000000)::int8,
                          m.conversation_id, m.seq)
                         < (coalesce($3::int8, 9223372036854775807),
                            coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                            coalesce($5::int8, 9223372036854775807)))
               SELECT h.conversation_id AS "conversation_id!: ConversationId", h.seq AS "seq!",
                      (extract(epoch FROM h.created_at) * 1000000)::int8 AS "at_us!",
                      NULL::float4 AS "rank?"
               FROM hits h
               JOIN participants p
                 ON p.conversation_id = h.conversation_id AND p.user_id = $7
                AND p.left_at IS NULL
               WHERE ($8::uuid IS NULL OR h.conversation_id = $8)
                 AND ($9::text IS NULL
                      OR h.sender_id = (SELECT id FROM users WHERE username = $9))
               ORDER BY h.created_at DESC, h.conversation_id DESC, h.seq DESC
               LIMIT $6"#,
            query.words,
            query.prefix,
            at_us,
            conversation as Option<ConversationId>,
            seq,
            limit,
            reader as UserId,
            query.conversation as Option<ConversationId>,
            from,
        )
        .fetch_all(db)
        .await;
    };
    sqlx::query_as!(
        Found,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
           hits AS MATERIALIZED (
               SELECT m.created_at, m.conversation_id, m.seq, m.sender_id
               FROM message_words m CROSS JOIN q
               WHERE m.tsv @@ q.q
                 AND m.created_at >= 'epoch'::timestamptz + $10::int8 * interval '1 microsecond'
                 AND (m.created_at, m.conversation_id, m.seq)
                     < (coalesce('epoch'::timestamptz + $3::int8 * interval '1 microsecond',
                                 'infinity'),
                        coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                        coalesce($5::int8, 9223372036854775807)))
           SELECT h.conversation_id AS "conversation_id!: ConversationId", h.seq AS "seq!",
                  (extract(epoch FROM h.created_at) * 1000000)::int8 AS "at_us!",
                  NULL::float4 AS "rank?"
           FROM hits h
           JOIN participants p
             ON p.conversation_id = h.conversation_id AND p.user_id = $7 AND p.left_at IS NULL
           WHERE ($8::uuid IS NULL OR h.conversation_id = $8)
             AND ($9::text IS NULL OR h.sender_id = (SELECT id FROM users WHERE username = $9))
           ORDER BY h.created_at DESC, h.conversation_id DESC, h.seq DESC
           LIMIT $6"#,
        query.words,
        query.prefix,
        at_us,
        conversation as Option<ConversationId>,
        seq,
        limit,
        reader as UserId,
        query.conversation as Option<ConversationId>,
        from,
        since_us,
    )
    .fetch_all(db)
    .await
}

/// The matches in `conversation`, if `reader` is in it, after `after`,
/// newest first, at most `limit`: the conversation's rows by its key
/// ANDed with the GIN index's matches. The fence keeps the planner from
/// walking the order index of every conversation for this one's.
async fn in_conversation(
    db: &PgPool,
    reader: UserId,
    query: &SearchQuery,
    conversation: ConversationId,
    after: Option<SearchCursor>,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let (at_us, cursor_conversation, seq) = super::search::bounds(after);
    sqlx::query_as!(
        Found,
        r#"WITH q AS MATERIALIZED (SELECT search_query($1, $2) AS q),
           hits AS MATERIALIZED (
               SELECT m.created_at, m.conversation_id, m.seq
               FROM message_words m CROSS JOIN q
               WHERE m.conversation_id = $7 AND m.tsv @@ q.q
                 AND EXISTS (SELECT 1 FROM participants
                             WHERE conversation_id = $7 AND user_id = $8 AND left_at IS NULL)
                 AND ($9::text IS NULL OR m.sender_id = (SELECT id FROM users WHERE username = $9))
                 AND ((extract(epoch FROM m.created_at) * 1000000)::int8,
                      m.conversation_id, m.seq)
                     < (coalesce($3::int8, 9223372036854775807),
                        coalesce($4::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                        coalesce($5::int8, 9223372036854775807)))
           SELECT conversation_id AS "conversation_id!: ConversationId", seq AS "seq!",
                  (extract(epoch FROM created_at) * 1000000)::int8 AS "at_us!",
                  NULL::float4 AS "rank?"
           FROM hits
           ORDER BY created_at DESC, conversation_id DESC, seq DESC
           LIMIT $6"#,
        query.words,
        query.prefix,
        at_us,
        cursor_conversation as Option<ConversationId>,
        seq,
        limit,
        conversation as ConversationId,
        reader as UserId,
        query.from.as_ref().map(ToString::to_string),
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::read_mine;

    #[test]
    fn a_common_word_reads_a_quiet_readers_own_messages_and_a_rare_one_the_index() {
        // A word in one message of six of a million; the reader's chats
        // hold 5,000: theirs are fewer than its 170,000 matches.
        assert!(read_mine(170, 1_000, 1_000_000, 5_000));
        // Not in the sample, or nothing sampled: the index.
        assert!(!read_mine(0, 1_000, 1_000_000, 5_000));
        assert!(!read_mine(0, 0, 0, 10));
        // Chats of 100,000 messages: the index, for a word in one of 20.
        assert!(!read_mine(50, 1_000, 1_000_000, 100_000));
    }
}
