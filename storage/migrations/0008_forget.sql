-- Columns that hold a person's pseudonym are named person, voter, respondent, subscriber, admin,
-- key or *_key: tests/test_forget.py finds them by name and checks that /forget empties them.

-- The survey wave an unfinished survey belongs to, beside its sealed dialogue state: closing
-- the wave deletes those dialogues without opening them (nobody's identity is read).
ALTER TABLE fsm_states ADD COLUMN wave_id INTEGER;
CREATE INDEX fsm_states_wave ON fsm_states (wave_id) WHERE wave_id IS NOT NULL;
