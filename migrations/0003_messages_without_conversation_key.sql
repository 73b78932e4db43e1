-- A message is inserted only by the send statement, through the conversation
-- row that statement has just updated and still holds locked, so the foreign
-- key's per-row check (a key-share lock and an index probe for every
-- message) proved nothing on the hottest path. Conversations are never
-- deleted.
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;
