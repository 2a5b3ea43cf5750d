-- Forum supergroups: a poll lives in the topic where it was started (`thread_id`, Telegram's
-- small per-chat topic number, nothing personal; NULL for General or a chat without topics).
-- `forum` marks chats with topics, so /newpoll asks which topic. `hidden_counts` now also
-- covers Telegram's own polls posted with results hidden until they close.
ALTER TABLE polls ADD COLUMN thread_id INTEGER;
ALTER TABLE chats ADD COLUMN forum INTEGER NOT NULL DEFAULT 0 CHECK (forum IN (0, 1));
