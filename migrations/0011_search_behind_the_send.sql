-- Search indexing behind the send path. Computing each message's words and
-- keeping two indexes of them inside the send statement cost `send` about
-- 15% of its throughput (measured in the README). The words now live in a
-- table of their own, filled by natter's indexer shortly after each commit
-- (and by an edit or deletion in its own transaction), so a send stores and
-- indexes only what delivery and history need.

-- A message's words as it is now (an edit rewrites them; a deleted message
-- keeps an empty row, which nothing matches), with what a search filters
-- and orders by, so that finding matches never reads `messages`. No
-- foreign keys, here or below: natter never removes a message or a
-- conversation, a result is shown only through its `messages` row, and a
-- key check would lock each row the indexer reads (on `conversations`, the
-- row every send updates).
CREATE TABLE message_words (
    conversation_id uuid NOT NULL,
    seq             bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    sender_id       uuid NOT NULL,
    tsv             tsvector NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- How far each conversation is indexed: every message up to `indexed_seq`
-- has its row. Apart from `message_words` so that an edit, which writes a
-- row of any place, never looks like progress.
CREATE TABLE search_progress (
    conversation_id uuid PRIMARY KEY,
    indexed_seq     bigint NOT NULL
);

-- Indexes up to `most` more messages of each of the conversations `ids`
-- (those behind), and moves their progress. Answers each conversation it
-- worked on and whether it is still behind. Safe to run from several
-- nodes at once: a row already there is kept (an edit's is newer than what
-- this statement read), progress only grows, and rows go in key order.
CREATE FUNCTION index_messages(ids uuid[], most bigint)
RETURNS TABLE (conversation_id uuid, behind boolean)
LANGUAGE sql AS $$
    WITH todo AS MATERIALIZED (
        SELECT c.id, coalesce(p.indexed_seq, 0) AS from_seq,
               least(c.last_seq, coalesce(p.indexed_seq, 0) + most) AS to_seq,
               c.last_seq
        FROM conversations c
        LEFT JOIN search_progress p ON p.conversation_id = c.id
        WHERE c.id = ANY (ids) AND c.last_seq > coalesce(p.indexed_seq, 0)),
    words AS (
        INSERT INTO message_words (conversation_id, seq, created_at, sender_id, tsv)
        SELECT m.conversation_id, m.seq, m.created_at, m.sender_id,
               to_tsvector('simple'::regconfig, coalesce(m.content, ''))
        FROM todo t
        JOIN messages m ON m.conversation_id = t.id AND m.seq > t.from_seq AND m.seq <= t.to_seq
        ORDER BY m.conversation_id, m.seq
        ON CONFLICT ON CONSTRAINT message_words_pkey DO NOTHING),
    moved AS (
        INSERT INTO search_progress (conversation_id, indexed_seq)
        SELECT id, to_seq FROM todo ORDER BY id
        ON CONFLICT ON CONSTRAINT search_progress_pkey
        DO UPDATE SET indexed_seq = greatest(search_progress.indexed_seq, excluded.indexed_seq))
    SELECT id, to_seq < last_seq FROM todo
$$;

-- One message's words again, after an edit or deletion, in that change's
-- transaction: a row the indexer is writing at the same moment waits for
-- it, or it for the indexer's, and the newer text wins either way.
CREATE FUNCTION reindex_message(conv uuid, place bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO message_words (conversation_id, seq, created_at, sender_id, tsv)
    SELECT m.conversation_id, m.seq, m.created_at, m.sender_id,
           to_tsvector('simple'::regconfig, coalesce(m.content, ''))
    FROM messages m WHERE m.conversation_id = conv AND m.seq = place
    ON CONFLICT ON CONSTRAINT message_words_pkey DO UPDATE SET tsv = excluded.tsv
$$;

-- What is there already, indexed now.
INSERT INTO message_words (conversation_id, seq, created_at, sender_id, tsv)
SELECT conversation_id, seq, created_at, sender_id, tsv FROM messages;
INSERT INTO search_progress (conversation_id, indexed_seq)
SELECT id, last_seq FROM conversations WHERE last_seq > 0;

DROP INDEX messages_tsv_idx;
DROP INDEX messages_search_order_idx;
ALTER TABLE messages DROP COLUMN tsv;

CREATE INDEX message_words_tsv_idx ON message_words USING gin (tsv);
-- Results newest first across conversations (see 0009).
CREATE INDEX message_words_order_idx ON message_words (created_at, conversation_id, seq);
