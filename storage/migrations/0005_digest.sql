-- How many times a wave's responses were added, replaced or deleted: the digest publishes new
-- figures only once at least MIN_CELL_SIZE changes have accumulated (differencing protection).
ALTER TABLE survey_waves ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;

-- Lets the digest count a wave's answer sets by reading an index, not sorting every row.
CREATE INDEX survey_responses_answers ON survey_responses (wave_id, answers);

-- Every digest posted (or being posted): its period, the message ids, and the published
-- figures it was based on (the baseline for the next one). Claimed before posting, so a
-- period is never posted twice.
CREATE TABLE digests (
    period_key  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    status      TEXT NOT NULL CHECK (status IN ('posting', 'posted', 'failed')),
    claimed_at  TEXT NOT NULL,
    message_ids TEXT NOT NULL DEFAULT '[]',
    snapshot    TEXT NOT NULL
) STRICT;
