-- PostgreSQL twin of ../0001_initial.sql: the same tables, columns and keys (the parity test
-- compares them). Flags and dates stay integer 0/1 and ISO text, as on SQLite.
CREATE TABLE meta (
    name  text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE preferences (
    person text PRIMARY KEY,
    locale text NOT NULL CHECK (locale IN ('be', 'ru', 'en'))
);

CREATE TABLE fsm_states (
    key  text PRIMARY KEY,
    blob bytea NOT NULL
);
