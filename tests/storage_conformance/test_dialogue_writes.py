"""A dialogue's write is a transaction of its own: seen by the next read, all or nothing, and
never inside another transaction."""

from __future__ import annotations

from typing import Any

import pytest

from storage import Storage


async def test_a_written_dialogue_is_what_the_next_read_sees(storage: Storage) -> None:
    await storage.write_dialogue("alice", b"first", 3)
    assert await storage.fsm.load("alice") == b"first"
    await storage.write_dialogue("alice", b"second")
    assert await storage.fsm.load("alice") == b"second"
    await storage.write_dialogue("bob", b"survey", 4)

    await storage.write_dialogue("alice", None)
    assert await storage.fsm.load("alice") is None
    async with storage.transaction() as tx:
        assert await tx.fsm.delete_wave(4) == 1  # the wave was stored with the state
    assert await storage.fsm.load("bob") is None


async def test_a_failed_dialogue_write_changes_nothing_and_leaves_writes_working(
    storage: Storage,
) -> None:
    await storage.write_dialogue("alice", b"kept")
    unstorable: Any = object()
    with pytest.raises(Exception):  # noqa: B017, PT011 - each driver names it differently
        await storage.write_dialogue("alice", unstorable)
    assert await storage.fsm.load("alice") == b"kept"

    async with storage.transaction() as tx:  # no transaction was left open
        await tx.meta.set("after", "1")
    await storage.write_dialogue("alice", b"next")
    assert await storage.fsm.load("alice") == b"next"
    assert await storage.meta.get("after") == "1"


async def test_a_dialogue_write_does_not_nest_in_a_transaction(storage: Storage) -> None:
    with pytest.raises(RuntimeError, match="do not nest"):
        async with storage.transaction():
            await storage.write_dialogue("alice", b"state")
    assert await storage.fsm.load("alice") is None
