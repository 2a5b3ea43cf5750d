"""The relocation survey: its questions and branching, and the suppressed aggregates of a wave."""
