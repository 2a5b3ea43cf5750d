"""Views, votes, unanswered questions and readers' notes of the relocation guide."""

from __future__ import annotations

import aiosqlite

from storage.interface import (
    NOTES_PER_ARTICLE,
    UNANSWERED_LIMIT,
    ArticleStats,
    ReaderNote,
    UnansweredQuestion,
)


class SqliteKnowledgeStatsReader:
    """The reads; `SqliteKnowledgeStats` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

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

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]:
        async with self._conn.execute(
            "SELECT terms, times FROM kb_unanswered ORDER BY times DESC, terms LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
        return [UnansweredQuestion(str(r[0]), int(r[1])) for r in rows]

    async def note_counts(self) -> list[tuple[str, int]]:
        async with self._conn.execute(
            "SELECT article_id, count(*) FROM kb_notes "
            "GROUP BY article_id ORDER BY count(*) DESC, article_id"
        ) as cur:
            rows = await cur.fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    async def notes(self, article_id: str, limit: int) -> list[ReaderNote]:
        async with self._conn.execute(
            "SELECT article_id, note, noted_in FROM kb_notes WHERE article_id = ? "
            "ORDER BY rowid DESC LIMIT ?",
            (article_id, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [ReaderNote(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def count_unanswered(self) -> int:
        async with self._conn.execute("SELECT count(*) FROM kb_unanswered") as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])


class SqliteKnowledgeStats(SqliteKnowledgeStatsReader):
    async def record_view(self, article_id: str, views: int = 1) -> None:
        await self._conn.execute(
            "INSERT INTO kb_views (article_id, views) VALUES (?, ?) "
            "ON CONFLICT (article_id) DO UPDATE SET views = views + excluded.views",
            (article_id, views),
        )

    async def vote(self, voter: str, article_id: str, helpful: bool) -> bool | None:
        # Read then write inside the caller's transaction (BEGIN IMMEDIATE): no race between.
        async with self._conn.execute(
            "SELECT helpful FROM kb_votes WHERE voter = ?", (voter,)
        ) as cur:
            row = await cur.fetchone()
        await self._conn.execute(
            "INSERT INTO kb_votes (voter, article_id, helpful) VALUES (?, ?, ?) "
            "ON CONFLICT (voter) DO UPDATE SET helpful = excluded.helpful",
            (voter, article_id, int(helpful)),
        )
        return None if row is None else bool(row[0])

    async def voted_articles(self) -> list[str]:
        async with self._conn.execute("SELECT DISTINCT article_id FROM kb_votes") as cur:
            rows = await cur.fetchall()
        return [str(row[0]) for row in rows]

    async def forget_votes(self, voters: list[str]) -> None:
        await self._conn.executemany(
            "DELETE FROM kb_votes WHERE voter = ?", [(voter,) for voter in voters]
        )

    async def record_unanswered(self, terms: str, times: int = 1) -> None:
        async with self._conn.execute(
            "INSERT INTO kb_unanswered (terms, times) VALUES (?, ?) "
            "ON CONFLICT (terms) DO UPDATE SET times = times + excluded.times RETURNING times",
            (terms, times),
        ) as cur:
            row = await cur.fetchone()
        # A row that already was holds more than the `times` just added.
        if row is not None and int(row[0]) == times:
            # A new row past the limit makes room by dropping the least asked other one.
            await self._conn.execute(
                "DELETE FROM kb_unanswered WHERE (SELECT count(*) FROM kb_unanswered) > ? "
                "AND terms = (SELECT terms FROM kb_unanswered WHERE terms != ? "
                "  ORDER BY times, terms LIMIT 1)",
                (UNANSWERED_LIMIT, terms),
            )

    async def add_note(self, article_id: str, note: str, noted_in: str) -> None:
        await self._conn.execute(
            "INSERT INTO kb_notes (article_id, note, noted_in) VALUES (?, ?, ?)",
            (article_id, note, noted_in),
        )
        await self._conn.execute(
            "DELETE FROM kb_notes WHERE article_id = ? AND rowid NOT IN "
            "(SELECT rowid FROM kb_notes WHERE article_id = ? ORDER BY rowid DESC LIMIT ?)",
            (article_id, article_id, NOTES_PER_ARTICLE),
        )

    async def clear_notes(self, article_id: str) -> int:
        cursor = await self._conn.execute(
            "DELETE FROM kb_notes WHERE article_id = ?", (article_id,)
        )
        return cursor.rowcount
