-- Work several instances share, done by one at a time: closing a poll (`poll-close:<id>`),
-- posting its results in one chat (`poll-results:<id>:<chat_key hex>`), the new-wave broadcast
-- (`wave-broadcast:<wave id>`). `holder` is the claiming run's random id, `until` (UTC, ISO
-- 8601) when the claim lapses, so that work a dead instance held is taken up by another.
-- Nothing here names a person.
CREATE TABLE claims (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
