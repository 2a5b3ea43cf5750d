-- A census poll pooled across several chats: one poll row (its first chat in `polls`), and one
-- row here per further chat it was posted in. One tally, one voter key, one close.
CREATE TABLE poll_copies (
    poll_id    INTEGER NOT NULL REFERENCES polls (id),
    chat_key   BLOB NOT NULL REFERENCES chats (chat_key),
    message_id INTEGER NOT NULL,
    PRIMARY KEY (poll_id, chat_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX poll_copies_message ON poll_copies (chat_key, message_id);

-- Results still to post, one row per chat a closed poll ran in, written in the same unit of
-- work as the close. `stage`: close (stop the poll or edit the census message), results (post
-- them), then posted or refused (Telegram said no for good). Sent by a worker that retries, and
-- drained at every start, so a crash or an outage delays the results but never loses them.
CREATE TABLE poll_outbox (
    poll_id            INTEGER NOT NULL REFERENCES polls (id),
    chat_key           BLOB NOT NULL,
    message_id         INTEGER,
    stage              TEXT NOT NULL
        CHECK (stage IN ('close', 'results', 'posted', 'refused')),
    results_message_id INTEGER,
    PRIMARY KEY (poll_id, chat_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX poll_outbox_due ON poll_outbox (stage) WHERE stage IN ('close', 'results');
