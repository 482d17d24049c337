"""Cursors for reads, so a slow SELECT does not hold the engine's lock while it runs.

The engine serialises everything that changes storage or the catalog behind one lock on one
DuckDB connection. A SELECT needs the lock only to resolve its tables and translate; running it
and fetching its rows happen on a cursor of its own (a DuckDB connection to the same database, so
the same attached catalogs, with its own transaction), outside the lock: other clients' requests
are answered while it runs, and a deadline interrupts that cursor alone.

What a cursor does not share with the engine's connection is set up on it once (``prepare``):
session settings are per connection (so the engine keeps its macros out of DuckDB's per-connection
TEMP catalog, which a new cursor would have to rebuild). Cursors are kept for reuse, one per
concurrent read at most.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb


class ReaderPool:
    """Reusable read cursors of ``conn``; ``prepare`` readies a new one."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, prepare: Callable[[duckdb.DuckDBPyConnection], None]
    ) -> None:
        self._conn = conn
        self._prepare = prepare
        self._free: list[duckdb.DuckDBPyConnection] = []
        self._all: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one read, back in the pool after (a failed or half-read statement leaves
        nothing behind in autocommit: the next ``execute`` replaces its result)."""
        with self._lock:
            cursor = self._free.pop() if self._free else None
        if cursor is None:
            cursor = self._conn.cursor()
            self._prepare(cursor)
            with self._lock:
                self._all.append(cursor)
        try:
            yield cursor
        finally:
            with self._lock:
                self._free.append(cursor)

    def close(self) -> None:
        with self._lock:
            cursors, self._all, self._free = self._all, [], []
        for cursor in cursors:
            cursor.close()
