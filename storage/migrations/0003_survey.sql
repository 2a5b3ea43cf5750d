-- Survey waves. `key_sealed` is the wave's pseudonym key encrypted under SECRET_KEY. Closing a
-- wave sets it to NULL (overwritten: secure_delete), after which no one, the operator included,
-- can link the wave's responses to anybody.
CREATE TABLE survey_waves (
    id         INTEGER PRIMARY KEY,
    label      TEXT NOT NULL,
    opened_on  TEXT NOT NULL,
    closed_on  TEXT,
    key_sealed BLOB,
    CHECK ((closed_on IS NULL) = (key_sealed IS NOT NULL))
) STRICT;
-- At most one wave is open at a time.
CREATE UNIQUE INDEX survey_waves_one_open ON survey_waves ((closed_on IS NULL))
    WHERE closed_on IS NULL;

-- One response per person per wave. `respondent` is HMAC(wave key, user id); `answers` holds
-- option codes only (canonical JSON, no free text); `week` is the ISO week it was submitted.
-- WITHOUT ROWID: rows are stored in key order, so not even insertion order survives.
CREATE TABLE survey_responses (
    wave_id    INTEGER NOT NULL REFERENCES survey_waves (id),
    respondent BLOB NOT NULL,
    week       TEXT NOT NULL,
    answers    TEXT NOT NULL,
    PRIMARY KEY (wave_id, respondent)
) STRICT, WITHOUT ROWID;

-- "Tell me when a new wave opens". `subscriber` is an HMAC of the user id under a key of its
-- own (unlinkable to responses); `chat_sealed` the encrypted chat id and language;
-- `notified_wave` the last wave they were told about, set before the message goes out so a
-- crash never sends it twice.
CREATE TABLE wave_subscribers (
    subscriber    BLOB PRIMARY KEY,
    chat_sealed   BLOB NOT NULL,
    notified_wave INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
