"""aiogram FSM storage in the database: pseudonymous keys, sealed state and data."""

from __future__ import annotations

import contextlib
import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import fields
from typing import Any

from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.types import TelegramObject

from services.privacy import Keyring, UndecryptableError
from services.survey.waves import WAVE_DATA_KEY
from storage import Storage

Record = tuple[str | None, dict[str, Any]]
_KEY_FIELDS = tuple(field.name for field in fields(StorageKey))


class _UpdateRecords(dict[StorageKey, Record]):
    """The dialogues read while one update is handled, by key."""

    # A task started by a handler inherits this; it stops being used when the update ends.
    active = True


_update_records: ContextVar[_UpdateRecords | None] = ContextVar("fsm_update_records", default=None)


def survey_wave(data: Mapping[str, Any]) -> int | None:
    """The wave an unfinished survey belongs to (its data's `wave`), kept unsealed so that
    closing the wave can delete the dialogue without opening it."""
    wave = data.get(WAVE_DATA_KEY)
    return wave if isinstance(wave, int) and not isinstance(wave, bool) else None


@contextlib.contextmanager
def records_kept_for_update() -> Iterator[None]:
    """Within: each dialogue is read from the database and opened once, then kept (and kept
    current by this storage's writes) until the block ends."""
    records = _UpdateRecords()
    token = _update_records.set(records)
    try:
        yield
    finally:
        records.active = False
        _update_records.reset(token)


def kept_records() -> _UpdateRecords | None:
    """The dialogues kept for the update being handled; None outside one."""
    records = _update_records.get()
    return records if records is not None and records.active else None


class PseudonymousFsmStorage(BaseStorage):
    """Keeps a dialogue across restarts without storing who is having it."""

    def __init__(
        self, storage: Storage, keyring: Keyring, *, without_dialogue_limit: int = 20_000
    ) -> None:
        self._storage = storage
        self._keyring = keyring
        # Pseudonyms whose dialogue row is known not to exist, so most updates (people in no
        # dialogue) need no read. Rows are made only by `_store`; deleting rows elsewhere
        # (/forget, a closed wave) cannot make this wrong.
        self._without_dialogue: OrderedDict[str, None] = OrderedDict()
        self._without_dialogue_limit = without_dialogue_limit
        self._saves = 0

    def _key(self, key: StorageKey) -> str:
        # (bot, chat, user, thread, business connection, destiny), in StorageKey's field order:
        # astuple's values without its deep copy, which costs more than the HMAC.
        return self._keyring.fsm_pseudonym(tuple(getattr(key, name) for name in _KEY_FIELDS))

    async def _load(self, key: StorageKey) -> Record:
        """The dialogue as kept for this update (read once): the data is shared, not a copy."""
        kept = kept_records()
        if kept is not None and key in kept:
            return kept[key]
        record = await self._read(key)
        if kept is not None:
            kept[key] = record
        return record

    async def _read(self, key: StorageKey) -> Record:
        storage_key = self._key(key)
        if storage_key in self._without_dialogue:
            self._without_dialogue.move_to_end(storage_key)
            return None, {}
        saves_before = self._saves
        blob = await self._storage.fsm.load(storage_key)
        if blob is None:
            if self._saves == saves_before:  # else a row may have been saved meanwhile
                self._remember_without_dialogue(storage_key)
            return None, {}
        try:
            record = self._keyring.fsm_sealer.open_json(blob)
        except UndecryptableError:
            return None, {}
        return record.get("state"), dict(record.get("data") or {})

    async def _store(self, key: StorageKey, state: str | None, data: Mapping[str, Any]) -> None:
        storage_key = self._key(key)
        kept = kept_records()
        if kept is not None:
            kept.pop(key, None)  # read again should the write fail
        deleting = state is None and not data
        if not deleting:
            self._saves += 1
            self._without_dialogue.pop(storage_key, None)
        saves_before = self._saves
        sealed = (
            None
            if deleting
            else self._keyring.fsm_sealer.seal_json({"state": state, "data": dict(data)})
        )
        await self._storage.write_dialogue(storage_key, sealed, survey_wave(data))
        if deleting and self._saves == saves_before:
            self._remember_without_dialogue(storage_key)
        if kept is not None:
            kept[key] = (state, copy.deepcopy(dict(data)))

    def _remember_without_dialogue(self, storage_key: str) -> None:
        self._without_dialogue[storage_key] = None
        if len(self._without_dialogue) > self._without_dialogue_limit:
            self._without_dialogue.popitem(last=False)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        _, data = await self._load(key)
        name = state.state if isinstance(state, State) else state
        await self._store(key, name, data)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        state, _ = await self._load(key)
        await self._store(key, state, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._load(key)
        return copy.deepcopy(data)  # a caller's changes stay theirs until stored

    async def close(self) -> None:
        """The database is closed by its owner, not by the FSM."""


class UpdateScopedFsmMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware, with each dialogue read at most once per update: a survey
    press asks for its state four times."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with records_kept_for_update():
            return await super().__call__(handler, event, data)
