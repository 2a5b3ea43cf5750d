"""Readers' notes that an article is outdated or wrong: what is kept of one, and how many a
person may send in a day (counted in memory only, so nothing stored links a note to them)."""

from __future__ import annotations

import datetime as dt

from services.knowledge.question_terms import mask_identifying

NOTE_MAX = 500
NOTES_PER_DAY = 3


def note_to_keep(text: str) -> str:
    """The note as it is stored: trimmed, numbers and contacts masked."""
    return mask_identifying(" ".join(text.split()))


def noted_in(today: dt.date) -> str:
    """The only date a note keeps: its month."""
    return today.strftime("%Y-%m")


class NoteQuota:
    """How many notes each person sent today; in memory, forgotten at midnight or a restart."""

    def __init__(self, per_day: int = NOTES_PER_DAY) -> None:
        self.per_day = per_day
        self._day: dt.date | None = None
        self._sent: dict[str, int] = {}

    def take(self, person: str, today: dt.date) -> bool:
        """Count one note for `person` (a pseudonym); False once today's are used up."""
        if today != self._day:
            self._day, self._sent = today, {}
        if self._sent.get(person, 0) >= self.per_day:
            return False
        self._sent[person] = self._sent.get(person, 0) + 1
        return True
