-- Conversations, their participants and messages.

CREATE TABLE conversations (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    title         text,
    -- The two members of a direct chat, smaller id first. The unique
    -- constraint makes "one direct chat per pair" the database's rule.
    direct_low    uuid REFERENCES users (id),
    direct_high   uuid REFERENCES users (id),
    -- The sequence number of the newest message (0 while empty). Each send
    -- advances it in the same statement that inserts the message, so the
    -- per-conversation order is the commit order.
    last_seq      bigint NOT NULL DEFAULT 0,
    last_activity timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_kind_check CHECK (kind IN ('direct', 'group')),
    CONSTRAINT conversations_direct_pair_key UNIQUE (direct_low, direct_high),
    CONSTRAINT conversations_direct_shape_check CHECK (
        (kind = 'direct' AND direct_low IS NOT NULL AND direct_high IS NOT NULL
            AND direct_low < direct_high)
        OR (kind = 'group' AND direct_low IS NULL AND direct_high IS NULL))
);

CREATE TABLE participants (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Everything up to this sequence number is read. A send moves the
    -- sender's own marker to the message, so `last_seq - read_seq` counts
    -- only what others wrote since: the unread count without a count(*).
    read_seq        bigint NOT NULL DEFAULT 0,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);

-- The inbox: a range scan over one user's conversations.
CREATE INDEX participants_user_idx ON participants (user_id, conversation_id);

CREATE TABLE messages (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    -- Made by the sending client; one message per id, whatever the number
    -- of retries.
    message_id      text NOT NULL,
    -- Not a foreign key: the sender was checked to be a participant, and a
    -- per-row key-share lock on the hot users row would serialise senders.
    sender_id       uuid NOT NULL,
    content         text NOT NULL,
    -- The client's clock (ms), clamped when more than 60 s ahead.
    client_ts       bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- History pages: a backwards range scan of this key.
    PRIMARY KEY (conversation_id, seq),
    -- Idempotent retries and cursors: lookup by the client's id.
    CONSTRAINT messages_message_id_key UNIQUE (message_id),
    CONSTRAINT messages_content_check CHECK (char_length(content) BETWEEN 1 AND 4000)
);
