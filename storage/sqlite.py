"""The SQLite backend: one aiosqlite connection, WAL, foreign keys, busy timeout."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.interface import ArticleStats, UnansweredQuestion
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


class SqliteStorage:
    """Implements `storage.Storage` on one SQLite file."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._meta = SqliteMeta(conn)
        self._preferences = SqlitePreferences(conn)
        self._fsm = SqliteFsm(conn)
        self._knowledge_stats = SqliteKnowledgeStats(conn)

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
