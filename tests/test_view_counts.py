"""Article views and unanswered questions are gathered in memory and written in one
transaction: none is lost on a flush, on close, or when a write fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.knowledge.view_counts import ViewCounts
from storage import SqliteStorage, open_storage


async def views_of(storage: SqliteStorage) -> dict[str, int]:
    return {s.article_id: s.views for s in await storage.knowledge_stats.article_stats()}


async def test_views_are_written_at_a_flush_and_at_close(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/v.sqlite3")
    try:
        counts = ViewCounts(storage, interval=3600)  # only the explicit writes below
        for article in ("visa", "visa", "karta"):
            counts.add(article)
        assert await views_of(storage) == {}
        await counts.flush()
        assert await views_of(storage) == {"visa": 2, "karta": 1}
        counts.add("karta")
        await counts.close()
        assert await views_of(storage) == {"visa": 2, "karta": 2}
    finally:
        await storage.close()


async def unanswered_of(storage: SqliteStorage) -> dict[str, int]:
    return {q.terms: q.times for q in await storage.knowledge_stats.top_unanswered(10)}


async def test_unanswered_questions_are_counted_together_with_the_views(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/v.sqlite3")
    try:
        counts = ViewCounts(storage, interval=3600)
        for terms in ("bak bread", "bak bread", "footb club"):
            counts.add_unanswered(terms)
        assert await unanswered_of(storage) == {}
        await counts.flush()
        assert await unanswered_of(storage) == {"bak bread": 2, "footb club": 1}
        counts.add_unanswered("bak bread")
        async with storage.transaction():
            with pytest.raises(RuntimeError):  # the write connection is busy
                await counts.flush()
        counts.add_unanswered("bak bread")
        await counts.close()
        assert await unanswered_of(storage) == {"bak bread": 4, "footb club": 1}
    finally:
        await storage.close()


async def test_views_that_could_not_be_written_wait_for_the_next_flush(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path}/v.sqlite3")
    try:
        counts = ViewCounts(storage, interval=3600)
        counts.add("visa")
        async with storage.transaction():
            # The write connection is busy: a flush now would nest, and fails.
            with pytest.raises(RuntimeError):
                await counts.flush()
        counts.add("visa")
        await counts.close()
        assert await views_of(storage) == {"visa": 2}
    finally:
        await storage.close()
