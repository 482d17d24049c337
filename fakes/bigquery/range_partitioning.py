"""Integer-range partitioning (``rangePartitioning``, DDL ``PARTITION BY RANGE_BUCKET``).

BigQuery partitions such a table on one top-level INTEGER column into ``[start, end)`` buckets
of ``interval``; values outside go to ``__UNPARTITIONED__``. Partitioning never changes what a
query returns, so the fake keeps the specification, checks it with BigQuery's rules (the
column exists, is a top-level non-repeated INT64, ``start < end``, ``interval > 0``, at most
10,000 partitions, never together with time partitioning) and reports it back; rows are stored
as in any table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from fakes.bigquery.exceptions import (
    InvalidRangePartitioning,
    PartitionFilterRequired,
    PartitioningSpecChanged,
    RangePartitionFieldNotFound,
    RangePartitionFieldType,
)
from fakes.bigquery.partitions import unfiltered_scans
from fakes.bigquery.sql import ParsedStatement, TableRef
from harness.schema.spec import FieldType, TableSpec, TimePartitioning

#: BigQuery's limit on the partitions of one table (docs, "Quotas and limits": 10,000).
MAX_PARTITIONS = 10_000


@dataclass(frozen=True)
class RangePartitioning:
    """``RangePartitioning``: the column and its ``range`` (start inclusive, end exclusive)."""

    field: str
    start: int
    end: int
    interval: int

    def to_api(self) -> dict[str, Any]:
        # int64 values travel as strings, as in every BigQuery resource.
        return {
            "field": self.field,
            "range": {"start": str(self.start), "end": str(self.end), "interval": str(self.interval)},
        }

    @classmethod
    def from_api(cls, body: Mapping[str, Any] | None) -> RangePartitioning | None:
        if not body:
            return None
        bounds = body.get("range") or {}
        try:
            return cls(
                field=str(body["field"]),
                start=int(bounds["start"]),
                end=int(bounds["end"]),
                interval=int(bounds["interval"]),
            )
        except KeyError as exc:
            raise InvalidRangePartitioning(detail=f"rangePartitioning needs {exc.args[0]}") from exc
        except (TypeError, ValueError) as exc:
            raise InvalidRangePartitioning(detail=f"range values must be int64: {exc}") from exc


def validate_range(partitioning: RangePartitioning, spec: TableSpec) -> None:
    """Raise BigQuery's 400 when ``tables.insert`` or DDL would refuse the specification."""
    if spec.time_partitioning is not None:
        raise InvalidRangePartitioning(detail="a table cannot have both time and range partitioning")
    column = spec.field(partitioning.field)
    if column is None:
        raise RangePartitionFieldNotFound()
    if column.type is not FieldType.INTEGER or column.is_repeated:
        shown = f"ARRAY<{column.type.value}>" if column.is_repeated else column.type.value
        raise RangePartitionFieldType(field=partitioning.field, type=shown)
    if partitioning.interval <= 0:
        raise InvalidRangePartitioning(detail="interval must be positive")
    if partitioning.start >= partitioning.end:
        raise InvalidRangePartitioning(detail="start must be less than end")
    count = -(-(partitioning.end - partitioning.start) // partitioning.interval)
    if count > MAX_PARTITIONS:
        raise InvalidRangePartitioning(
            detail=f"the range makes {count} partitions, more than the {MAX_PARTITIONS} allowed"
        )


def from_ddl(partition: exp.Expression | None) -> RangePartitioning | None:
    """``RANGE_BUCKET(col, GENERATE_ARRAY(start, end[, interval]))`` of a ``PARTITION BY``, or
    ``None`` for any other expression (time partitioning reads those)."""
    if not isinstance(partition, exp.RangeBucket):
        return None
    column, series = partition.this, partition.expression
    if not isinstance(column, exp.Column) or not isinstance(series, exp.GenerateSeries):
        raise InvalidRangePartitioning(
            detail="RANGE_BUCKET needs a column and GENERATE_ARRAY(start, end, step)"
        )
    step = series.args.get("step")
    try:
        values = [int(_number(series.args["start"])), int(_number(series.args["end"]))]
        values.append(int(_number(step)) if step is not None else 1)
    except (KeyError, ValueError) as exc:
        raise InvalidRangePartitioning(detail="GENERATE_ARRAY bounds must be int64 literals") from exc
    return RangePartitioning(field=column.name, start=values[0], end=values[1], interval=values[2])


def _number(node: exp.Expression) -> str:
    if isinstance(node, exp.Neg):
        return "-" + _number(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        return str(node.this)
    raise ValueError(node.sql(dialect="bigquery"))


def check_filters(
    statement: ParsedStatement, required: Callable[[TableRef], RangePartitioning | None]
) -> None:
    """``requirePartitionFilter`` on a range-partitioned table: each scan filters on its column.
    ``required`` gives a table's range partitioning when it requires the filter, else ``None``."""

    def columns_for(ref: TableRef) -> set[str] | None:
        partitioning = required(ref)
        return {partitioning.field.lower()} if partitioning is not None else None

    for ref in unfiltered_scans(statement, columns_for):
        partitioning = required(ref)
        assert partitioning is not None
        raise PartitionFilterRequired(table=ref.dotted, columns=partitioning.field)


def check_replace(
    old_time: TimePartitioning | None,
    old_range: Mapping[str, Any] | None,
    new_time: TimePartitioning | None,
    new_range: RangePartitioning | None,
) -> None:
    """BigQuery refuses to replace a table by one partitioned differently (expirations aside)."""
    old = (old_time and (old_time.type, old_time.field), old_range)
    new = (new_time and (new_time.type, new_time.field), new_range.to_api() if new_range else None)
    if old != new:
        raise PartitioningSpecChanged()
