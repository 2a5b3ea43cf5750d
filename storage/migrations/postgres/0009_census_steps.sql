ALTER TABLE polls
    ADD COLUMN hidden_counts bigint NOT NULL DEFAULT 0 CHECK (hidden_counts IN (0, 1));
ALTER TABLE poll_votes
    ADD COLUMN unshown bigint NOT NULL DEFAULT 0 CHECK (unshown IN (0, 1));
