CREATE TABLE kb_views (
    article_id text PRIMARY KEY,
    views      bigint NOT NULL DEFAULT 0
);

CREATE TABLE kb_votes (
    voter      text PRIMARY KEY,
    article_id text NOT NULL,
    helpful    bigint NOT NULL CHECK (helpful IN (0, 1))
);
CREATE INDEX kb_votes_article ON kb_votes (article_id);

CREATE TABLE kb_unanswered (
    question_key text PRIMARY KEY,
    example      text NOT NULL,
    times        bigint NOT NULL DEFAULT 1
);
