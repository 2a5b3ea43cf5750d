"""/kbreload on one instance reloads the guide on every instance: the announcement."""

from __future__ import annotations

from typing import Protocol


class GuideReloads(Protocol):
    async def announce(self) -> None:
        """Tell the other instances that this one reloaded the guide."""
        ...


class LocalGuideReloads:
    """One instance: nobody else to tell."""

    async def announce(self) -> None:
        return None
