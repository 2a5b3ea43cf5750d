"""Chats, polls, census votes and the admins' audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import replace

from storage.interface import ChatRecord, Poll, PollCopy, ResultsDue
from storage.postgres.connection import Connection, Executor, affected
from storage.postgres.key_vault import AfterCommit, KeyVault

_POLL_COLUMNS = (
    "id, chat_key, kind, question, options, multiple, message_id, telegram_poll_id, tallies, "
    "opened_on, close_at, closed_on, voter_key_sealed, locale, hidden_counts, thread_id"
)

# The audit's admin once that admin asked to be forgotten.
FORGOTTEN_ADMIN = "forgotten"
# A vote counts only while its poll is open, checked in the vote's own statement.
_STILL_OPEN = "EXISTS (SELECT 1 FROM polls WHERE id = $1 AND closed_on IS NULL)"
# A poll runs in a chat as its first chat, or as a pooled copy there.
_IN_CHAT = "(chat_key = $1 OR id IN (SELECT poll_id FROM poll_copies WHERE chat_key = $1))"


def _poll(row: Mapping[str, object]) -> Poll:
    def text(name: str) -> str | None:
        value = row[name]
        return None if value is None else str(value)

    message_id, thread_id = text("message_id"), text("thread_id")
    close_at, closed_on = text("close_at"), text("closed_on")
    voter_key = row["voter_key_sealed"]
    return Poll(
        id=int(str(row["id"])),
        chat_key=bytes(row["chat_key"]),  # type: ignore[call-overload]
        kind=str(row["kind"]),
        question=str(row["question"]),
        options=tuple(json.loads(str(row["options"]))),
        multiple=bool(row["multiple"]),
        message_id=None if message_id is None else int(message_id),
        telegram_poll_id=text("telegram_poll_id"),
        tallies=tuple(int(n) for n in json.loads(str(row["tallies"]))),
        opened_on=dt.date.fromisoformat(str(row["opened_on"])),
        close_at=None if close_at is None else dt.datetime.fromisoformat(close_at),
        closed_on=None if closed_on is None else dt.date.fromisoformat(closed_on),
        voter_key_sealed=None if voter_key is None else bytes(voter_key),  # type: ignore[call-overload]
        locale=str(row["locale"]),
        hidden_counts=bool(row["hidden_counts"]),
        thread_id=None if thread_id is None else int(thread_id),
    )


_CHAT_COLUMNS = "chat_key, chat_sealed, kind, active, forum"


def _chat(row: Mapping[str, object]) -> ChatRecord:
    return ChatRecord(
        bytes(row["chat_key"]),  # type: ignore[call-overload]
        bytes(row["chat_sealed"]),  # type: ignore[call-overload]
        str(row["kind"]),
        bool(row["active"]),
        bool(row["forum"]),
    )


class PostgresPollsReader:
    """The reads; `PostgresPolls` adds the writes, for use inside a transaction only."""

    def __init__(self, db: Executor, vault: KeyVault) -> None:
        self._db = db
        self._vault = vault

    async def _opened(self, poll: Poll) -> Poll:
        """The poll with its voter key as sealed under SECRET_KEY (unwrapped from its KEK)."""
        if poll.voter_key_sealed is None:
            return poll
        return replace(poll, voter_key_sealed=await self._vault.unwrap(poll.voter_key_sealed))

    async def _one(self, where: str, *args: object) -> Poll | None:
        row = await self._db.fetchrow(f"SELECT {_POLL_COLUMNS} FROM polls WHERE {where}", *args)
        return None if row is None else await self._opened(_poll(row))

    async def _many(self, where: str, *args: object) -> list[Poll]:
        rows = await self._db.fetch(f"SELECT {_POLL_COLUMNS} FROM polls WHERE {where}", *args)
        return [await self._opened(_poll(row)) for row in rows]

    async def get_chat(self, chat_key: bytes) -> ChatRecord | None:
        row = await self._db.fetchrow(
            f"SELECT {_CHAT_COLUMNS} FROM chats WHERE chat_key = $1", chat_key
        )
        return None if row is None else _chat(row)

    async def active_chats(self) -> list[ChatRecord]:
        rows = await self._db.fetch(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE active = 1")
        return [_chat(row) for row in rows]

    async def get_poll(self, poll_id: int) -> Poll | None:
        return await self._one("id = $1", poll_id)

    async def poll_by_telegram_id(self, telegram_poll_id: str) -> Poll | None:
        return await self._one("telegram_poll_id = $1", telegram_poll_id)

    async def poll_by_message(self, chat_key: bytes, message_id: int) -> Poll | None:
        return await self._one(
            "(chat_key = $1 AND message_id = $2) OR id = (SELECT poll_id FROM poll_copies "
            "WHERE chat_key = $1 AND message_id = $2)",
            chat_key,
            message_id,
        )

    async def chat_polls(
        self, chat_key: bytes, limit: int, thread_id: int | None = None
    ) -> list[Poll]:
        # A topic narrows the poll's own chat; a pooled copy elsewhere shows in every topic.
        order = 'ORDER BY closed_on IS NOT NULL, closed_on COLLATE "C" DESC, id DESC LIMIT $2'
        if thread_id is None:
            return await self._many(f"{_IN_CHAT} {order}", chat_key, limit)
        return await self._many(
            f"{_IN_CHAT} AND (chat_key != $1 OR thread_id = $3) {order}",
            chat_key,
            limit,
            thread_id,
        )

    async def copies(self, poll_id: int) -> list[PollCopy]:
        rows = await self._db.fetch(
            "SELECT chat_key, message_id, 0 FROM polls WHERE id = $1 AND message_id IS NOT NULL "
            "UNION ALL SELECT chat_key, message_id, 1 FROM poll_copies WHERE poll_id = $1 "
            "ORDER BY 3, 2",
            poll_id,
        )
        return [PollCopy(bytes(row[0]), int(row[1])) for row in rows]

    async def results_due(self, poll_id: int | None = None) -> list[ResultsDue]:
        rows = await self._db.fetch(
            "SELECT poll_id, chat_key, message_id, stage FROM poll_outbox "
            "WHERE stage IN ('close', 'results') AND ($1::bigint IS NULL OR poll_id = $1) "
            "ORDER BY poll_id, chat_key",
            poll_id,
        )
        return [
            ResultsDue(int(r[0]), bytes(r[1]), None if r[2] is None else int(r[2]), str(r[3]))
            for r in rows
        ]

    async def open_polls(self) -> list[Poll]:
        return await self._many("closed_on IS NULL ORDER BY id")

    async def get_vote(self, poll_id: int, voter: bytes) -> tuple[int, ...]:
        choice = await self._db.fetchval(
            "SELECT choice FROM poll_votes WHERE poll_id = $1 AND voter = $2", poll_id, voter
        )
        return () if choice is None else tuple(int(i) for i in json.loads(str(choice)))

    async def census_tallies(self, poll_id: int, options: int) -> tuple[int, ...]:
        tallies = [0] * options
        rows = await self._db.fetch(
            "SELECT choice, count(*) FROM poll_votes WHERE poll_id = $1 GROUP BY choice",
            poll_id,
        )
        for choice, count in rows:
            for index in json.loads(choice):
                if 0 <= int(index) < options:
                    tallies[int(index)] += int(count)
        return tuple(tallies)

    async def unshown_voters(self, poll_id: int) -> int:
        count = await self._db.fetchval(
            "SELECT count(*) FROM poll_votes WHERE poll_id = $1 AND unshown = 1", poll_id
        )
        return int(count or 0)

    async def polls_closed_between(self, start: dt.date, end: dt.date) -> list[Poll]:
        return await self._many(
            'closed_on COLLATE "C" >= $1 AND closed_on COLLATE "C" < $2 '
            'ORDER BY closed_on COLLATE "C", id',
            start.isoformat(),
            end.isoformat(),
        )


class PostgresPolls(PostgresPollsReader):
    def __init__(self, db: Connection, vault: KeyVault, after_commit: list[AfterCommit]) -> None:
        super().__init__(db, vault)
        self._after_commit = after_commit

    def _shred_after_commit(self, stored: bytes | None) -> None:
        if stored is not None:
            vault, wrapped = self._vault, bytes(stored)
            # Only once committed: a rolled-back close must leave the open poll its key.
            self._after_commit.append(lambda: vault.shred(wrapped))

    async def save_chat(self, chat: ChatRecord) -> None:
        await self._db.execute(
            "INSERT INTO chats (chat_key, chat_sealed, kind, active, forum) "
            "VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (chat_key) DO UPDATE SET chat_sealed = excluded.chat_sealed, "
            "kind = excluded.kind, active = excluded.active, forum = excluded.forum",
            chat.chat_key,
            chat.chat_sealed,
            chat.kind,
            int(chat.active),
            int(chat.forum),
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
        stored = None if voter_key_sealed is None else await self._vault.wrap(voter_key_sealed)
        row = await self._db.fetchrow(
            "INSERT INTO polls (chat_key, kind, question, options, multiple, tallies, "
            "opened_on, close_at, voter_key_sealed, locale, hidden_counts, thread_id) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
            f"RETURNING {_POLL_COLUMNS}",
            chat_key,
            kind,
            question,
            json.dumps(list(options), ensure_ascii=False),
            int(multiple),
            json.dumps([0] * len(options)),
            opened_on.isoformat(),
            None if close_at is None else close_at.isoformat(),
            stored,
            locale,
            int(hidden_counts),
            thread_id,
        )
        assert row is not None
        return replace(_poll(row), voter_key_sealed=voter_key_sealed)

    async def attach_message(
        self, poll_id: int, message_id: int, telegram_poll_id: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE polls SET message_id = $1, telegram_poll_id = $2 WHERE id = $3",
            message_id,
            telegram_poll_id,
            poll_id,
        )

    async def delete_unposted(self, poll_id: int) -> None:
        stored = await self._db.fetchval(
            "DELETE FROM polls WHERE id = $1 AND message_id IS NULL RETURNING voter_key_sealed",
            poll_id,
        )
        self._shred_after_commit(stored)

    async def add_copy(self, poll_id: int, chat_key: bytes, message_id: int) -> None:
        await self._db.execute(
            "INSERT INTO poll_copies (poll_id, chat_key, message_id) VALUES ($1, $2, $3) "
            "ON CONFLICT (poll_id, chat_key) DO UPDATE SET message_id = excluded.message_id",
            poll_id,
            chat_key,
            message_id,
        )

    async def queue_results(self, poll_id: int, chat_key: bytes, message_id: int | None) -> None:
        await self._db.execute(
            "INSERT INTO poll_outbox (poll_id, chat_key, message_id, stage) "
            "VALUES ($1, $2, $3, 'close') ON CONFLICT (poll_id, chat_key) DO NOTHING",
            poll_id,
            chat_key,
            message_id,
        )

    async def advance_results(
        self, poll_id: int, chat_key: bytes, stage: str, results_message_id: int | None = None
    ) -> None:
        await self._db.execute(
            "UPDATE poll_outbox SET stage = $1, "
            "results_message_id = coalesce($2, results_message_id) "
            "WHERE poll_id = $3 AND chat_key = $4",
            stage,
            results_message_id,
            poll_id,
            chat_key,
        )

    async def set_tallies(self, poll_id: int, tallies: tuple[int, ...]) -> None:
        await self._db.execute(
            "UPDATE polls SET tallies = $1 WHERE id = $2 AND closed_on IS NULL",
            json.dumps(list(tallies)),
            poll_id,
        )

    async def close_poll(self, poll_id: int, closed_on: dt.date, tallies: tuple[int, ...]) -> bool:
        stored = await self._db.fetchval(
            "SELECT voter_key_sealed FROM polls WHERE id = $1 AND closed_on IS NULL", poll_id
        )
        status = await self._db.execute(
            "UPDATE polls SET closed_on = $1, tallies = $2, voter_key_sealed = NULL "
            "WHERE id = $3 AND closed_on IS NULL",
            closed_on.isoformat(),
            json.dumps(list(tallies)),
            poll_id,
        )
        closed = affected(status) > 0
        if closed:
            await self._db.execute("DELETE FROM poll_votes WHERE poll_id = $1", poll_id)
            self._shred_after_commit(stored)
        return closed

    async def vote(self, poll_id: int, voter: bytes, choice: tuple[int, ...]) -> bool:
        if choice:
            status = await self._db.execute(
                "INSERT INTO poll_votes (poll_id, voter, choice, unshown) "
                f"SELECT $1::bigint, $2::bytea, $3::text, 1 WHERE {_STILL_OPEN} "
                "ON CONFLICT (poll_id, voter) DO UPDATE SET choice = excluded.choice, unshown = 1",
                poll_id,
                voter,
                json.dumps(list(choice)),
            )
        else:
            # A withdrawn vote leaves no trace, so it is not counted among the unshown: the
            # next shown step still needs MIN_CELL_SIZE other people's votes.
            status = await self._db.execute(
                f"DELETE FROM poll_votes WHERE poll_id = $1 AND voter = $2 AND {_STILL_OPEN}",
                poll_id,
                voter,
            )
        return affected(status) > 0

    async def mark_votes_shown(self, poll_id: int) -> None:
        await self._db.execute(
            "UPDATE poll_votes SET unshown = 0 WHERE poll_id = $1 AND unshown = 1", poll_id
        )

    async def audit(
        self, at_hour: str, action: str, chat_key: bytes, admin: str, poll_id: int | None
    ) -> None:
        await self._db.execute(
            "INSERT INTO poll_audit (at_hour, action, chat_key, admin, poll_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            at_hour,
            action,
            chat_key,
            admin,
            poll_id,
        )

    async def move_chat(self, old_key: bytes, new: ChatRecord) -> bool:
        if await self.get_chat(old_key) is None:
            return False
        await self.save_chat(new)
        # The old messages stay in the old chat: the same ids in the new one are others.
        await self._db.execute(
            "UPDATE polls SET chat_key = $1, message_id = NULL WHERE chat_key = $2",
            new.chat_key,
            old_key,
        )
        # A pooled copy and its pending results follow the chat; results go to the new id.
        for table in ("poll_audit", "poll_copies", "poll_outbox"):
            await self._db.execute(
                f"UPDATE {table} SET chat_key = $1 WHERE chat_key = $2", new.chat_key, old_key
            )
        await self._db.execute("DELETE FROM chats WHERE chat_key = $1", old_key)
        return True

    async def forget_admin(self, admin: str) -> None:
        await self._db.execute(
            "UPDATE poll_audit SET admin = $1 WHERE admin = $2", FORGOTTEN_ADMIN, admin
        )
