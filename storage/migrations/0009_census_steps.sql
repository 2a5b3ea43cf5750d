-- Census live counts move only in steps no single voter can be singled out in. `hidden_counts`
-- shows no counts until the poll closes; otherwise `tallies` is the last shown snapshot, taken
-- again once MIN_CELL_SIZE people voted or changed their vote since (`unshown` marks them).
ALTER TABLE polls
    ADD COLUMN hidden_counts INTEGER NOT NULL DEFAULT 0 CHECK (hidden_counts IN (0, 1));
ALTER TABLE poll_votes
    ADD COLUMN unshown INTEGER NOT NULL DEFAULT 0 CHECK (unshown IN (0, 1));
