-- Each distinct set of answers of a wave is stored once, with how many people gave it; a
-- response names its set. The answers were stored twice per person (the row and an index for
-- counting them); now counting reads one row per set, whatever the number of respondents.
-- `id` is random, so a set's id tells nothing of when it first appeared; the table is kept
-- in key order (WITHOUT ROWID), so neither does its layout. A set nobody gives any more is
-- deleted (secure_delete overwrites it): /forget leaves no trace of a lone answer set.
CREATE TABLE survey_answer_sets (
    wave_id     INTEGER NOT NULL REFERENCES survey_waves (id),
    id          INTEGER NOT NULL,
    answers     TEXT NOT NULL,
    respondents INTEGER NOT NULL CHECK (respondents > 0),
    PRIMARY KEY (wave_id, id),
    UNIQUE (wave_id, answers)
) STRICT, WITHOUT ROWID;

INSERT INTO survey_answer_sets (wave_id, id, answers, respondents)
    SELECT wave_id, random(), answers, count(*) FROM survey_responses GROUP BY wave_id, answers;

CREATE TABLE survey_responses_by_set (
    wave_id    INTEGER NOT NULL REFERENCES survey_waves (id),
    respondent BLOB NOT NULL,
    week       TEXT NOT NULL,
    answer_set INTEGER NOT NULL,
    changed    INTEGER NOT NULL DEFAULT 1 CHECK (changed IN (0, 1)),
    PRIMARY KEY (wave_id, respondent),
    FOREIGN KEY (wave_id, answer_set) REFERENCES survey_answer_sets (wave_id, id)
) STRICT, WITHOUT ROWID;

INSERT INTO survey_responses_by_set (wave_id, respondent, week, answer_set, changed)
    SELECT r.wave_id, r.respondent, r.week, s.id, r.changed
    FROM survey_responses r
    JOIN survey_answer_sets s ON s.wave_id = r.wave_id AND s.answers = r.answers;

-- Dropping the table drops its indexes; secure_delete overwrites the old rows.
DROP TABLE survey_responses;
ALTER TABLE survey_responses_by_set RENAME TO survey_responses;
CREATE INDEX survey_responses_changed ON survey_responses (wave_id) WHERE changed = 1;

-- A snapshot is computed outside the write transaction, after its counts were read. The
-- wave's `revision` grows with every change to its answers; a snapshot keeps the revision it
-- was computed at, and one computed at an older revision than the stored one is refused, so
-- published figures never step back.
ALTER TABLE survey_waves ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE survey_snapshots ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
