DROP TABLE kb_unanswered;

CREATE TABLE kb_unanswered (
    terms text PRIMARY KEY,
    times bigint NOT NULL DEFAULT 1
);
