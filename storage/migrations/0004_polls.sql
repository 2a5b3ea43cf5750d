-- Groups, supergroups and channels the bot is in. `chat_key` is an HMAC of the chat id (for
-- look-ups), `chat_sealed` the chat id and title encrypted (to write to it and list it).
CREATE TABLE chats (
    chat_key    BLOB PRIMARY KEY,
    chat_sealed BLOB NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('group', 'supergroup', 'channel')),
    active      INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT, WITHOUT ROWID;

-- Polls admins run in their chats. Native ones are Telegram's anonymous polls (tallies copied
-- from `poll` updates); census ones use buttons, one vote per person under `voter_key_sealed`,
-- a per-poll key destroyed (set to NULL) when the poll closes.
CREATE TABLE polls (
    id               INTEGER PRIMARY KEY,
    chat_key         BLOB NOT NULL REFERENCES chats (chat_key),
    kind             TEXT NOT NULL CHECK (kind IN ('native', 'census')),
    question         TEXT NOT NULL,
    options          TEXT NOT NULL,
    multiple         INTEGER NOT NULL CHECK (multiple IN (0, 1)),
    message_id       INTEGER,
    telegram_poll_id TEXT UNIQUE,
    tallies          TEXT NOT NULL,
    opened_on        TEXT NOT NULL,
    close_at         TEXT,
    closed_on        TEXT,
    voter_key_sealed BLOB,
    locale           TEXT NOT NULL DEFAULT 'be'
) STRICT;
CREATE INDEX polls_open ON polls (closed_on, close_at);

-- Census votes: `voter` is HMAC(poll key, user id); `choice` the chosen option indexes.
CREATE TABLE poll_votes (
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    voter   BLOB NOT NULL,
    choice  TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter)
) STRICT, WITHOUT ROWID;

-- What admins did: the action, the chat, the day and hour, and the admin as a pseudonym.
CREATE TABLE poll_audit (
    id       INTEGER PRIMARY KEY,
    at_hour  TEXT NOT NULL,
    action   TEXT NOT NULL,
    chat_key BLOB NOT NULL,
    admin    TEXT NOT NULL,
    poll_id  INTEGER
) STRICT;
