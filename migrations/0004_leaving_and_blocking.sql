-- Leaving a group and blocking people.

-- A member who leaves a group keeps their row, marked with when they left
-- (their old messages keep a name); the members are the rows without it.
ALTER TABLE participants ADD COLUMN left_at timestamptz;

-- Who blocked whom: no new conversation may hold both, and neither may send
-- in a direct chat between them.
CREATE TABLE blocks (
    blocker    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker, blocked),
    CONSTRAINT blocks_not_self_check CHECK (blocker <> blocked)
);

-- "Has anyone in this set blocked anyone else in it": probed from both ends.
CREATE INDEX blocks_blocked_idx ON blocks (blocked, blocker);
