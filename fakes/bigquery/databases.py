"""Prepared DuckDB databases, kept for the next engine.

A database gets the macros and Python functions its statements name as they first run
(:mod:`fakes.bigquery.lazy_functions`), together more than the rest of an engine costs, and a
test suite builds one engine per test. So a closed in-memory engine hands its database back here
instead of closing it: everything the engine put in it lives in its attached ``bq:<project>``
catalogs (detached here, which frees them) or on its own connection (a cursor of the database,
closed by the engine, which drops its TEMP objects and session settings). A database is kept
only when it then looks exactly as it did when prepared (its functions aside);
anything else (a schema or table in the shared catalog, a catalog that will not detach) closes it.

An engine always works on a cursor of its own, never on the kept database's base connection, so
an engine used after ``close()`` fails as before ("Connection already closed") and can never
reach the next engine's data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb

KEEP = 2
"""Databases kept at most: tests build engines one after another; emulators hold one more."""

_FINGERPRINT = """SELECT
    (SELECT list(database_name ORDER BY database_name) FROM duckdb_databases()),
    (SELECT list(s ORDER BY s) FROM (SELECT database_name || '.' || schema_name AS s FROM duckdb_schemas())),
    (SELECT count(*) FROM duckdb_tables()),
    (SELECT count(*) FROM duckdb_views() WHERE NOT internal)"""


class PreparedDatabases:
    """In-memory databases readied by ``prepare``, lent one engine at a time."""

    def __init__(self, prepare: Callable[[duckdb.DuckDBPyConnection], None], keep: int = KEEP) -> None:
        self._prepare = prepare
        self._keep = keep
        self._free: list[duckdb.DuckDBPyConnection] = []
        self._prepared: tuple[object, ...] | None = None
        """How a freshly prepared database looks (the same for every one)."""
        self._lock = threading.Lock()

    def take(self) -> duckdb.DuckDBPyConnection:
        """A prepared database's base connection, for this caller alone until ``give_back``."""
        with self._lock:
            if self._free:
                return self._free.pop()
        base = duckdb.connect(":memory:")
        self._prepare(base)
        if self._prepared is None:
            self._prepared = _fingerprint(base)
        return base

    def give_back(self, base: duckdb.DuckDBPyConnection) -> None:
        """Detach what an engine attached and keep ``base`` if it is as prepared; else close it."""
        if self._prepared is not None and _restored(base, self._prepared):
            with self._lock:
                if len(self._free) < self._keep:
                    self._free.append(base)
                    return
        base.close()


def _fingerprint(base: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    """Fetched to the end: a result left unfinished on the base connection would refuse the
    macros and Python functions created there later (:mod:`fakes.bigquery.lazy_functions`)."""
    rows = base.execute(_FINGERPRINT).fetchall()
    return tuple(rows[0]) if rows else ()


def _restored(base: duckdb.DuckDBPyConnection, expected: tuple[object, ...]) -> bool:
    try:
        attached = base.execute(
            "SELECT database_name FROM duckdb_databases() WHERE NOT internal AND database_name <> 'memory'"
        ).fetchall()
        for (name,) in attached:
            base.execute('DETACH "' + name.replace('"', '""') + '"')
        return _fingerprint(base) == expected
    except duckdb.Error:
        return False
