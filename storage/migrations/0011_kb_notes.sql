-- Readers' notes that an article is outdated or wrong: the note as typed (numbers and contacts
-- masked), the article, and the month it was written in. Nothing links a note to its writer:
-- no person, no pseudonym, no exact time. So notes are not personal data, and /forget has
-- nothing of theirs here to delete.
CREATE TABLE kb_notes (
    article_id TEXT NOT NULL,
    note       TEXT NOT NULL,
    noted_in   TEXT NOT NULL  -- YYYY-MM
) STRICT;
CREATE INDEX kb_notes_article ON kb_notes (article_id);
