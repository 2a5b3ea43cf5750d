-- The survey wave an unfinished survey belongs to, beside its sealed dialogue state: closing
-- the wave deletes those dialogues without opening them (nobody's identity is read).
ALTER TABLE fsm_states ADD COLUMN wave_id INTEGER;
CREATE INDEX fsm_states_wave ON fsm_states (wave_id) WHERE wave_id IS NOT NULL;
