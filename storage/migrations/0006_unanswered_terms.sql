-- Unanswered questions were kept as typed, with whatever names, phone or document numbers they
-- held. From now on only their search terms are kept; the old rows go (secure_delete overwrites
-- them) rather than be rewritten from text that should never have been stored.
DROP TABLE kb_unanswered;

-- Questions nobody could answer, as their normalised search terms; no link to who asked.
CREATE TABLE kb_unanswered (
    terms TEXT PRIMARY KEY,
    times INTEGER NOT NULL DEFAULT 1
) STRICT;
