ALTER TABLE survey_waves ADD COLUMN changes bigint NOT NULL DEFAULT 0;

CREATE INDEX survey_responses_answers ON survey_responses (wave_id, answers);

CREATE TABLE digests (
    period_key  text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    status      text NOT NULL CHECK (status IN ('posting', 'posted', 'failed')),
    claimed_at  text NOT NULL,
    message_ids text NOT NULL DEFAULT '[]',
    snapshot    text NOT NULL
);
