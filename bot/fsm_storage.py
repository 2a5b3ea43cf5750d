"""aiogram FSM storage in the database: pseudonymous keys, sealed state and data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from services.privacy import Keyring, UndecryptableError
from storage import FsmRepository


class PseudonymousFsmStorage(BaseStorage):
    """Keeps a dialogue across restarts without storing who is having it."""

    def __init__(self, repository: FsmRepository, keyring: Keyring) -> None:
        self._repository = repository
        self._keyring = keyring

    def _key(self, key: StorageKey) -> str:
        return self._keyring.fsm_pseudonym(
            (
                key.bot_id,
                key.chat_id,
                key.user_id,
                key.thread_id,
                key.business_connection_id,
                key.destiny,
            )
        )

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        blob = await self._repository.load(self._key(key))
        if blob is None:
            return None, {}
        try:
            record = self._keyring.fsm_sealer.open_json(blob)
        except UndecryptableError:
            return None, {}
        return record.get("state"), dict(record.get("data") or {})

    async def _store(self, key: StorageKey, state: str | None, data: Mapping[str, Any]) -> None:
        storage_key = self._key(key)
        if state is None and not data:
            await self._repository.delete(storage_key)
            return
        sealed = self._keyring.fsm_sealer.seal_json({"state": state, "data": dict(data)})
        await self._repository.save(storage_key, sealed)

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
        return data

    async def close(self) -> None:
        """The database is closed by its owner, not by the FSM."""
