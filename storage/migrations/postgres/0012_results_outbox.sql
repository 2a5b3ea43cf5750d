CREATE TABLE poll_copies (
    poll_id    bigint NOT NULL REFERENCES polls (id),
    chat_key   bytea NOT NULL REFERENCES chats (chat_key),
    message_id bigint NOT NULL,
    PRIMARY KEY (poll_id, chat_key)
);
CREATE INDEX poll_copies_message ON poll_copies (chat_key, message_id);

CREATE TABLE poll_outbox (
    poll_id            bigint NOT NULL REFERENCES polls (id),
    chat_key           bytea NOT NULL,
    message_id         bigint,
    stage              text NOT NULL
        CHECK (stage IN ('close', 'results', 'posted', 'refused')),
    results_message_id bigint,
    PRIMARY KEY (poll_id, chat_key)
);
CREATE INDEX poll_outbox_due ON poll_outbox (stage) WHERE stage IN ('close', 'results');
