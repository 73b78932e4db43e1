-- Replies, reactions, edits and deletions, and one change stream per
-- conversation that carries them all.

-- Every change in a conversation (a new message, an edit, a deletion, a
-- reaction added or taken away) takes the conversation's next number;
-- `last_seq` keeps counting messages alone (places, and unread counts).
ALTER TABLE conversations ADD COLUMN last_change bigint NOT NULL DEFAULT 0;
UPDATE conversations SET last_change = last_seq;

-- The number of the message's latest change: `changes?since=N` lists the
-- messages whose `change` is above N, each as it is now.
ALTER TABLE messages ADD COLUMN change bigint NOT NULL DEFAULT 0;
UPDATE messages SET change = seq;
CREATE INDEX messages_change_idx ON messages (conversation_id, change);

-- A reply names the place of the message it answers (same conversation).
ALTER TABLE messages ADD COLUMN reply_seq bigint;
ALTER TABLE messages ADD COLUMN edited_at timestamptz;
-- A deleted message keeps its place; its text is gone (NULL), not hidden.
ALTER TABLE messages ADD COLUMN deleted_at timestamptz;
ALTER TABLE messages ALTER COLUMN content DROP NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_deleted_check
    CHECK ((deleted_at IS NULL) = (content IS NOT NULL));

-- How many reactions each message carries, kept by the statements that
-- give, take back and delete: a page looks up the reactions of only the
-- messages that have some (most have none), instead of probing the
-- reactions table once per message.
ALTER TABLE messages ADD COLUMN reactions integer NOT NULL DEFAULT 0;

-- One per person per emoji; a message's reactions go with its deletion.
CREATE TABLE reactions (
    conversation_id uuid NOT NULL,
    seq             bigint NOT NULL,
    emoji           text NOT NULL,
    user_id         uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (conversation_id, seq, emoji, user_id),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq)
        ON DELETE CASCADE
);

-- Edits, deletions and reactions done, by the id the client made for each,
-- so that a retry is answered again rather than done twice.
CREATE TABLE message_actions (
    action_id       text PRIMARY KEY,
    user_id         uuid NOT NULL,
    conversation_id uuid NOT NULL,
    message_id      text NOT NULL,
    kind            text NOT NULL,
    -- The change it made; NULL when it changed nothing (a reaction that
    -- was already there).
    change          bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Messages as a reader sees them now, in the order of `seqs`: text (NULL
-- once deleted), when it was last edited (ms since the epoch), the message it replies to as a
-- quote of its present text, and its reactions as
-- [emoji, count, reader reacted, first ten who did] in the order they
-- were first given. One definition for history pages, pages around a
-- message and the change stream.
CREATE FUNCTION message_states(conv uuid, seqs bigint[], reader uuid)
RETURNS TABLE (
    seq bigint, message_id text, sender_id uuid, content text, client_ts bigint,
    change bigint, edited_ms bigint, deleted boolean,
    reply_message_id text, reply_sender_id uuid, reply_excerpt text, reply_deleted boolean,
    reactions jsonb)
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
           END
    FROM unnest(seqs) WITH ORDINALITY AS s(seq, ord)
    JOIN messages m ON m.conversation_id = conv AND m.seq = s.seq
    LEFT JOIN messages q ON q.conversation_id = conv AND q.seq = m.reply_seq
    ORDER BY s.ord
$$;
