"""Survey waves, responses and new-wave subscriptions."""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

import asyncpg

from storage.interface import (
    AnswerCounts,
    Subscriber,
    SurveySnapshot,
    Wave,
    WaveAlreadyOpenError,
)
from storage.postgres.connection import Connection, Executor, affected, one_snapshot
from storage.postgres.key_vault import AfterCommit, KeyVault
from storage.postgres.pending import PendingKeys, PendingResponse, PendingSealer

_WAVE_COLUMNS = "id, label, opened_on, closed_on, key_sealed"


def _wave(row: Mapping[str, object]) -> Wave:
    closed = row["closed_on"]
    sealed = row["key_sealed"]
    return Wave(
        id=int(str(row["id"])),
        label=str(row["label"]),
        opened_on=dt.date.fromisoformat(str(row["opened_on"])),
        closed_on=None if closed is None else dt.date.fromisoformat(str(closed)),
        key_sealed=None if sealed is None else bytes(sealed),  # type: ignore[call-overload]
    )


@dataclass
class _LiveState:
    """A wave's answers as published rows plus the pending ones, read at one moment."""

    revision: int
    groups: Counter[str]
    respondents: int


class PostgresSurveyReader:
    """The reads; `PostgresSurvey` adds the writes, for use inside a transaction only.

    A wave's responses are its rows in survey_responses overlaid with its sealed pending ones
    (pending.py); every read below sees the two together, as one state."""

    def __init__(self, db: Executor, keys: PendingKeys, vault: KeyVault) -> None:
        self._db = db
        self._keys = keys
        self._vault = vault

    async def _opened(self, wave: Wave) -> Wave:
        """The wave with its key as sealed under SECRET_KEY (unwrapped from the vault's KEK)."""
        if wave.key_sealed is None:
            return wave
        return replace(wave, key_sealed=await self._vault.unwrap(wave.key_sealed))

    def _sealer_for(self, wave: Wave) -> PendingSealer | None:
        """The opened wave's pending sealer; None once its key is gone (closed or shredded)."""
        return None if wave.key_sealed is None else self._keys.for_wave(wave.key_sealed)

    async def _sealer_of(self, conn: Connection, wave_id: int) -> PendingSealer | None:
        row = await conn.fetchrow(
            f"SELECT {_WAVE_COLUMNS} FROM survey_waves WHERE id = $1", wave_id
        )
        return None if row is None else self._sealer_for(await self._opened(_wave(row)))

    async def current_wave(self) -> Wave | None:
        row = await self._db.fetchrow(
            f"SELECT {_WAVE_COLUMNS} FROM survey_waves WHERE closed_on IS NULL"
        )
        return None if row is None else await self._opened(_wave(row))

    async def waves(self) -> list[tuple[Wave, int]]:
        async with one_snapshot(self._db) as conn:
            rows = await conn.fetch(f"SELECT {_WAVE_COLUMNS} FROM survey_waves ORDER BY id DESC")
            waves = [await self._opened(_wave(row)) for row in rows]
            return [
                (wave, (await _live(conn, self._sealer_for(wave), wave.id)).respondents)
                for wave in waves
            ]

    async def recent_waves(self, limit: int) -> list[Wave]:
        rows = await self._db.fetch(
            f"SELECT {_WAVE_COLUMNS} FROM survey_waves ORDER BY id DESC LIMIT $1", limit
        )
        return [await self._opened(_wave(row)) for row in rows]

    async def has_response(self, wave_id: int, respondent: bytes) -> bool:
        async with one_snapshot(self._db) as conn:
            sealer = await self._sealer_of(conn, wave_id)
            if sealer is not None and await conn.fetchval(
                "SELECT 1 FROM survey_pending WHERE wave_id = $1 AND respondent_tag = $2",
                wave_id,
                sealer.tag(wave_id, respondent),
            ):
                return True
            found = await conn.fetchval(
                "SELECT 1 FROM survey_responses WHERE wave_id = $1 AND respondent = $2",
                wave_id,
                respondent,
            )
        return found is not None

    async def changed_respondents(self, wave_id: int) -> int:
        # Asked at every submission: counts marked rows (one per respondent) and the few
        # pending ones, without reading the answer sets.
        async with one_snapshot(self._db) as conn:
            changed = int(
                await conn.fetchval(
                    "SELECT count(*) FROM survey_responses WHERE wave_id = $1 AND changed = 1",
                    wave_id,
                )
            )
            pending = await _pending(conn, await self._sealer_of(conn, wave_id), wave_id)
            stored = await _stored(conn, wave_id, [p.respondent for p in pending])
        for response in pending:
            before = stored.get(response.respondent)
            changed += response.changed - (before is not None and before[1])
        return changed

    async def snapshot(self, wave_id: int) -> SurveySnapshot | None:
        row = await self._db.fetchrow(
            "SELECT version, figures FROM survey_snapshots WHERE wave_id = $1", wave_id
        )
        return None if row is None else SurveySnapshot(wave_id, int(row[0]), str(row[1]))

    async def response_groups(self, wave_id: int) -> list[tuple[str, int]]:
        return (await self.answer_counts(wave_id)).groups

    async def answer_counts(self, wave_id: int) -> AnswerCounts:
        # One distinct set per row plus the few pending responses: the cost does not grow
        # with the respondents.
        async with one_snapshot(self._db) as conn:
            state = await _live(conn, await self._sealer_of(conn, wave_id), wave_id)
        return AnswerCounts(wave_id, state.revision, list(state.groups.items()))


async def _pending(
    conn: Connection, sealer: PendingSealer | None, wave_id: int
) -> list[PendingResponse]:
    if sealer is None:
        return []  # a closed wave's were all written at the close; a lost key opens none
    rows = await conn.fetch(
        "SELECT respondent_tag, sealed FROM survey_pending WHERE wave_id = $1", wave_id
    )
    return [sealer.open(wave_id, bytes(row[0]), bytes(row[1])) for row in rows]


async def _stored(
    conn: Connection, wave_id: int, respondents: list[bytes]
) -> dict[bytes, tuple[str, bool]]:
    """The published rows of these respondents: their answers and changed marks."""
    rows = await conn.fetch(
        "SELECT r.respondent, s.answers, r.changed FROM survey_responses r "
        "JOIN survey_answer_sets s ON s.wave_id = r.wave_id AND s.id = r.answer_set "
        "WHERE r.wave_id = $1 AND r.respondent = ANY($2::bytea[])",
        wave_id,
        respondents,
    )
    return {bytes(row[0]): (str(row[1]), bool(row[2])) for row in rows}


async def _live(conn: Connection, sealer: PendingSealer | None, wave_id: int) -> _LiveState:
    """The wave's counts with its pending responses laid over the stored ones."""
    rows = await conn.fetch(
        "SELECT NULL::text, revision FROM survey_waves WHERE id = $1 "
        "UNION ALL SELECT answers, respondents FROM survey_answer_sets WHERE wave_id = $1",
        wave_id,
    )
    revision = next((int(row[1]) for row in rows if row[0] is None), 0)
    groups: Counter[str] = Counter(
        {str(row[0]): int(row[1]) for row in rows if row[0] is not None}
    )
    pending = await _pending(conn, sealer, wave_id)
    stored = await _stored(conn, wave_id, [p.respondent for p in pending])
    for response in pending:
        before = stored.get(response.respondent)
        if before is not None:
            groups[before[0]] -= 1
        groups[response.answers] += 1
    live = +groups  # drops the sets nobody gives any more
    return _LiveState(revision, live, sum(live.values()))


class PostgresSurvey(PostgresSurveyReader):
    def __init__(
        self,
        db: Connection,
        keys: PendingKeys,
        vault: KeyVault,
        after_commit: list[AfterCommit],
    ) -> None:
        super().__init__(db, keys, vault)
        self._conn = db
        self._after_commit = after_commit

    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave:
        stored = await self._vault.wrap(key_sealed)
        try:
            # A savepoint: a refused insert must not abort the caller's whole transaction.
            async with self._conn.transaction():
                wave_id = await self._conn.fetchval(
                    "INSERT INTO survey_waves (label, opened_on, key_sealed) "
                    "VALUES ($1, $2, $3) RETURNING id",
                    label,
                    opened_on.isoformat(),
                    stored,
                )
        except asyncpg.UniqueViolationError as exc:
            await self._vault.shred(stored)
            raise WaveAlreadyOpenError(label) from exc
        return Wave(int(wave_id), label, opened_on, None, key_sealed)

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        # The pending rows first, while the wave's key still opens them.
        await self.clear_changed(wave_id)
        stored = await self._conn.fetchval(
            "SELECT key_sealed FROM survey_waves WHERE id = $1 AND closed_on IS NULL", wave_id
        )
        await self._conn.execute(
            "UPDATE survey_waves SET closed_on = $1, key_sealed = NULL "
            "WHERE id = $2 AND closed_on IS NULL",
            closed_on.isoformat(),
            wave_id,
        )
        if stored is not None:
            vault, wrapped = self._vault, bytes(stored)
            # Only once committed: a rolled-back close must leave the open wave its key.
            self._after_commit.append(lambda: vault.shred(wrapped))

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        # Only a sealed pending row is written now; the answers reach the response tables in
        # the next shuffled batch (clear_changed), so nothing here dates them.
        sealer = await self._sealer_of(self._conn, wave_id)
        if sealer is None:
            raise ValueError(f"wave {wave_id} is closed or its key is lost: no answers to it")
        tag = sealer.tag(wave_id, respondent)
        sealed = await self._conn.fetchval(
            "SELECT sealed FROM survey_pending WHERE wave_id = $1 AND respondent_tag = $2",
            wave_id,
            tag,
        )
        if sealed is not None:
            current = sealer.open(wave_id, tag, bytes(sealed))
            before: tuple[str, bool] | None = (current.answers, current.changed)
        else:
            before = (await _stored(self._conn, wave_id, [respondent])).get(respondent)
        same = before is not None and before[0] == answers
        # The same answers again: nothing to count, and the changed mark stays as it was.
        changed = before[1] if same and before is not None else True
        response = PendingResponse(respondent, week, answers, changed)
        await self._conn.execute(
            "INSERT INTO survey_pending (wave_id, respondent_tag, sealed) VALUES ($1, $2, $3) "
            "ON CONFLICT (wave_id, respondent_tag) DO UPDATE SET sealed = excluded.sealed",
            wave_id,
            tag,
            sealer.seal(wave_id, tag, response),
        )
        if not same:
            await self._next_revision(wave_id)

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool:
        sealer = await self._sealer_of(self._conn, wave_id)
        pending = "DELETE 0"
        if sealer is not None:
            pending = await self._conn.execute(
                "DELETE FROM survey_pending WHERE wave_id = $1 AND respondent_tag = $2",
                wave_id,
                sealer.tag(wave_id, respondent),
            )
        before = await self._answer_set_of(wave_id, respondent)
        if before is not None:
            await self._conn.execute(
                "DELETE FROM survey_responses WHERE wave_id = $1 AND respondent = $2",
                wave_id,
                respondent,
            )
            await self._uncount(wave_id, before)
        if before is None and affected(pending) == 0:
            return False
        await self._next_revision(wave_id)
        return True

    async def clear_changed(self, wave_id: int) -> None:
        await self._write_pending(wave_id)
        await self._conn.execute(
            "UPDATE survey_responses SET changed = 0 WHERE wave_id = $1 AND changed = 1",
            wave_id,
        )

    async def _write_pending(self, wave_id: int) -> None:
        """Move the pending responses into the response tables in a random order, in this one
        transaction: their rows share one xmin, and their order tells nothing."""
        pending = await _pending(self._conn, await self._sealer_of(self._conn, wave_id), wave_id)
        random.SystemRandom().shuffle(pending)
        for response in pending:
            await self._store(wave_id, response)
        await self._conn.execute("DELETE FROM survey_pending WHERE wave_id = $1", wave_id)

    async def _store(self, wave_id: int, response: PendingResponse) -> None:
        before = await self._answer_set_of(wave_id, response.respondent)
        answer_set = await self._find_answer_set(wave_id, response.answers)
        moved = before is None or before != answer_set
        if answer_set is None:
            answer_set = await self._new_answer_set(wave_id, response.answers)
        elif moved:
            await self._conn.execute(
                "UPDATE survey_answer_sets SET respondents = respondents + 1 "
                "WHERE wave_id = $1 AND id = $2",
                wave_id,
                answer_set,
            )
        await self._conn.execute(
            "INSERT INTO survey_responses (wave_id, respondent, week, answer_set, changed) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wave_id, respondent) "
            "DO UPDATE SET week = excluded.week, answer_set = excluded.answer_set, "
            "changed = excluded.changed",
            wave_id,
            response.respondent,
            response.week,
            answer_set,
            int(response.changed),
        )
        if moved and before is not None:
            await self._uncount(wave_id, before)

    async def _next_revision(self, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE survey_waves SET revision = revision + 1 WHERE id = $1", wave_id
        )

    async def _answer_set_of(self, wave_id: int, respondent: bytes) -> int | None:
        found = await self._conn.fetchval(
            "SELECT answer_set FROM survey_responses WHERE wave_id = $1 AND respondent = $2",
            wave_id,
            respondent,
        )
        return None if found is None else int(found)

    async def _find_answer_set(self, wave_id: int, answers: str) -> int | None:
        found = await self._conn.fetchval(
            "SELECT id FROM survey_answer_sets WHERE wave_id = $1 AND answers = $2",
            wave_id,
            answers,
        )
        return None if found is None else int(found)

    async def _new_answer_set(self, wave_id: int, answers: str) -> int:
        # Random, so that the ids' order says nothing of when each set first appeared.
        answer_set = int.from_bytes(os.urandom(8), "big", signed=True)
        await self._conn.execute(
            "INSERT INTO survey_answer_sets (wave_id, id, answers, respondents) "
            "VALUES ($1, $2, $3, 1)",
            wave_id,
            answer_set,
            answers,
        )
        return answer_set

    async def _uncount(self, wave_id: int, answer_set: int) -> None:
        """One person fewer gives this set; a set nobody gives any more is deleted."""
        status = await self._conn.execute(
            "UPDATE survey_answer_sets SET respondents = respondents - 1 "
            "WHERE wave_id = $1 AND id = $2 AND respondents > 1",
            wave_id,
            answer_set,
        )
        if affected(status) == 0:
            await self._conn.execute(
                "DELETE FROM survey_answer_sets WHERE wave_id = $1 AND id = $2",
                wave_id,
                answer_set,
            )

    async def publish_snapshot(
        self, wave_id: int, figures: str, revision: int
    ) -> SurveySnapshot | None:
        version = await self._conn.fetchval(
            "INSERT INTO survey_snapshots (wave_id, version, figures, revision) "
            "VALUES ($1, 1, $2, $3) ON CONFLICT (wave_id) DO UPDATE SET "
            "version = survey_snapshots.version + 1, figures = excluded.figures, "
            "revision = excluded.revision "
            "WHERE survey_snapshots.revision <= excluded.revision RETURNING version",
            wave_id,
            figures,
            revision,
        )
        if version is None:
            return None  # computed before the stored figures: never step back
        return SurveySnapshot(wave_id, int(version), figures)


class PostgresSubscriptionsReader:
    """The reads; `PostgresSubscriptions` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def is_subscribed(self, subscriber: bytes) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM wave_subscribers WHERE subscriber = $1", subscriber
        )
        return found is not None

    async def pending(self, wave_id: int, limit: int) -> list[Subscriber]:
        rows = await self._db.fetch(
            "SELECT subscriber, chat_sealed FROM wave_subscribers WHERE notified_wave < $1 "
            "ORDER BY subscriber LIMIT $2",
            wave_id,
            limit,
        )
        return [Subscriber(bytes(row[0]), bytes(row[1])) for row in rows]

    async def count(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM wave_subscribers") or 0)


class PostgresSubscriptions(PostgresSubscriptionsReader):
    async def subscribe(self, subscriber: bytes, chat_sealed: bytes, notified_wave: int) -> None:
        await self._db.execute(
            "INSERT INTO wave_subscribers (subscriber, chat_sealed, notified_wave) "
            "VALUES ($1, $2, $3) ON CONFLICT (subscriber) DO UPDATE SET "
            "chat_sealed = excluded.chat_sealed",
            subscriber,
            chat_sealed,
            notified_wave,
        )

    async def unsubscribe(self, subscriber: bytes) -> bool:
        status = await self._db.execute(
            "DELETE FROM wave_subscribers WHERE subscriber = $1", subscriber
        )
        return affected(status) > 0

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> bool:
        status = await self._db.execute(
            "UPDATE wave_subscribers SET notified_wave = $1 "
            "WHERE subscriber = $2 AND notified_wave < $1",
            wave_id,
            subscriber,
        )
        return status != "UPDATE 0"

    async def unmark_notified(self, subscriber: bytes, wave_id: int) -> None:
        await self._db.execute(
            "UPDATE wave_subscribers SET notified_wave = $1 WHERE subscriber = $2 "
            "AND notified_wave = $3",
            wave_id - 1,
            subscriber,
            wave_id,
        )
