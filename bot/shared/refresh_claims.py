"""Who refreshes a census poll's counts in the coming window: with several instances, one."""

from __future__ import annotations

from typing import Protocol


class RefreshClaims(Protocol):
    async def claim(self, poll_id: int, seconds: float) -> bool:
        """True if this instance refreshes the poll after `seconds`; False if another does."""
        ...


class LocalRefreshClaims:
    """One instance: its own debounce (CensusRefresher's pending tasks) is all there is."""

    async def claim(self, poll_id: int, seconds: float) -> bool:
        return True
