-- Published survey figures come from a snapshot per wave, recomputed only once at least
-- MIN_CELL_SIZE distinct respondents answered or changed their answers since the last one.
-- `changed` marks a response added or changed since the wave's snapshot (a re-submit of the
-- same answers leaves it alone); publishing a snapshot and closing the wave clear it. Rows
-- already stored count as changed, so an existing wave gets its first snapshot on start.
ALTER TABLE survey_responses
    ADD COLUMN changed INTEGER NOT NULL DEFAULT 1 CHECK (changed IN (0, 1));
CREATE INDEX survey_responses_changed ON survey_responses (wave_id) WHERE changed = 1;

-- The published figures of a wave: its suppressed aggregates as JSON. `version` grows by one
-- at each publication (the digest compares it); no time is kept that could date an answer.
CREATE TABLE survey_snapshots (
    wave_id INTEGER PRIMARY KEY REFERENCES survey_waves (id),
    version INTEGER NOT NULL,
    figures TEXT NOT NULL
) STRICT;

-- Replaced by the distinct count above: it counted every re-submit, even one changing nothing.
ALTER TABLE survey_waves DROP COLUMN changes;
