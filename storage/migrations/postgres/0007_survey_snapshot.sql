ALTER TABLE survey_responses
    ADD COLUMN changed bigint NOT NULL DEFAULT 1 CHECK (changed IN (0, 1));
CREATE INDEX survey_responses_changed ON survey_responses (wave_id) WHERE changed = 1;

CREATE TABLE survey_snapshots (
    wave_id bigint PRIMARY KEY REFERENCES survey_waves (id),
    version bigint NOT NULL,
    figures text NOT NULL
);

ALTER TABLE survey_waves DROP COLUMN changes;
