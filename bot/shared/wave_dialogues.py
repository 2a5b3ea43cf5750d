"""Closing a wave destroys its unfinished surveys wherever dialogues are kept."""

from __future__ import annotations

from typing import Protocol


class WaveDialogues(Protocol):
    async def forget_wave(self, wave_id: int) -> None:
        """Delete every unfinished survey of the wave."""
        ...


class DatabaseWaveDialogues:
    """Dialogues in the database: closing the wave deleted them in its own transaction."""

    async def forget_wave(self, wave_id: int) -> None:
        return None
