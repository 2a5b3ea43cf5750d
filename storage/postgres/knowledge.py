"""Views, votes, unanswered questions and readers' notes of the relocation guide."""

from __future__ import annotations

from storage.interface import (
    NOTES_PER_ARTICLE,
    UNANSWERED_LIMIT,
    ArticleStats,
    ReaderNote,
    UnansweredQuestion,
)
from storage.postgres.connection import Executor, affected


class PostgresKnowledgeStatsReader:
    """The reads; `PostgresKnowledgeStats` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor) -> None:
        self._db = db

    async def article_stats(self) -> list[ArticleStats]:
        rows = await self._db.fetch(
            "SELECT a.article_id, coalesce(v.views, 0), "
            "  coalesce(sum(k.helpful), 0), coalesce(sum(1 - k.helpful), 0) "
            "FROM (SELECT article_id FROM kb_views UNION SELECT article_id FROM kb_votes) a "
            "LEFT JOIN kb_views v ON v.article_id = a.article_id "
            "LEFT JOIN kb_votes k ON k.article_id = a.article_id "
            "GROUP BY a.article_id, v.views "
            'ORDER BY coalesce(v.views, 0) DESC, a.article_id COLLATE "C"'
        )
        return [ArticleStats(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def top_unanswered(self, limit: int) -> list[UnansweredQuestion]:
        rows = await self._db.fetch(
            'SELECT terms, times FROM kb_unanswered ORDER BY times DESC, terms COLLATE "C" '
            "LIMIT $1",
            limit,
        )
        return [UnansweredQuestion(str(r[0]), int(r[1])) for r in rows]

    async def note_counts(self) -> list[tuple[str, int]]:
        rows = await self._db.fetch(
            "SELECT article_id, count(*) FROM kb_notes "
            'GROUP BY article_id ORDER BY count(*) DESC, article_id COLLATE "C"'
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    async def notes(self, article_id: str, limit: int) -> list[ReaderNote]:
        rows = await self._db.fetch(
            "SELECT article_id, note, noted_in FROM kb_notes WHERE article_id = $1 "
            "ORDER BY rowid DESC LIMIT $2",
            article_id,
            limit,
        )
        return [ReaderNote(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def count_unanswered(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM kb_unanswered") or 0)


class PostgresKnowledgeStats(PostgresKnowledgeStatsReader):
    async def record_view(self, article_id: str, views: int = 1) -> None:
        await self._db.execute(
            "INSERT INTO kb_views (article_id, views) VALUES ($1, $2) "
            "ON CONFLICT (article_id) DO UPDATE SET views = kb_views.views + excluded.views",
            article_id,
            views,
        )

    async def vote(self, voter: str, article_id: str, helpful: bool) -> bool | None:
        # Read then write under the transaction's write lock: no race between.
        before = await self._db.fetchval("SELECT helpful FROM kb_votes WHERE voter = $1", voter)
        await self._db.execute(
            "INSERT INTO kb_votes (voter, article_id, helpful) VALUES ($1, $2, $3) "
            "ON CONFLICT (voter) DO UPDATE SET helpful = excluded.helpful",
            voter,
            article_id,
            int(helpful),
        )
        return None if before is None else bool(before)

    async def voted_articles(self) -> list[str]:
        rows = await self._db.fetch("SELECT DISTINCT article_id FROM kb_votes")
        return [str(row[0]) for row in rows]

    async def forget_votes(self, voters: list[str]) -> None:
        await self._db.execute("DELETE FROM kb_votes WHERE voter = ANY($1::text[])", voters)

    async def record_unanswered(self, terms: str, times: int = 1) -> None:
        total = await self._db.fetchval(
            "INSERT INTO kb_unanswered (terms, times) VALUES ($1, $2) ON CONFLICT (terms) "
            "DO UPDATE SET times = kb_unanswered.times + excluded.times RETURNING times",
            terms,
            times,
        )
        # A row that already was holds more than the `times` just added.
        if total == times:
            # A new row past the limit makes room by dropping the least asked other one.
            await self._db.execute(
                "DELETE FROM kb_unanswered WHERE (SELECT count(*) FROM kb_unanswered) > $1 "
                "AND terms = (SELECT terms FROM kb_unanswered WHERE terms != $2 "
                '  ORDER BY times, terms COLLATE "C" LIMIT 1)',
                UNANSWERED_LIMIT,
                terms,
            )

    async def add_note(self, article_id: str, note: str, noted_in: str) -> None:
        await self._db.execute(
            "INSERT INTO kb_notes (article_id, note, noted_in) VALUES ($1, $2, $3)",
            article_id,
            note,
            noted_in,
        )
        await self._db.execute(
            "DELETE FROM kb_notes WHERE article_id = $1 AND rowid NOT IN "
            "(SELECT rowid FROM kb_notes WHERE article_id = $1 ORDER BY rowid DESC LIMIT $2)",
            article_id,
            NOTES_PER_ARTICLE,
        )

    async def clear_notes(self, article_id: str) -> int:
        return affected(
            await self._db.execute("DELETE FROM kb_notes WHERE article_id = $1", article_id)
        )
