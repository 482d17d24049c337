"""BigQuery's partition rules as the fake applies them: ``requirePartitionFilter`` on every scan,
and partition expiration on the injected clock (a partition's data goes when the partition's
upper boundary plus the expiration has passed: daily partitions with a 6 h expiration expire at
06:00 UTC the next day)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from fakes.bigquery.exceptions import PartitionFilterRequired
from fakes.bigquery.sql import ParsedStatement, StatementKind, TableRef
from fakes.bigquery.types import quote_ident
from harness.schema.spec import FieldType, TableSpec

PSEUDO_COLUMNS = "_PARTITION_LOAD_TIME, _PARTITIONDATE, _PARTITIONTIME"


def check_partition_filters(statement: ParsedStatement, spec_for: Callable[[TableRef], TableSpec]) -> None:
    """Every scan of a ``requirePartitionFilter`` table must filter on its partition column."""

    def columns_for(ref: TableRef) -> set[str] | None:
        spec = spec_for(ref)
        partitioning = spec.time_partitioning
        if not spec.require_partition_filter or partitioning is None:
            return None
        # An ingestion-time table is filtered on either pseudo-column.
        return {partitioning.field.lower()} if partitioning.field else {"_partitiontime", "_partitiondate"}

    for ref in unfiltered_scans(statement, columns_for):
        field = spec_for(ref).time_partitioning.field  # type: ignore[union-attr]
        raise PartitionFilterRequired(table=ref.dotted, columns=field or PSEUDO_COLUMNS)


def unfiltered_scans(
    statement: ParsedStatement, columns_for: Callable[[TableRef], set[str] | None]
) -> Iterator[TableRef]:
    """The tables the statement reads without a filter on one of their ``columns_for`` (lower
    case; ``None``: no filter needed). Shared by time and integer-range partitioning."""
    for node in statement.tree.find_all(exp.Table):
        ref = node.meta.get("bq_ref")
        if ref is None or (ref == statement.target and statement.kind is StatementKind.INSERT):
            continue
        columns = columns_for(ref)
        if columns is None:
            continue
        names = {node.alias_or_name.lower(), ref.table.lower()}
        if not any(
            col.name.lower() in columns and (not col.table or col.table.lower() in names)
            for condition in _filters(node)
            for col in condition.find_all(exp.Column)
        ):
            yield ref


def _filters(table: exp.Table) -> list[exp.Expression]:
    """The WHERE / ON / JOIN ... ON conditions of the statement scope that reads ``table``."""
    scope = table.find_ancestor(exp.Select, exp.Update, exp.Delete, exp.Merge)
    if scope is None:
        return []
    filters = [scope.args[key] for key in ("where", "on") if scope.args.get(key) is not None]
    filters.extend(join.args["on"] for join in scope.args.get("joins") or [] if join.args.get("on"))
    return filters


def expired_rows_filter(
    spec: TableSpec, now: datetime, *, ingest_column: str
) -> tuple[str, list[Any]] | None:
    """A SQL condition (and its parameters) matching the rows of expired partitions, or ``None``
    when the table has no partition expiration."""
    partitioning = spec.time_partitioning
    if partitioning is None or not partitioning.expiration_ms:
        return None
    column = quote_ident(partitioning.field or ingest_column)
    field = spec.field(partitioning.field) if partitioning.field else None
    as_utc = (
        f"timezone('UTC', {column})"
        if field is None or field.type is FieldType.TIMESTAMP
        else f"CAST({column} AS TIMESTAMP)"
    )
    unit = partitioning.type.value.lower()
    threshold = (now - timedelta(milliseconds=partitioning.expiration_ms)).replace(tzinfo=None)
    return f"date_trunc('{unit}', {as_utc}) + INTERVAL 1 {unit} <= ?", [threshold]
