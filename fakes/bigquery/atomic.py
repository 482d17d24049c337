"""All-or-nothing catalog writes: DuckDB storage and the engine's metadata change together or not at all.

A create, patch or delete touches two places, the DuckDB storage (schemas, tables, views, the
``$harness`` metadata rows) and the engine's dictionaries of datasets and tables. A failure between
the two writes used to leave a half-created table that every retry then tripped over; here the
DuckDB part runs in one transaction (DuckDB's DDL is transactional) and the dictionaries are
restored from a copy taken before it, so a failed write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import duckdb


class Writes:
    """The engine's write transactions: one DuckDB transaction per outermost call.

    Nested use joins the outer transaction, which owns commit and rollback; it is counted here
    because a second ``BEGIN`` would abort DuckDB's open transaction. The values of ``states``
    are dataclasses mutated in place, so the copy taken at the start is one level deep.
    """

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        *states: dict[Any, Any],
        on_rollback: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_rollback`` forgets what was learnt of the storage inside a transaction that rolled
        back (the engine's table sizes, :mod:`fakes.bigquery.table_sizes`)."""
        self._conn = conn
        self._states = states
        self._on_rollback = on_rollback
        self._depth = 0

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run the block all-or-nothing; the caller holds the engine's lock."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        saved = [{key: replace(value) for key, value in state.items()} for state in self._states]
        self._conn.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            for state, copy in zip(self._states, saved, strict=True):
                state.clear()
                state.update(copy)
            self._on_rollback()
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._depth = 0
