ALTER TABLE fsm_states ADD COLUMN wave_id bigint;
CREATE INDEX fsm_states_wave ON fsm_states (wave_id) WHERE wave_id IS NOT NULL;
