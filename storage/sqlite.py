"""The SQLite backend: one aiosqlite connection, WAL, foreign keys, busy timeout."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import aiosqlite

from storage.interface import (
    ArticleStats,
    ChatRecord,
    DigestRecord,
    Poll,
    Subscriber,
    UnansweredQuestion,
    Wave,
    WaveAlreadyOpenError,
)
from storage.migrations import migrate

_BUSY_TIMEOUT_MS = 5000


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` to a filesystem path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError("must look like sqlite:///path/to/file.sqlite3")
    return Path(url[len(prefix) :])


class SqliteMeta:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get(self, name: str) -> str | None:
        async with self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set(self, name: str, value: str) -> None:
        await self._conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        await self._conn.commit()


class SqlitePreferences:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def get_locale(self, person: str) -> str | None:
        async with self._conn.execute(
            "SELECT locale FROM preferences WHERE person = ?", (person,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def set_locale(self, person: str, locale: str) -> None:
        await self._conn.execute(
            "INSERT INTO preferences (person, locale) VALUES (?, ?) "
            "ON CONFLICT (person) DO UPDATE SET locale = excluded.locale",
            (person, locale),
        )
        await self._conn.commit()

    async def forget(self, person: str) -> None:
        await self._conn.execute("DELETE FROM preferences WHERE person = ?", (person,))
        await self._conn.commit()


class SqliteFsm:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def load(self, key: str) -> bytes | None:
        async with self._conn.execute("SELECT blob FROM fsm_states WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return None if row is None else bytes(row[0])

    async def save(self, key: str, blob: bytes) -> None:
        await self._conn.execute(
            "INSERT INTO fsm_states (key, blob) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET blob = excluded.blob",
            (key, blob),
        )
        await self._conn.commit()

    async def delete(self, key: str) -> None:
        await self._conn.execute("DELETE FROM fsm_states WHERE key = ?", (key,))
        await self._conn.commit()


class SqliteKnowledgeStats:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def record_view(self, article_id: str) -> None:
        await self._conn.execute(
            "INSERT INTO kb_views (article_id, views) VALUES (?, 1) "
            "ON CONFLICT (article_id) DO UPDATE SET views = views + 1",
            (article_id,),
        )
        await self._conn.commit()

    async def vote(self, voter: str, article_id: str, helpful: bool) -> None:
        await self._conn.execute(
            "INSERT INTO kb_votes (voter, article_id, helpful) VALUES (?, ?, ?) "
            "ON CONFLICT (voter) DO UPDATE SET helpful = excluded.helpful",
            (voter, article_id, int(helpful)),
        )
        await self._conn.commit()

    async def forget_votes(self, voters: list[str]) -> None:
        await self._conn.executemany(
            "DELETE FROM kb_votes WHERE voter = ?", [(voter,) for voter in voters]
        )
        await self._conn.commit()

    async def article_stats(self) -> list[ArticleStats]:
        async with self._conn.execute(
            "SELECT a.article_id, coalesce(v.views, 0), "
            "  coalesce(sum(k.helpful), 0), coalesce(sum(1 - k.helpful), 0) "
            "FROM (SELECT article_id FROM kb_views UNION SELECT article_id FROM kb_votes) a "
            "LEFT JOIN kb_views v ON v.article_id = a.article_id "
            "LEFT JOIN kb_votes k ON k.article_id = a.article_id "
            "GROUP BY a.article_id ORDER BY coalesce(v.views, 0) DESC, a.article_id"
        ) as cur:
            rows = await cur.fetchall()
        return [ArticleStats(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def record_unanswered(self, question_key: str, example: str) -> None:
        await self._conn.execute(
            "INSERT INTO kb_unanswered (question_key, example) VALUES (?, ?) "
            "ON CONFLICT (question_key) DO UPDATE SET times = times + 1",
            (question_key, example),
        )
        await self._conn.commit()

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]:
        async with self._conn.execute(
            "SELECT example, times FROM kb_unanswered ORDER BY times DESC, example LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
        return [UnansweredQuestion(str(r[0]), int(r[1])) for r in rows]


_WAVE_COLUMNS = "id, label, opened_on, closed_on, key_sealed"


def _wave(row: aiosqlite.Row | tuple[object, ...]) -> Wave:
    closed = row[3]
    return Wave(
        id=int(str(row[0])),
        label=str(row[1]),
        opened_on=dt.date.fromisoformat(str(row[2])),
        closed_on=None if closed is None else dt.date.fromisoformat(str(closed)),
        key_sealed=None if row[4] is None else bytes(row[4]),  # type: ignore[arg-type]
    )


class SqliteSurvey:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def open_wave(self, label: str, key_sealed: bytes, opened_on: dt.date) -> Wave:
        try:
            cursor = await self._conn.execute(
                "INSERT INTO survey_waves (label, opened_on, key_sealed) VALUES (?, ?, ?)",
                (label, opened_on.isoformat(), key_sealed),
            )
        except sqlite3.IntegrityError as exc:
            await self._conn.rollback()
            raise WaveAlreadyOpenError(label) from exc
        await self._conn.commit()
        return Wave(int(cursor.lastrowid or 0), label, opened_on, None, key_sealed)

    async def close_wave(self, wave_id: int, closed_on: dt.date) -> None:
        await self._conn.execute(
            "UPDATE survey_waves SET closed_on = ?, key_sealed = NULL "
            "WHERE id = ? AND closed_on IS NULL",
            (closed_on.isoformat(), wave_id),
        )
        await self._conn.commit()
        # The old page with the key may still sit in the WAL: write it back and truncate.
        await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def current_wave(self) -> Wave | None:
        async with self._conn.execute(
            f"SELECT {_WAVE_COLUMNS} FROM survey_waves WHERE closed_on IS NULL"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _wave(row)

    async def waves(self) -> list[tuple[Wave, int]]:
        async with self._conn.execute(
            f"SELECT {_WAVE_COLUMNS}, (SELECT count(*) FROM survey_responses r "
            "  WHERE r.wave_id = w.id) FROM survey_waves w ORDER BY id DESC"
        ) as cur:
            rows = await cur.fetchall()
        return [(_wave(row), int(row[5])) for row in rows]

    async def save_response(
        self, wave_id: int, respondent: bytes, week: str, answers: str
    ) -> None:
        await self._conn.execute(
            "INSERT INTO survey_responses (wave_id, respondent, week, answers) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (wave_id, respondent) "
            "DO UPDATE SET week = excluded.week, answers = excluded.answers",
            (wave_id, respondent, week, answers),
        )
        await self._count_change(wave_id)
        await self._conn.commit()

    async def has_response(self, wave_id: int, respondent: bytes) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        ) as cur:
            return await cur.fetchone() is not None

    async def delete_response(self, wave_id: int, respondent: bytes) -> bool:
        cursor = await self._conn.execute(
            "DELETE FROM survey_responses WHERE wave_id = ? AND respondent = ?",
            (wave_id, respondent),
        )
        if cursor.rowcount > 0:
            await self._count_change(wave_id)
        await self._conn.commit()
        return cursor.rowcount > 0

    async def _count_change(self, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE survey_waves SET changes = changes + 1 WHERE id = ?", (wave_id,)
        )

    async def changes(self, wave_id: int) -> int:
        async with self._conn.execute(
            "SELECT changes FROM survey_waves WHERE id = ?", (wave_id,)
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def response_groups(self, wave_id: int) -> list[tuple[str, int]]:
        async with self._conn.execute(
            "SELECT answers, count(*) FROM survey_responses WHERE wave_id = ? GROUP BY answers",
            (wave_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [(str(row[0]), int(row[1])) for row in rows]


class SqliteSubscriptions:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def subscribe(self, subscriber: bytes, chat_sealed: bytes, notified_wave: int) -> None:
        await self._conn.execute(
            "INSERT INTO wave_subscribers (subscriber, chat_sealed, notified_wave) "
            "VALUES (?, ?, ?) ON CONFLICT (subscriber) DO UPDATE SET "
            "chat_sealed = excluded.chat_sealed",
            (subscriber, chat_sealed, notified_wave),
        )
        await self._conn.commit()

    async def unsubscribe(self, subscriber: bytes) -> bool:
        cursor = await self._conn.execute(
            "DELETE FROM wave_subscribers WHERE subscriber = ?", (subscriber,)
        )
        await self._conn.commit()
        return cursor.rowcount > 0

    async def is_subscribed(self, subscriber: bytes) -> bool:
        async with self._conn.execute(
            "SELECT 1 FROM wave_subscribers WHERE subscriber = ?", (subscriber,)
        ) as cur:
            return await cur.fetchone() is not None

    async def pending(self, wave_id: int, limit: int) -> list[Subscriber]:
        async with self._conn.execute(
            "SELECT subscriber, chat_sealed FROM wave_subscribers WHERE notified_wave < ? "
            "ORDER BY subscriber LIMIT ?",
            (wave_id, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [Subscriber(bytes(row[0]), bytes(row[1])) for row in rows]

    async def mark_notified(self, subscriber: bytes, wave_id: int) -> None:
        await self._conn.execute(
            "UPDATE wave_subscribers SET notified_wave = max(notified_wave, ?) "
            "WHERE subscriber = ?",
            (wave_id, subscriber),
        )
        await self._conn.commit()

    async def count(self) -> int:
        async with self._conn.execute("SELECT count(*) FROM wave_subscribers") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


_POLL_COLUMNS = (
    "id, chat_key, kind, question, options, multiple, message_id, telegram_poll_id, tallies, "
    "opened_on, close_at, closed_on, voter_key_sealed, locale"
)


def _poll(row: aiosqlite.Row) -> Poll:
    return Poll(
        id=int(row[0]),
        chat_key=bytes(row[1]),
        kind=str(row[2]),
        question=str(row[3]),
        options=tuple(json.loads(row[4])),
        multiple=bool(row[5]),
        message_id=None if row[6] is None else int(row[6]),
        telegram_poll_id=None if row[7] is None else str(row[7]),
        tallies=tuple(int(n) for n in json.loads(row[8])),
        opened_on=dt.date.fromisoformat(str(row[9])),
        close_at=None if row[10] is None else dt.datetime.fromisoformat(str(row[10])),
        closed_on=None if row[11] is None else dt.date.fromisoformat(str(row[11])),
        voter_key_sealed=None if row[12] is None else bytes(row[12]),
        locale=str(row[13]),
    )


class SqlitePolls:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def _one(self, where: str, args: tuple[object, ...]) -> Poll | None:
        async with self._conn.execute(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE {where}", args
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _poll(row)

    async def _many(self, where: str, args: tuple[object, ...]) -> list[Poll]:
        async with self._conn.execute(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE {where}", args
        ) as cur:
            return [_poll(row) for row in await cur.fetchall()]

    async def save_chat(self, chat: ChatRecord) -> None:
        await self._conn.execute(
            "INSERT INTO chats (chat_key, chat_sealed, kind, active) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (chat_key) DO UPDATE SET chat_sealed = excluded.chat_sealed, "
            "kind = excluded.kind, active = excluded.active",
            (chat.chat_key, chat.chat_sealed, chat.kind, int(chat.active)),
        )
        await self._conn.commit()

    async def get_chat(self, chat_key: bytes) -> ChatRecord | None:
        async with self._conn.execute(
            "SELECT chat_key, chat_sealed, kind, active FROM chats WHERE chat_key = ?",
            (chat_key,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return ChatRecord(bytes(row[0]), bytes(row[1]), str(row[2]), bool(row[3]))

    async def active_chats(self) -> list[ChatRecord]:
        async with self._conn.execute(
            "SELECT chat_key, chat_sealed, kind, active FROM chats WHERE active = 1"
        ) as cur:
            rows = await cur.fetchall()
        return [ChatRecord(bytes(r[0]), bytes(r[1]), str(r[2]), bool(r[3])) for r in rows]

    async def create_poll(
        self,
        chat_key: bytes,
        kind: str,
        question: str,
        options: tuple[str, ...],
        multiple: bool,
        opened_on: dt.date,
        close_at: dt.datetime | None,
        voter_key_sealed: bytes | None,
        locale: str,
    ) -> Poll:
        cursor = await self._conn.execute(
            "INSERT INTO polls (chat_key, kind, question, options, multiple, tallies, "
            "opened_on, close_at, voter_key_sealed, locale) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_key,
                kind,
                question,
                json.dumps(list(options), ensure_ascii=False),
                int(multiple),
                json.dumps([0] * len(options)),
                opened_on.isoformat(),
                None if close_at is None else close_at.isoformat(),
                voter_key_sealed,
                locale,
            ),
        )
        await self._conn.commit()
        poll = await self.get_poll(int(cursor.lastrowid or 0))
        assert poll is not None
        return poll

    async def attach_message(
        self, poll_id: int, message_id: int, telegram_poll_id: str | None
    ) -> None:
        await self._conn.execute(
            "UPDATE polls SET message_id = ?, telegram_poll_id = ? WHERE id = ?",
            (message_id, telegram_poll_id, poll_id),
        )
        await self._conn.commit()

    async def get_poll(self, poll_id: int) -> Poll | None:
        return await self._one("id = ?", (poll_id,))

    async def poll_by_telegram_id(self, telegram_poll_id: str) -> Poll | None:
        return await self._one("telegram_poll_id = ?", (telegram_poll_id,))

    async def poll_by_message(self, chat_key: bytes, message_id: int) -> Poll | None:
        return await self._one("chat_key = ? AND message_id = ?", (chat_key, message_id))

    async def chat_polls(self, chat_key: bytes, limit: int) -> list[Poll]:
        return await self._many(
            "chat_key = ? ORDER BY closed_on IS NOT NULL, closed_on DESC, id DESC LIMIT ?",
            (chat_key, limit),
        )

    async def open_polls(self) -> list[Poll]:
        return await self._many("closed_on IS NULL ORDER BY id", ())

    async def set_tallies(self, poll_id: int, tallies: tuple[int, ...]) -> None:
        await self._conn.execute(
            "UPDATE polls SET tallies = ? WHERE id = ? AND closed_on IS NULL",
            (json.dumps(list(tallies)), poll_id),
        )
        await self._conn.commit()

    async def close_poll(self, poll_id: int, closed_on: dt.date, tallies: tuple[int, ...]) -> bool:
        cursor = await self._conn.execute(
            "UPDATE polls SET closed_on = ?, tallies = ?, voter_key_sealed = NULL "
            "WHERE id = ? AND closed_on IS NULL",
            (closed_on.isoformat(), json.dumps(list(tallies)), poll_id),
        )
        closed = cursor.rowcount > 0
        if closed:
            await self._conn.execute("DELETE FROM poll_votes WHERE poll_id = ?", (poll_id,))
        await self._conn.commit()
        return closed

    async def vote(self, poll_id: int, voter: bytes, choice: tuple[int, ...]) -> None:
        if choice:
            await self._conn.execute(
                "INSERT INTO poll_votes (poll_id, voter, choice) VALUES (?, ?, ?) "
                "ON CONFLICT (poll_id, voter) DO UPDATE SET choice = excluded.choice",
                (poll_id, voter, json.dumps(list(choice))),
            )
        else:
            await self._conn.execute(
                "DELETE FROM poll_votes WHERE poll_id = ? AND voter = ?", (poll_id, voter)
            )
        await self._conn.commit()

    async def get_vote(self, poll_id: int, voter: bytes) -> tuple[int, ...]:
        async with self._conn.execute(
            "SELECT choice FROM poll_votes WHERE poll_id = ? AND voter = ?", (poll_id, voter)
        ) as cur:
            row = await cur.fetchone()
        return () if row is None else tuple(int(i) for i in json.loads(row[0]))

    async def census_tallies(self, poll_id: int, options: int) -> tuple[int, ...]:
        tallies = [0] * options
        async with self._conn.execute(
            "SELECT choice, count(*) FROM poll_votes WHERE poll_id = ? GROUP BY choice",
            (poll_id,),
        ) as cur:
            for choice, count in await cur.fetchall():
                for index in json.loads(choice):
                    if 0 <= int(index) < options:
                        tallies[int(index)] += int(count)
        return tuple(tallies)

    async def polls_closed_between(self, start: dt.date, end: dt.date) -> list[Poll]:
        return await self._many(
            "closed_on >= ? AND closed_on < ? ORDER BY closed_on, id",
            (start.isoformat(), end.isoformat()),
        )

    async def audit(
        self, at_hour: str, action: str, chat_key: bytes, admin: str, poll_id: int | None
    ) -> None:
        await self._conn.execute(
            "INSERT INTO poll_audit (at_hour, action, chat_key, admin, poll_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (at_hour, action, chat_key, admin, poll_id),
        )
        await self._conn.commit()


def _digest(row: aiosqlite.Row) -> DigestRecord:
    return DigestRecord(
        period_key=str(row[0]),
        kind=str(row[1]),
        status=str(row[2]),
        claimed_at=dt.datetime.fromisoformat(str(row[3])),
        message_ids=tuple(int(i) for i in json.loads(row[4])),
        snapshot=str(row[5]),
    )


_DIGEST_COLUMNS = "period_key, kind, status, claimed_at, message_ids, snapshot"


class SqliteDigests:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def claim(
        self, period_key: str, kind: str, claimed_at: dt.datetime, snapshot: str
    ) -> bool:
        cursor = await self._conn.execute(
            "INSERT INTO digests (period_key, kind, status, claimed_at, snapshot) "
            "VALUES (?, ?, 'posting', ?, ?) ON CONFLICT (period_key) DO NOTHING",
            (period_key, kind, claimed_at.isoformat(), snapshot),
        )
        await self._conn.commit()
        return cursor.rowcount > 0

    async def mark_posted(self, period_key: str, message_ids: tuple[int, ...]) -> None:
        await self._conn.execute(
            "UPDATE digests SET status = 'posted', message_ids = ? WHERE period_key = ?",
            (json.dumps(list(message_ids)), period_key),
        )
        await self._conn.commit()

    async def mark_failed(self, period_key: str) -> None:
        await self._conn.execute(
            "UPDATE digests SET status = 'failed' WHERE period_key = ?", (period_key,)
        )
        await self._conn.commit()

    async def get(self, period_key: str) -> DigestRecord | None:
        async with self._conn.execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE period_key = ?", (period_key,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _digest(row)

    async def last_posted(self) -> DigestRecord | None:
        async with self._conn.execute(
            f"SELECT {_DIGEST_COLUMNS} FROM digests WHERE status = 'posted' "
            "ORDER BY claimed_at DESC LIMIT 1"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _digest(row)


class SqliteStorage:
    """Implements `storage.Storage` on one SQLite file."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._meta = SqliteMeta(conn)
        self._preferences = SqlitePreferences(conn)
        self._fsm = SqliteFsm(conn)
        self._knowledge_stats = SqliteKnowledgeStats(conn)
        self._survey = SqliteSurvey(conn)
        self._subscriptions = SqliteSubscriptions(conn)
        self._polls = SqlitePolls(conn)
        self._digests = SqliteDigests(conn)

    @property
    def meta(self) -> SqliteMeta:
        return self._meta

    @property
    def preferences(self) -> SqlitePreferences:
        return self._preferences

    @property
    def fsm(self) -> SqliteFsm:
        return self._fsm

    @property
    def knowledge_stats(self) -> SqliteKnowledgeStats:
        return self._knowledge_stats

    @property
    def survey(self) -> SqliteSurvey:
        return self._survey

    @property
    def subscriptions(self) -> SqliteSubscriptions:
        return self._subscriptions

    @property
    def polls(self) -> SqlitePolls:
        return self._polls

    @property
    def digests(self) -> SqliteDigests:
        return self._digests

    async def close(self) -> None:
        await self._conn.close()


async def connect(path: Path) -> aiosqlite.Connection:
    """Open a connection with the pragmas Vyraj relies on; create the folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows are overwritten, so a copied file keeps no remnants of forgotten data.
    await conn.execute("PRAGMA secure_delete = ON")
    return conn


async def open_storage(url: str) -> SqliteStorage:
    """Open the database named by DATABASE_URL and bring its schema up to date."""
    conn = await connect(sqlite_path_from_url(url))
    try:
        await migrate(conn)
    except Exception:
        await conn.close()
        raise
    return SqliteStorage(conn)
