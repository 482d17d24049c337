"""Per-table size records: the row count, BigQuery's bytes per column and the streaming-buffer
horizons of a table, measured by a scan and kept until a write changes the table.

``totalBytesProcessed`` (every query job), ``numRows`` and the streaming buffer (every
``tables.get``) and ``numBytes`` all need a table's size, and measuring it is a scan of the table.
The engine keeps one :class:`TableSize` per table in a :class:`TableSizes`. Three kinds of write
keep it without a scan, since they know exactly what they changed: a new table is empty (every
figure zero, :meth:`TableSizes.created`), and an INSERT or a DELETE (rows inserted or streamed,
an ``INSERT``/``DELETE`` statement not refused by the streaming buffer) returns, per row it added
or removed, the streaming horizon and the bytes of each column the record holds, worked out by
the very expressions a scan sums (:class:`RowsWritten`). Every other write to the table's storage
(UPDATE, MERGE, loads, copies, TRUNCATE, partition expiry, ALTER, drop and re-create, restore)
drops the record, and a write transaction that rolls back drops them all, so the next read
measures again: a write path that forgets to say so is the one way to serve a stale size.

Only what does not depend on the injected clock is kept. Partition expiry deletes rows, so it is
a write like the others; which rows are still in the streaming buffer depends on the clock, so a
record keeps, per horizon (the moment a streamed row leaves the buffer), how many rows have it,
and :meth:`TableSize.buffered` works out from the clock at each read which are still buffered.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True)
class RowsWritten:
    """An INSERT or DELETE on ``table`` that keeps its kept record ``size`` up to date: the
    statement ends with :attr:`returning`, which gives, per row it adds or removes, the row's
    streaming horizon and the bytes of each of ``columns`` (those the record holds), computed as
    :func:`measure` computes them before it sums them."""

    table: Table
    size: TableSize
    columns: tuple[FieldSpec, ...]
    returning: str


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
        self._unread: set[TableRef] = set()
        """Tables whose record a write worked forward and no read has used since."""

    def of(self, table: Table, columns: Sequence[FieldSpec] = ()) -> TableSize:
        """``table``'s size now, with the bytes of ``columns`` measured: the kept record when it
        was measured for this very table object and schema (a re-created table, or one restored by
        a rollback, is another object), else a new one, kept. A write since the record was made
        dropped it or worked it forward, so a column measured into it now agrees with the rest."""
        with self._lock:
            self._unread.discard(table.ref)
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

    def bytes_processed(self, table: Table, star: bool, names: AbstractSet[str]) -> int:
        """``totalBytesProcessed`` of ``table``'s columns read: all (``star``) or those named
        (lower case)."""
        columns = [f for f in table.spec.schema if star or f.name.lower() in names]
        return self.of(table, columns).bytes_processed(columns) if columns else 0

    def created(self, table: Table) -> None:
        """``table`` was just created, with no rows: its record is known without a scan."""
        with self._lock:
            schema = table.spec.schema
            empty = TableSize(schema, 0, (), {f.name: 0 for f in _variable(schema)})
            self._records[table.ref] = (table, empty)

    def writing(self, table: Table, alias: str | None = None) -> RowsWritten | None:
        """How an INSERT or DELETE on ``table`` (named ``alias`` in the statement, if it has one)
        keeps the table's record; None when none is kept, or when the last write worked it
        forward and no read used it since: the statement then drops it (:meth:`changed`). Keeping
        a record up costs a write about half of the scan a read would make instead, so it pays
        when reads come between writes (the REST emulator reads after every job), not for writes
        in a row (a fake-tier run's, whose reads are few)."""
        with self._lock:
            kept = self._records.get(table.ref)
            if kept is None or kept[0] is not table or kept[1].schema != table.spec.schema:
                return None
            if table.ref in self._unread:
                return None
            size = kept[1]
            columns = tuple(f for f in _variable(size.schema) if f.name in size.variable_bytes)
            prefix = f"{quote_ident(alias)}." if alias else ""
            values = [prefix + quote_ident(STREAM_COL), *(_returned(f, prefix) for f in columns)]
            returning = " RETURNING " + ", ".join(values)
            return RowsWritten(table, size, columns, returning)

    def wrote(self, written: RowsWritten, returned: Sequence[Sequence[Any]], *, removed: bool) -> None:
        """The statement of ``written`` added (or ``removed``) the ``returned`` rows: the record
        worked forward by them, as a new scan would find it, unless another write replaced it."""
        if not returned:  # no row written: the record stands as it is
            return
        with self._lock:
            kept = self._records.get(written.table.ref)
            if kept is None or kept[0] is not written.table or kept[1] is not written.size:
                self._records.pop(written.table.ref, None)
                return
            if set(written.size.variable_bytes) != {f.name for f in written.columns}:
                self._records.pop(written.table.ref, None)  # a column measured since: not returned
                return
            sign = -1 if removed else 1
            size = written.size
            horizons = Counter(dict(size.horizons))
            for row in returned:
                if row[0] is not None:
                    horizons[as_utc(row[0])] += sign
            variable = dict(size.variable_bytes)
            for position, field in enumerate(written.columns, start=1):
                variable[field.name] += sign * sum(
                    _value_bytes(row[position]) for row in returned if row[position] is not None
                )
            grown = TableSize(
                schema=size.schema,
                rows=size.rows + sign * len(returned),
                horizons=tuple(sorted((until, rows) for until, rows in horizons.items() if rows)),
                variable_bytes=variable,
            )
            self._records[written.table.ref] = (written.table, grown)
            self._unread.add(written.table.ref)

    def changed(self, ref: TableRef) -> None:
        """A write changed (or may have changed) ``ref``'s storage: measure it again when read."""
        with self._lock:
            self._records.pop(ref, None)
            self._unread.discard(ref)

    def forget_all(self) -> None:
        """A transaction rolled back: any table may be back as it was before, so measure all again."""
        with self._lock:
            self._records.clear()
            self._unread.clear()


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


def _returned(spec: FieldSpec, prefix: str) -> str:
    """What a statement returns per row for column ``spec``'s bytes: a STRING or BYTES value
    itself, whose length Python takes as DuckDB's ``strlen``/``octet_length`` would (UTF-8 bytes;
    returning the value costs DuckDB a third of computing its length), else that length + 2."""
    if spec.type in (FieldType.STRING, FieldType.BYTES) and not spec.is_repeated:
        return prefix + quote_ident(spec.name)
    return f"{_byte_length(spec, prefix)} + 2"


def _value_bytes(value: str | bytes | int) -> int:
    """A returned value's bytes (:func:`_returned`): a STRING's UTF-8 length + 2, a BYTES
    value's length + 2, else the length + 2 DuckDB computed."""
    if isinstance(value, str):
        return len(value.encode()) + 2
    if isinstance(value, bytes):
        return len(value) + 2
    return int(value)


def _byte_length(spec: FieldSpec, prefix: str = "") -> str:
    """One value's length in SQL: of the column ``spec`` names, qualified by ``prefix``."""
    column = prefix + quote_ident(spec.name)
    if spec.type is FieldType.BYTES and not spec.is_repeated:
        return f"octet_length({column})"
    return f"strlen(CAST({column} AS VARCHAR))"
