"""Chats, polls, census votes and the admins' audit log."""

from __future__ import annotations

import datetime as dt
import json

import aiosqlite

from storage.interface import ChatRecord, Poll, PollCopy, ResultsDue

_POLL_COLUMNS = (
    "id, chat_key, kind, question, options, multiple, message_id, telegram_poll_id, tallies, "
    "opened_on, close_at, closed_on, voter_key_sealed, locale, hidden_counts, thread_id"
)

# A vote counts only while its poll is open, checked in the vote's own statement.
# The audit's admin once that admin asked to be forgotten.
FORGOTTEN_ADMIN = "forgotten"
_STILL_OPEN = "EXISTS (SELECT 1 FROM polls WHERE id = ? AND closed_on IS NULL)"
# A poll runs in a chat as its first chat, or as a pooled copy there.
_IN_CHAT = "(chat_key = ? OR id IN (SELECT poll_id FROM poll_copies WHERE chat_key = ?))"


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
        hidden_counts=bool(row[14]),
        thread_id=None if row[15] is None else int(row[15]),
    )


_CHAT_COLUMNS = "chat_key, chat_sealed, kind, active, forum"


def _chat(row: aiosqlite.Row) -> ChatRecord:
    return ChatRecord(bytes(row[0]), bytes(row[1]), str(row[2]), bool(row[3]), bool(row[4]))


class SqlitePollsReader:
    """The reads; `SqlitePolls` adds the writes, for use inside a transaction only."""

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

    async def get_chat(self, chat_key: bytes) -> ChatRecord | None:
        async with self._conn.execute(
            f"SELECT {_CHAT_COLUMNS} FROM chats WHERE chat_key = ?", (chat_key,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _chat(row)

    async def active_chats(self) -> list[ChatRecord]:
        async with self._conn.execute(
            f"SELECT {_CHAT_COLUMNS} FROM chats WHERE active = 1"
        ) as cur:
            return [_chat(row) for row in await cur.fetchall()]

    async def get_poll(self, poll_id: int) -> Poll | None:
        return await self._one("id = ?", (poll_id,))

    async def poll_by_telegram_id(self, telegram_poll_id: str) -> Poll | None:
        return await self._one("telegram_poll_id = ?", (telegram_poll_id,))

    async def poll_by_message(self, chat_key: bytes, message_id: int) -> Poll | None:
        return await self._one(
            "(chat_key = ? AND message_id = ?) OR id = (SELECT poll_id FROM poll_copies "
            "WHERE chat_key = ? AND message_id = ?)",
            (chat_key, message_id, chat_key, message_id),
        )

    async def chat_polls(
        self, chat_key: bytes, limit: int, thread_id: int | None = None
    ) -> list[Poll]:
        # A topic narrows the poll's own chat; a pooled copy elsewhere shows in every topic.
        topic = "" if thread_id is None else "AND (chat_key != ? OR thread_id = ?) "
        args: tuple[object, ...] = () if thread_id is None else (chat_key, thread_id)
        return await self._many(
            f"{_IN_CHAT} {topic}ORDER BY closed_on IS NOT NULL, closed_on DESC, id DESC LIMIT ?",
            (chat_key, chat_key, *args, limit),
        )

    async def copies(self, poll_id: int) -> list[PollCopy]:
        async with self._conn.execute(
            "SELECT chat_key, message_id, 0 FROM polls WHERE id = ? AND message_id IS NOT NULL "
            "UNION ALL SELECT chat_key, message_id, 1 FROM poll_copies WHERE poll_id = ? "
            "ORDER BY 3, 2",
            (poll_id, poll_id),
        ) as cur:
            return [PollCopy(bytes(row[0]), int(row[1])) for row in await cur.fetchall()]

    async def results_due(self, poll_id: int | None = None) -> list[ResultsDue]:
        async with self._conn.execute(
            "SELECT poll_id, chat_key, message_id, stage FROM poll_outbox "
            "WHERE stage IN ('close', 'results') AND (? IS NULL OR poll_id = ?) "
            "ORDER BY poll_id, chat_key",
            (poll_id, poll_id),
        ) as cur:
            rows = await cur.fetchall()
        return [
            ResultsDue(int(r[0]), bytes(r[1]), None if r[2] is None else int(r[2]), str(r[3]))
            for r in rows
        ]

    async def open_polls(self) -> list[Poll]:
        return await self._many("closed_on IS NULL ORDER BY id", ())

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

    async def unshown_voters(self, poll_id: int) -> int:
        async with self._conn.execute(
            "SELECT count(*) FROM poll_votes WHERE poll_id = ? AND unshown = 1", (poll_id,)
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def polls_closed_between(self, start: dt.date, end: dt.date) -> list[Poll]:
        return await self._many(
            "closed_on >= ? AND closed_on < ? ORDER BY closed_on, id",
            (start.isoformat(), end.isoformat()),
        )


class SqlitePolls(SqlitePollsReader):
    async def save_chat(self, chat: ChatRecord) -> None:
        await self._conn.execute(
            "INSERT INTO chats (chat_key, chat_sealed, kind, active, forum) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_key) DO UPDATE SET chat_sealed = excluded.chat_sealed, "
            "kind = excluded.kind, active = excluded.active, forum = excluded.forum",
            (chat.chat_key, chat.chat_sealed, chat.kind, int(chat.active), int(chat.forum)),
        )

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
        hidden_counts: bool = False,
        thread_id: int | None = None,
    ) -> Poll:
        cursor = await self._conn.execute(
            "INSERT INTO polls (chat_key, kind, question, options, multiple, tallies, "
            "opened_on, close_at, voter_key_sealed, locale, hidden_counts, thread_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                int(hidden_counts),
                thread_id,
            ),
        )
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

    async def delete_unposted(self, poll_id: int) -> None:
        await self._conn.execute(
            "DELETE FROM polls WHERE id = ? AND message_id IS NULL", (poll_id,)
        )

    async def add_copy(self, poll_id: int, chat_key: bytes, message_id: int) -> None:
        await self._conn.execute(
            "INSERT INTO poll_copies (poll_id, chat_key, message_id) VALUES (?, ?, ?) "
            "ON CONFLICT (poll_id, chat_key) DO UPDATE SET message_id = excluded.message_id",
            (poll_id, chat_key, message_id),
        )

    async def queue_results(self, poll_id: int, chat_key: bytes, message_id: int | None) -> None:
        await self._conn.execute(
            "INSERT INTO poll_outbox (poll_id, chat_key, message_id, stage) "
            "VALUES (?, ?, ?, 'close') ON CONFLICT (poll_id, chat_key) DO NOTHING",
            (poll_id, chat_key, message_id),
        )

    async def advance_results(
        self, poll_id: int, chat_key: bytes, stage: str, results_message_id: int | None = None
    ) -> None:
        await self._conn.execute(
            "UPDATE poll_outbox SET stage = ?, "
            "results_message_id = coalesce(?, results_message_id) "
            "WHERE poll_id = ? AND chat_key = ?",
            (stage, results_message_id, poll_id, chat_key),
        )

    async def set_tallies(self, poll_id: int, tallies: tuple[int, ...]) -> None:
        await self._conn.execute(
            "UPDATE polls SET tallies = ? WHERE id = ? AND closed_on IS NULL",
            (json.dumps(list(tallies)), poll_id),
        )

    async def close_poll(self, poll_id: int, closed_on: dt.date, tallies: tuple[int, ...]) -> bool:
        cursor = await self._conn.execute(
            "UPDATE polls SET closed_on = ?, tallies = ?, voter_key_sealed = NULL "
            "WHERE id = ? AND closed_on IS NULL",
            (closed_on.isoformat(), json.dumps(list(tallies)), poll_id),
        )
        closed = cursor.rowcount > 0
        if closed:
            await self._conn.execute("DELETE FROM poll_votes WHERE poll_id = ?", (poll_id,))
        return closed

    async def vote(self, poll_id: int, voter: bytes, choice: tuple[int, ...]) -> bool:
        if choice:
            cursor = await self._conn.execute(
                "INSERT INTO poll_votes (poll_id, voter, choice, unshown) SELECT ?, ?, ?, 1 "
                f"WHERE {_STILL_OPEN} "
                "ON CONFLICT (poll_id, voter) DO UPDATE SET choice = excluded.choice, unshown = 1",
                (poll_id, voter, json.dumps(list(choice)), poll_id),
            )
        else:
            # A withdrawn vote leaves no trace, so it is not counted among the unshown: the
            # next shown step still needs MIN_CELL_SIZE other people's votes.
            cursor = await self._conn.execute(
                f"DELETE FROM poll_votes WHERE poll_id = ? AND voter = ? AND {_STILL_OPEN}",
                (poll_id, voter, poll_id),
            )
        return cursor.rowcount > 0

    async def mark_votes_shown(self, poll_id: int) -> None:
        await self._conn.execute(
            "UPDATE poll_votes SET unshown = 0 WHERE poll_id = ? AND unshown = 1", (poll_id,)
        )

    async def audit(
        self, at_hour: str, action: str, chat_key: bytes, admin: str, poll_id: int | None
    ) -> None:
        await self._conn.execute(
            "INSERT INTO poll_audit (at_hour, action, chat_key, admin, poll_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (at_hour, action, chat_key, admin, poll_id),
        )

    async def move_chat(self, old_key: bytes, new: ChatRecord) -> bool:
        if await self.get_chat(old_key) is None:
            return False
        await self.save_chat(new)
        # The old messages stay in the old chat: the same ids in the new one are others.
        await self._conn.execute(
            "UPDATE polls SET chat_key = ?, message_id = NULL WHERE chat_key = ?",
            (new.chat_key, old_key),
        )
        # A pooled copy and its pending results follow the chat; results go to the new id.
        for table in ("poll_audit", "poll_copies", "poll_outbox"):
            await self._conn.execute(
                f"UPDATE {table} SET chat_key = ? WHERE chat_key = ?", (new.chat_key, old_key)
            )
        await self._conn.execute("DELETE FROM chats WHERE chat_key = ?", (old_key,))
        return True

    async def forget_admin(self, admin: str) -> None:
        await self._conn.execute(
            "UPDATE poll_audit SET admin = ? WHERE admin = ?", (FORGOTTEN_ADMIN, admin)
        )
