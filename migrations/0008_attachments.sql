-- Files sent with messages: the bytes are in the object store under the
-- attachment's id; this is what natter knows of each, and whose it is.
CREATE TABLE attachments (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    uploader        uuid NOT NULL REFERENCES users (id),
    name            text NOT NULL,
    content_type    text NOT NULL,
    size            bigint NOT NULL CHECK (size > 0),
    -- Images natter shows inline (and has a thumbnail of): both or neither.
    width           integer,
    height          integer,
    CHECK ((width IS NULL) = (height IS NULL)),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- The message it was sent with, once claimed by a send, and its place
    -- among that message's. The claim comes just before the message is
    -- stored, and `sent` is set by the statement that stores it; a claim
    -- whose message never was stored is swept like an unsent upload, an
    -- hour after the claim.
    message_id      text,
    position        smallint,
    claimed_at      timestamptz,
    CHECK ((message_id IS NULL) = (position IS NULL) AND (message_id IS NULL) = (claimed_at IS NULL)),
    sent            boolean NOT NULL DEFAULT false
);

-- The sweep of uploads never sent: only the few unsent rows are indexed.
CREATE INDEX attachments_unsent_idx ON attachments (coalesce(claimed_at, created_at))
    WHERE NOT sent;
-- A message's files (deleting it deletes them).
CREATE INDEX attachments_message_idx ON attachments (message_id) WHERE message_id IS NOT NULL;
-- One uploader's bytes of the last 24 hours (the daily volume).
CREATE INDEX attachments_uploader_idx ON attachments (uploader, created_at);

-- What a message carries, as sent ([{attachment_id, name, size,
-- content_type, width?, height?}], in order): written with the message in
-- the same statement, so that history pages and pushes read no other table.
-- NULL when it has none, and once the message is deleted.
ALTER TABLE messages ADD COLUMN attachments jsonb;

-- A message of files alone has no text ('').
ALTER TABLE messages DROP CONSTRAINT messages_content_check;
ALTER TABLE messages ADD CONSTRAINT messages_content_check CHECK (
    char_length(content) BETWEEN 1 AND 4000
    OR (content = '' AND attachments IS NOT NULL));

-- message_states (0007) with the attachments.
DROP FUNCTION message_states(uuid, bigint[], uuid);
CREATE FUNCTION message_states(conv uuid, seqs bigint[], reader uuid)
RETURNS TABLE (
    seq bigint, message_id text, sender_id uuid, content text, client_ts bigint,
    change bigint, edited_ms bigint, deleted boolean,
    reply_message_id text, reply_sender_id uuid, reply_excerpt text, reply_deleted boolean,
    reactions jsonb, attachments jsonb)
LANGUAGE sql STABLE AS $$
    SELECT m.seq, m.message_id, m.sender_id, m.content, m.client_ts,
           m.change, (extract(epoch FROM m.edited_at) * 1000)::bigint, m.deleted_at IS NOT NULL,
           q.message_id, q.sender_id, left(q.content, 100), q.deleted_at IS NOT NULL,
           CASE WHEN m.reactions > 0 THEN
           (SELECT jsonb_agg(jsonb_build_array(r.emoji, r.n, r.mine, r.users) ORDER BY r.first)
            FROM (SELECT x.emoji, count(*) AS n, bool_or(x.user_id = reader) AS mine,
                         (array_agg(x.user_id ORDER BY x.created_at))[1:10] AS users,
                         min(x.created_at) AS first
                  FROM reactions x
                  WHERE x.conversation_id = conv AND x.seq = m.seq
                  GROUP BY x.emoji) r)
           END,
           m.attachments
    FROM unnest(seqs) WITH ORDINALITY AS s(seq, ord)
    JOIN messages m ON m.conversation_id = conv AND m.seq = s.seq
    LEFT JOIN messages q ON q.conversation_id = conv AND q.seq = m.reply_seq
    ORDER BY s.ord
$$;
