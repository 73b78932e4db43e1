-- Muting a conversation: each member's own choice, kept with their row.

-- A muted conversation still counts its unread messages in the member's
-- inbox, but their pages raise no notification for it (a mention of them
-- excepted) and leave it out of the tab's title and icon. On the member's
-- row so that the inbox, which reads that row anyway, carries it for free.
ALTER TABLE participants ADD COLUMN muted boolean NOT NULL DEFAULT false;
