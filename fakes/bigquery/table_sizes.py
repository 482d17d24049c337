"""Per-table size records: the row count, BigQuery's bytes per column and the streaming-buffer
horizons of a table, measured by a scan and kept until a write changes the table.

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
from collections.abc import Callable, Sequence
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
    """A table's size as scans of it found it since its last write, for the schema it was
    measured with. The bytes of a column are measured the first time a read needs them (most
    reads need a few columns, ``tables.get`` none), then kept in ``variable_bytes`` with the rest."""

    schema: tuple[FieldSpec, ...]
    rows: int
    horizons: tuple[tuple[datetime, int], ...]
    """(until, rows): how many streamed rows leave the streaming buffer at ``until`` (UTC)."""
    variable_bytes: dict[str, int]
    """Per column of a variable size measured so far (by name): the sum over its non-NULL values
    of length + 2."""

    def bytes_processed(self, columns: Sequence[FieldSpec]) -> int:
        """BigQuery's bytes of ``columns`` (each measured already)."""
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

    def of(self, table: Table, columns: Sequence[FieldSpec] = ()) -> TableSize:
        """``table``'s size now, with the bytes of ``columns`` measured: the kept record when it
        was measured for this very table object and schema (a re-created table, or one restored by
        a rollback, is another object), else a new one, kept. No write ran since the record was
        made (a write drops it), so a column measured into it now agrees with the rest."""
        with self._lock:
            kept = self._records.get(table.ref)
            size = kept[1] if kept is not None and kept[0] is table else None
            if size is not None and size.schema != table.spec.schema:
                size = None
            storage = self._storage_sql(table.ref)
            if size is None:
                size = measure(self._conn, storage, table.spec.schema, _variable(columns))
                self._records[table.ref] = (table, size)
                return size
            missing = [f for f in _variable(columns) if f.name not in size.variable_bytes]
            if missing:
                size.variable_bytes.update(measure_columns(self._conn, storage, missing))
            return size

    def bytes_processed(self, table: Table, star: bool, names: set[str]) -> int:
        """``totalBytesProcessed`` of ``table``'s columns read: all (``star``) or those named
        (lower case)."""
        columns = [f for f in table.spec.schema if star or f.name.lower() in names]
        return self.of(table, columns).bytes_processed(columns) if columns else 0

    def changed(self, ref: TableRef) -> None:
        """A write changed (or may have changed) ``ref``'s storage: measure it again when read."""
        with self._lock:
            self._records.pop(ref, None)

    def forget_all(self) -> None:
        """A transaction rolled back: any table may be back as it was before, so measure all again."""
        with self._lock:
            self._records.clear()


def measure(
    conn: duckdb.DuckDBPyConnection,
    storage: str,
    schema: tuple[FieldSpec, ...],
    columns: Sequence[FieldSpec] = (),
) -> TableSize:
    """One scan of ``storage``, grouped by streaming horizon: the rows, and the bytes of the
    variable-size ``columns``."""
    stream = quote_ident(STREAM_COL)
    sums = "".join(f", {_bytes_sql(f)}" for f in columns)
    groups = conn.execute(f"SELECT {stream}, count(*){sums} FROM {storage} GROUP BY {stream}").fetchall()
    totals = [sum(int(group[i]) for group in groups) for i in range(1, 2 + len(columns))]
    return TableSize(
        schema=schema,
        rows=totals[0],
        horizons=tuple(sorted((as_utc(g[0]), int(g[1])) for g in groups if g[0] is not None)),
        variable_bytes={f.name: total for f, total in zip(columns, totals[1:], strict=True)},
    )


def measure_columns(
    conn: duckdb.DuckDBPyConnection, storage: str, columns: Sequence[FieldSpec]
) -> dict[str, int]:
    """One scan of ``storage``: the bytes of the variable-size ``columns``."""
    found = conn.execute(f"SELECT {', '.join(_bytes_sql(f) for f in columns)} FROM {storage}").fetchall()[0]
    return {f.name: int(total) for f, total in zip(columns, found, strict=True)}


def _variable(columns: Sequence[FieldSpec]) -> list[FieldSpec]:
    return [f for f in columns if not _fixed(f)]


def _bytes_sql(spec: FieldSpec) -> str:
    return f"coalesce(sum({_byte_length(spec)} + 2), 0)"


def _fixed(spec: FieldSpec) -> bool:
    return spec.type in FIXED_BYTES and not spec.is_repeated


def _byte_length(spec: FieldSpec) -> str:
    column = quote_ident(spec.name)
    if spec.type is FieldType.BYTES and not spec.is_repeated:
        return f"octet_length({column})"
    return f"strlen(CAST({column} AS VARCHAR))"
