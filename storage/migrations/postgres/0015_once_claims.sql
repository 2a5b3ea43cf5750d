-- Work several instances share, done by one at a time (see the SQLite twin). `until` is UTC
-- ISO 8601 text, as on SQLite, so both compare it the same way.
CREATE TABLE claims (
    name   text PRIMARY KEY,
    holder text NOT NULL,
    until  text NOT NULL
);
