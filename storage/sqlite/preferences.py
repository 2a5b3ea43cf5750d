"""A person's settings, keyed by their pseudonym."""

from __future__ import annotations

from collections import OrderedDict

import aiosqlite


class LocaleCache:
    """Locales read lately, by person, so that an update does not cost a database read each.

    The write connection is this process's alone; a person is dropped when a transaction that
    changed their row ends, and a read that overlapped such a change is not kept (a counter
    moves), so no stale choice stays."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._locales: OrderedDict[str, str | None] = OrderedDict()
        self.generation = 0

    def get(self, person: str) -> tuple[bool, str | None]:
        """(True, the locale, None if none is saved) when kept; else (False, None)."""
        if person not in self._locales:
            return False, None
        self._locales.move_to_end(person)
        return True, self._locales[person]

    def keep(self, person: str, locale: str | None, read_in_generation: int) -> None:
        if read_in_generation != self.generation:
            return  # a write may have ended while this was read
        self._locales[person] = locale
        if len(self._locales) > self._limit:
            self._locales.popitem(last=False)

    def drop(self, people: set[str]) -> None:
        if not people:
            return
        self.generation += 1
        for person in people:
            self._locales.pop(person, None)


class SqlitePreferencesReader:
    """The reads; `SqlitePreferences` adds the writes, for use inside a transaction only."""

    def __init__(self, conn: aiosqlite.Connection, cache: LocaleCache | None = None) -> None:
        self._conn = conn
        self._cache = cache

    async def get_locale(self, person: str) -> str | None:
        cache = self._cache
        if cache is not None:
            kept, locale = cache.get(person)
            if kept:
                return locale
            generation = cache.generation
        # One step on the connection's thread, as SqliteFsmReader.load.
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT locale FROM preferences WHERE person = ?", (person,)
            )
        )
        locale = str(rows[0][0]) if rows else None
        if cache is not None:
            cache.keep(person, locale, generation)
        return locale


class SqlitePreferences(SqlitePreferencesReader):
    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        # Whose rows this transaction changed: dropped from the cache once it ends.
        self.changed: set[str] = set()

    async def set_locale(self, person: str, locale: str) -> None:
        self.changed.add(person)
        await self._conn.execute(
            "INSERT INTO preferences (person, locale) VALUES (?, ?) "
            "ON CONFLICT (person) DO UPDATE SET locale = excluded.locale",
            (person, locale),
        )

    async def forget(self, person: str) -> None:
        self.changed.add(person)
        await self._conn.execute("DELETE FROM preferences WHERE person = ?", (person,))
