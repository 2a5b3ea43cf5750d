CREATE TABLE survey_answer_sets (
    wave_id     bigint NOT NULL REFERENCES survey_waves (id),
    id          bigint NOT NULL,
    answers     text NOT NULL,
    respondents bigint NOT NULL CHECK (respondents > 0),
    PRIMARY KEY (wave_id, id),
    UNIQUE (wave_id, answers)
);

INSERT INTO survey_answer_sets (wave_id, id, answers, respondents)
    SELECT wave_id, (random() * 9.2e18)::bigint, answers, count(*)
    FROM survey_responses GROUP BY wave_id, answers;

CREATE TABLE survey_responses_by_set (
    wave_id    bigint NOT NULL REFERENCES survey_waves (id),
    respondent bytea NOT NULL,
    week       text NOT NULL,
    answer_set bigint NOT NULL,
    changed    bigint NOT NULL DEFAULT 1 CHECK (changed IN (0, 1)),
    PRIMARY KEY (wave_id, respondent),
    FOREIGN KEY (wave_id, answer_set) REFERENCES survey_answer_sets (wave_id, id)
);

INSERT INTO survey_responses_by_set (wave_id, respondent, week, answer_set, changed)
    SELECT r.wave_id, r.respondent, r.week, s.id, r.changed
    FROM survey_responses r
    JOIN survey_answer_sets s ON s.wave_id = r.wave_id AND s.answers = r.answers;

DROP TABLE survey_responses;
ALTER TABLE survey_responses_by_set RENAME TO survey_responses;
ALTER INDEX survey_responses_by_set_pkey RENAME TO survey_responses_pkey;
CREATE INDEX survey_responses_changed ON survey_responses (wave_id) WHERE changed = 1;

ALTER TABLE survey_waves ADD COLUMN revision bigint NOT NULL DEFAULT 0;
ALTER TABLE survey_snapshots ADD COLUMN revision bigint NOT NULL DEFAULT 0;
