-- Responses submitted since the wave's figures were last published, sealed (see
-- storage/postgres/pending.py): a row's heap position, xmin and WAL record date a submission,
-- so the answers are written into survey_responses and survey_answer_sets only in shuffled
-- batches when the next snapshot is taken. `respondent_tag` is an HMAC under a key held
-- outside the database, so a pending row cannot be matched to the response it becomes.
CREATE TABLE survey_pending (
    wave_id        bigint NOT NULL REFERENCES survey_waves (id),
    respondent_tag bytea NOT NULL,
    sealed         bytea NOT NULL,
    PRIMARY KEY (wave_id, respondent_tag)
);
