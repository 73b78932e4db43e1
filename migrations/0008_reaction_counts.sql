-- How many reactions each message carries, kept by the statements that
-- give, take back and delete: a page looks for the reactions of only the
-- messages that have some (most have none), instead of probing the
-- reactions table once per message.
ALTER TABLE messages ADD COLUMN reactions integer NOT NULL DEFAULT 0;
UPDATE messages m SET reactions = r.n
FROM (SELECT conversation_id, seq, count(*) AS n FROM reactions GROUP BY 1, 2) r
WHERE m.conversation_id = r.conversation_id AND m.seq = r.seq;

CREATE OR REPLACE FUNCTION message_states(conv uuid, seqs bigint[], reader uuid)
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
