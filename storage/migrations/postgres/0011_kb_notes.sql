-- `rowid` makes SQLite's implicit row number explicit: the notes' order, oldest first.
CREATE TABLE kb_notes (
    rowid      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id text NOT NULL,
    note       text NOT NULL,
    noted_in   text NOT NULL
);
CREATE INDEX kb_notes_article ON kb_notes (article_id);
