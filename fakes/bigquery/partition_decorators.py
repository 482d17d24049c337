"""Partition decorators: ``table$20260105`` names one partition of a partitioned table.

The fake honours them where the REST API takes a table id: ``tables.get`` (the table),
``tabledata.insertAll`` into an ingestion-time table (the rows land in that partition: their
``_PARTITIONTIME`` is the partition's start, not the clock), ``tabledata.list`` (that
partition's rows) and ``tables.delete`` (deletes that partition's rows, the table stays). The id's
shape follows the partitioning: ``YYYYMMDD`` for DAY, ``YYYYMMDDHH`` HOUR, ``YYYYMM`` MONTH,
``YYYY`` YEAR, the range start for integer-range tables, and ``__NULL__`` /
``__UNPARTITIONED__``. Queries never take decorators in GoogleSQL, so SQL is untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fakes.bigquery.exceptions import InvalidPartitionDecorator, NotPartitioned, StreamingToColumnPartition
from fakes.bigquery.range_partitioning import RangePartitioning
from fakes.bigquery.sql import TableRef
from fakes.bigquery.types import quote_ident
from harness.schema.spec import FieldType, PartitionType, TableSpec

_FORMATS = {
    PartitionType.HOUR: "%Y%m%d%H",
    PartitionType.DAY: "%Y%m%d",
    PartitionType.MONTH: "%Y%m",
    PartitionType.YEAR: "%Y",
}
NULL_PARTITION = "__NULL__"
UNPARTITIONED = "__UNPARTITIONED__"


def split(table_id: str) -> tuple[str, str | None]:
    """``t$20260105`` → (``t``, ``20260105``); an undecorated id → (id, None)."""
    base, dollar, partition = table_id.partition("$")
    return (base, partition) if dollar else (table_id, None)


def decorated_resource(body: dict[str, Any], table_id: str) -> dict[str, Any]:
    """``tables.get`` of a decorated id names the decorated id, so a client reading the
    resource's rows next (``list_rows``) reads that partition's."""
    base, partition = split(table_id)
    if partition is None:
        return body
    reference = {**body["tableReference"], "tableId": table_id}
    return {**body, "tableReference": reference, "id": body["id"].replace(f".{base}", f".{table_id}", 1)}


def check(ref: TableRef, spec: TableSpec, by_range: RangePartitioning | None, partition: str) -> None:
    """BigQuery's 400 for a decorator on an unpartitioned table or of the wrong shape."""
    decorated = f"{ref.project}:{ref.dataset}.{ref.table}${partition}"
    if spec.time_partitioning is None and by_range is None:
        raise NotPartitioned(table=decorated)
    if partition in (NULL_PARTITION, UNPARTITIONED):
        return
    try:
        if by_range is not None:
            int(partition)
        else:
            assert spec.time_partitioning is not None
            _start(partition, spec.time_partitioning.type)
    except ValueError as exc:
        raise InvalidPartitionDecorator(table=decorated) from exc


def ingestion_time(ref: TableRef, spec: TableSpec, partition: str) -> datetime:
    """Where rows streamed into a decorated table land: the partition's start. Only
    ingestion-time tables take them; a column-partitioned table is partitioned by its rows."""
    partitioning = spec.time_partitioning
    if partitioning is None or partitioning.field is not None or partition in (NULL_PARTITION, UNPARTITIONED):
        raise StreamingToColumnPartition(table=f"{ref.project}:{ref.dataset}.{ref.table}${partition}")
    return _start(partition, partitioning.type)


def rows_filter(
    spec: TableSpec, by_range: RangePartitioning | None, partition: str, ingest_column: str
) -> tuple[str, list[Any]]:
    """A SQL condition (and its parameters) on the storage table matching the partition's rows."""
    if by_range is not None:
        column = quote_ident(by_range.field)
        outside = f"{column} < {by_range.start} OR {column} >= {by_range.end}"
        if partition == NULL_PARTITION:
            return f"{column} IS NULL", []
        if partition == UNPARTITIONED:
            return outside, []
        start = int(partition)
        return f"{column} >= ? AND {column} < ?", [start, start + by_range.interval]
    partitioning = spec.time_partitioning
    assert partitioning is not None
    column = quote_ident(partitioning.field or ingest_column)
    if partition in (NULL_PARTITION, UNPARTITIONED):
        # __UNPARTITIONED__ holds rows outside BigQuery's date range, which the fake never stores.
        return (f"{column} IS NULL", []) if partition == NULL_PARTITION else ("FALSE", [])
    field = spec.field(partitioning.field) if partitioning.field else None
    as_utc = (
        f"timezone('UTC', {column})"
        if field is None or field.type is FieldType.TIMESTAMP
        else f"CAST({column} AS TIMESTAMP)"
    )
    unit = partitioning.type.value.lower()
    start = _start(partition, partitioning.type).replace(tzinfo=None)
    return f"date_trunc('{unit}', {as_utc}) = ?", [start]


def _start(partition: str, unit: PartitionType) -> datetime:
    pattern = _FORMATS[unit]
    if len(partition) != len(datetime(2000, 1, 1).strftime(pattern)):
        raise ValueError(partition)
    return datetime.strptime(partition, pattern).replace(tzinfo=UTC)
