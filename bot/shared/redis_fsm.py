"""Dialogue state and per-person locks in Redis, under the same HMAC pseudonyms as the
database's FSM and sealed with the same key: Redis never sees an id or an answer."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Literal

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.fsm_storage import kept_records, survey_wave
from services.privacy import Keyring, UndecryptableError

_KEY_FIELDS = tuple(field.name for field in fields(StorageKey))
# An abandoned dialogue goes by itself; a survey takes minutes, not weeks.
DIALOGUE_TTL_SECONDS = 14 * 24 * 3600
# A lock outlives a handler that died holding it by at most this long.
LOCK_TIMEOUT_SECONDS = 60


class PseudonymousKeyBuilder(KeyBuilder):
    """`vyraj:fsm:<pseudonym>:<part>`, the pseudonym being the database FSM's for that key."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        # (bot, chat, user, thread, business connection, destiny), in StorageKey's order.
        pseudonym = self._keyring.fsm_pseudonym(tuple(getattr(key, name) for name in _KEY_FIELDS))
        return f"vyraj:fsm:{pseudonym}" if part is None else f"vyraj:fsm:{pseudonym}:{part}"


class SealedRedisStorage(RedisStorage):
    """aiogram's RedisStorage with every state and data value sealed before it leaves."""

    def __init__(self, redis: Redis, keyring: Keyring) -> None:
        super().__init__(
            redis,
            key_builder=PseudonymousKeyBuilder(keyring),
            state_ttl=DIALOGUE_TTL_SECONDS,
            data_ttl=DIALOGUE_TTL_SECONDS,
        )
        self._sealer = keyring.fsm_sealer

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        redis_key = self.key_builder.build(key, "state")
        name = state.state if isinstance(state, State) else state
        kept = kept_records()
        before = kept.pop(key, None) if kept is not None else None  # read again on failure
        if name is None:
            await self.redis.delete(redis_key)
        else:
            await self.redis.set(redis_key, self._sealer.seal_json(name), ex=self.state_ttl)
        if kept is not None and before is not None:
            kept[key] = (name, before[1])

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        redis_key = self.key_builder.build(key, "data")
        kept = kept_records()
        before = kept.pop(key, None) if kept is not None else None
        if not data:
            await self.redis.delete(redis_key)
        else:
            await self.redis.set(redis_key, self._sealer.seal_json(dict(data)), ex=self.data_ttl)
        if kept is not None and before is not None:
            kept[key] = (before[0], copy.deepcopy(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._load(key)
        return copy.deepcopy(data)  # a caller's changes stay theirs until stored

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """State and data in one round trip, once per update (a survey press asks four
        times); the data is shared, not a copy."""
        kept = kept_records()
        if kept is not None and key in kept:
            return kept[key]
        sealed_state, sealed_data = await self.redis.mget(
            self.key_builder.build(key, "state"), self.key_builder.build(key, "data")
        )
        name, opened = self._open(sealed_state), self._open(sealed_data)
        state = name if isinstance(name, str) else None
        data = dict(opened) if isinstance(opened, dict) else {}
        if kept is not None:
            kept[key] = (state, data)
        return state, data

    def _open(self, sealed: bytes | None) -> Any:
        if sealed is None:
            return None
        try:
            return self._sealer.open_json(sealed)
        except UndecryptableError:  # sealed under another SECRET_KEY: no dialogue
            return None

    async def forget_wave(self, wave_id: int) -> None:
        """Delete the wave's unfinished surveys: each dialogue is opened to find its wave, so
        that Redis holds no index of who is answering which wave."""
        async for data_key in self.redis.scan_iter(match="vyraj:fsm:*:data", count=500):
            data = self._open(await self.redis.get(data_key))
            if isinstance(data, dict) and survey_wave(data) == wave_id:
                state_key = data_key.removesuffix(b":data") + b":state"
                await self.redis.delete(data_key, state_key)

    async def close(self) -> None:
        """The connection is closed by its owner (SharedServices), not by the FSM."""
