-- Expired sessions are deleted a batch at a time by every node's session
-- sweep ("DELETE ... WHERE expires_at <= now() LIMIT n"): an index keeps
-- that from reading the whole table.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
