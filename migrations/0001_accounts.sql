-- Accounts and sessions.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- "C" collation: byte order, so `username LIKE 'pre%'` is a range scan
    -- of the unique index whatever the database's default collation.
    username      text COLLATE "C" NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9_]{3,32}$')
);

-- A session is a random token held by the client (cookie or bearer); only
-- its SHA-256 is stored, so a leaked table cannot be replayed.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
