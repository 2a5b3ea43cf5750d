ALTER TABLE polls ADD COLUMN thread_id bigint;
ALTER TABLE chats ADD COLUMN forum bigint NOT NULL DEFAULT 0 CHECK (forum IN (0, 1));
