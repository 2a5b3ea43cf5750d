-- How often each article was shown.
CREATE TABLE kb_views (
    article_id TEXT PRIMARY KEY,
    views      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One vote per person per article. `voter` is an HMAC of (person, article) under its own key,
-- so one person's votes on different articles cannot be linked to each other or to anything else.
CREATE TABLE kb_votes (
    voter      TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1))
) STRICT;
CREATE INDEX kb_votes_article ON kb_votes (article_id);

-- Questions nobody could answer, grouped by their folded form; no link to who asked.
CREATE TABLE kb_unanswered (
    question_key TEXT PRIMARY KEY,
    example      TEXT NOT NULL,
    times        INTEGER NOT NULL DEFAULT 1
) STRICT;
