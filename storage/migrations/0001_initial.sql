-- Installation metadata (key check value, ...). Never holds a secret.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A person's preferences, keyed by their HMAC pseudonym.
CREATE TABLE preferences (
    person TEXT PRIMARY KEY,
    locale TEXT NOT NULL CHECK (locale IN ('be', 'ru', 'en'))
) STRICT;

-- aiogram FSM state and data, sealed with AES-GCM, keyed by an HMAC of the aiogram key.
CREATE TABLE fsm_states (
    key  TEXT PRIMARY KEY,
    blob BLOB NOT NULL
) STRICT;
