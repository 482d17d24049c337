"""Per-table size records: the row count, BigQuery's bytes per column and the streaming-buffer
horizons of a table, measured by one scan and kept until a write changes the table.

``totalBytesProcessed`` (every query job), ``numRows`` and the streaming buffer (every
``tables.get``) and ``numBytes`` all need a table's size, and measuring it is a scan of the table.
The engine keeps one :class:`TableSize` per table in a :class:`TableSizes` and drops it on every
write to the table's storage (inserts and streaming, DML, loads, copies, TRUNCATE, partition
expiry, ALTER, drop and re-create, restore) and drops them all when a write transaction rolls
back, so the next read measures again: a record is only ever measured, never worked forward from
a write, and a write path that forgets to say so is the one way to serve a stale size.

Only what does not depend on the injected clock is kept. Partition expiry deletes rows, so it is
a write like the others; which rows are still in the streaming buffer depends on the clock, so a
record keeps, per horizon (the moment a streamed row leaves the buffer), how many rows have it,
and :meth:`TableSize.buffered` works out from the clock at each read which are still buffered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import duckdb

from fakes.bigquery.catalog import STREAM_COL, Table
from fakes.bigquery.sql import TableRef
from fakes.bigquery.types import as_utc, quote_ident
from harness.schema.spec import FieldSpec, FieldType

#: BigQuery's size of a non-repeated value of a fixed-size type; every other value is its length + 2.
FIXED_BYTES: dict[FieldType, int] = {
    FieldType.INTEGER: 8,
    FieldType.FLOAT: 8,
    FieldType.NUMERIC: 16,
    FieldType.BIGNUMERIC: 32,
    FieldType.BOOLEAN: 1,
    FieldType.DATE: 8,
    FieldType.DATETIME: 8,
    FieldType.TIME: 8,
    FieldType.TIMESTAMP: 8,
    FieldType.INTERVAL: 16,
}


@dataclass(frozen=True)
class TableSize:
    """A table's size as one scan found it, for the schema it was measured with."""

    schema: tuple[FieldSpec, ...]
    rows: int
    variable_bytes: Mapping[str, int]
    """Per column of a variable size (by name): the sum over its non-NULL values of length + 2."""
    horizons: tuple[tuple[datetime, int], ...]
    """(until, rows): how many streamed rows leave the streaming buffer at ``until`` (UTC)."""

    def bytes_processed(self, star: bool, names: set[str]) -> int:
        """BigQuery's bytes of the columns read: all of them (``star``) or those named (lower case)."""
        columns = [f for f in self.schema if star or f.name.lower() in names]
        fixed = sum(FIXED_BYTES[f.type] for f in columns if _fixed(f))
        return self.rows * fixed + sum(self.variable_bytes[f.name] for f in columns if not _fixed(f))

    def buffered(self, now: datetime) -> tuple[int, datetime | None]:
        """The rows still in the streaming buffer at ``now``, and the earliest horizon among them
        (None when none is buffered)."""
        live = [(until, rows) for until, rows in self.horizons if until > now]
        return sum(rows for _, rows in live), min((until for until, _ in live), default=None)


class TableSizes:
    """The size records of one engine's tables, by table; the caller holds the engine's lock for
    writes, and a read takes it (``totalBytesProcessed`` is measured when first asked for)."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, lock: threading.RLock, storage_sql: Callable[[TableRef], str]
    ) -> None:
        self._conn = conn
        self._lock = lock
        self._storage_sql = storage_sql
        self._records: dict[TableRef, tuple[Table, TableSize]] = {}

    def of(self, table: Table) -> TableSize:
        """``table``'s size now: the kept record when it was measured for this very table object
        and schema (a re-created table, or one restored by a rollback, is another object), else a
        new measurement, kept."""
        with self._lock:
            kept = self._records.get(table.ref)
            if kept is not None and kept[0] is table and kept[1].schema == table.spec.schema:
                return kept[1]
            size = measure(self._conn, self._storage_sql(table.ref), table.spec.schema)
            self._records[table.ref] = (table, size)
            return size

    def changed(self, ref: TableRef) -> None:
        """A write changed (or may have changed) ``ref``'s storage: measure it again when read."""
        with self._lock:
            self._records.pop(ref, None)

    def forget_all(self) -> None:
        """A transaction rolled back: any table may be back as it was before, so measure all again."""
        with self._lock:
            self._records.clear()


def measure(conn: duckdb.DuckDBPyConnection, storage: str, schema: tuple[FieldSpec, ...]) -> TableSize:
    """One scan of ``storage``, grouped by streaming horizon: rows, bytes per variable-size column."""
    variable = [f for f in schema if not _fixed(f)]
    stream = quote_ident(STREAM_COL)
    sums = "".join(f", coalesce(sum({_byte_length(f)} + 2), 0)" for f in variable)
    groups = conn.execute(f"SELECT {stream}, count(*){sums} FROM {storage} GROUP BY {stream}").fetchall()
    totals = [sum(int(group[i]) for group in groups) for i in range(1, 2 + len(variable))]
    return TableSize(
        schema=schema,
        rows=totals[0],
        variable_bytes={f.name: total for f, total in zip(variable, totals[1:], strict=True)},
        horizons=tuple(sorted((as_utc(g[0]), int(g[1])) for g in groups if g[0] is not None)),
    )


def _fixed(spec: FieldSpec) -> bool:
    return spec.type in FIXED_BYTES and not spec.is_repeated


def _byte_length(spec: FieldSpec) -> str:
    column = quote_ident(spec.name)
    if spec.type is FieldType.BYTES and not spec.is_repeated:
        return f"octet_length({column})"
    return f"strlen(CAST({column} AS VARCHAR))"
