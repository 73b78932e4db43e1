-- Presence and delivery ticks.

-- When the user was last online: written once when their last connection
-- on a node has been closed for the grace period (never per message).
ALTER TABLE users ADD COLUMN last_seen_at timestamptz;

-- Everything up to this sequence number has reached one of the member's
-- devices (the read marker implies it: a reader moves both).
ALTER TABLE participants ADD COLUMN delivered_seq bigint NOT NULL DEFAULT 0;
