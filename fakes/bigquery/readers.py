"""Cursors for reads, so a slow SELECT does not hold the engine's lock while it runs.

The engine serialises everything that changes storage or the catalog behind one lock on one
DuckDB connection. A SELECT needs the lock only to resolve its tables and translate; running it
and fetching its rows happen on a cursor of its own (a DuckDB connection to the same database, so
the same attached catalogs, with its own transaction), outside the lock: other clients' requests
are answered while it runs, and a deadline interrupts that cursor alone.

What a cursor does not share with the engine's connection is set up on it once (``prepare``):
session settings are per connection (so the engine keeps its macros out of DuckDB's per-connection
TEMP catalog, which a new cursor would have to rebuild). Cursors are kept for reuse, one per
concurrent read at most. Only reads use them, so a cursor keeps the session zone its last read
set (``SET TimeZone`` costs more than a small SELECT): a read in the same zone sets nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

from fakes.bigquery.time_zone import UTC, set_session_zone


class ReaderPool:
    """Reusable read cursors of ``conn``; ``prepare`` readies a new one (in UTC)."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, prepare: Callable[[duckdb.DuckDBPyConnection], None]
    ) -> None:
        self._conn = conn
        self._prepare = prepare
        self._free: list[tuple[duckdb.DuckDBPyConnection, str | None]] = []
        self._all: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    @contextmanager
    def reader(self, zone: str = UTC) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one read in DuckDB's session zone ``zone``, back in the pool after (a
        failed or half-read statement leaves nothing behind in autocommit: the next ``execute``
        replaces its result)."""
        with self._lock:
            cursor, current = self._free.pop() if self._free else (None, None)
        if cursor is None:
            cursor, current = self._conn.cursor(), UTC
            self._prepare(cursor)
            with self._lock:
                self._all.append(cursor)
        try:
            if current != zone:
                current = None  # unknown until the SET succeeds
                set_session_zone(cursor, zone)
                current = zone
            yield cursor
        finally:
            with self._lock:
                self._free.append((cursor, current))

    def close(self) -> None:
        with self._lock:
            cursors, self._all, self._free = self._all, [], []
        for cursor in cursors:
            cursor.close()
