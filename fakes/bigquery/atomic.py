"""All-or-nothing catalog writes: DuckDB storage and the engine's metadata change together or not at all.

A create, patch or delete touches two places, the DuckDB storage (schemas, tables, views, the
``$harness`` metadata rows) and the engine's dictionaries of datasets and tables. A failure between
the two writes used to leave a half-created table that every retry then tripped over; here the
DuckDB part runs in one transaction (DuckDB's DDL is transactional) and the dictionaries are
restored from a copy taken before it, so a failed write leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import duckdb


@contextmanager
def atomic(conn: duckdb.DuckDBPyConnection, *states: dict[Any, Any]) -> Iterator[None]:
    """Run the block in one DuckDB transaction and put ``states`` back as they were if it fails.

    Nested use joins the outer transaction: the outer block owns commit and rollback. The values
    of ``states`` are dataclasses mutated in place, so the copy is one level deep.
    """
    try:
        conn.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        yield
        return
    saved = [{key: replace(value) for key, value in state.items()} for state in states]
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        for state, copy in zip(states, saved, strict=True):
            state.clear()
            state.update(copy)
        raise
    conn.execute("COMMIT")
