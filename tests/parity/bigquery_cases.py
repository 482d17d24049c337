"""One call per BigQuery table/dataset rule (``harness.schema.violations.RULES``) that breaks it.

Each case is the rule's code, the fake's error class, and what to do on a ``Warehouse`` (the
in-process fake on the fake tier, google-cloud-bigquery through ``BigQueryWarehouse`` on the
emulator and gcp tiers) in a fresh dataset: the last call must fail with that rule. The specs
follow ``tests/test_rules.py``, one breakage each, on an otherwise valid table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fakes.bigquery import exceptions as bq
from harness.ports import Warehouse
from harness.schema.spec import FieldMode, FieldSpec, FieldType, PartitionType, TableSpec, TimePartitioning


def col(
    name: str,
    type_: FieldType = FieldType.STRING,
    mode: FieldMode = FieldMode.NULLABLE,
    fields: tuple[FieldSpec, ...] = (),
) -> FieldSpec:
    return FieldSpec(name=name, type=type_, mode=mode, fields=fields)


BASE_SCHEMA = (
    col("org_slug", mode=FieldMode.REQUIRED),
    col("created_at", FieldType.TIMESTAMP, FieldMode.REQUIRED),
    col("usage_date", FieldType.DATE),
    col("amount", FieldType.NUMERIC),
)


def table(**changes: object) -> TableSpec:
    """A valid partitioned, clustered table; each case breaks one thing."""
    spec = TableSpec(
        table_id="parity_table",
        schema=BASE_SCHEMA,
        time_partitioning=TimePartitioning(PartitionType.DAY, "created_at"),
        clustering_fields=("org_slug",),
    )
    return replace(spec, **changes)


def nested(depth: int) -> FieldSpec:
    """A RECORD chain whose deepest field sits at ``depth`` (top level = 1)."""
    field = col(f"leaf{depth}")
    for level in range(depth - 1, 0, -1):
        field = col(f"level{level}", FieldType.RECORD, fields=(field,))
    return field


@dataclass(frozen=True)
class Case:
    code: str
    error: type[Exception]
    setup: Callable[[Warehouse, str], Callable[[], object]]
    """``setup(warehouse, dataset_id)`` makes what the case needs and returns the call that
    breaks the rule."""


def creates(spec: TableSpec) -> Callable[[Warehouse, str], Callable[[], object]]:
    return lambda warehouse, dataset: lambda: warehouse.create_table(dataset, spec)


def _twice(warehouse: Warehouse, dataset: str) -> Callable[[], object]:
    warehouse.create_table(dataset, table())
    return lambda: warehouse.create_table(dataset, table())


CASES = (
    Case("invalid_dataset_id", bq.InvalidDatasetId, lambda w, _: lambda: w.create_dataset("parity-dataset")),
    Case("invalid_table_id", bq.InvalidTableId, creates(table(table_id="parity$20250101"))),
    Case("duplicate_field", bq.DuplicateField, creates(table(schema=(*BASE_SCHEMA, col("Org_Slug"))))),
    Case(
        "record_without_fields",
        bq.RecordWithoutFields,
        creates(table(schema=(*BASE_SCHEMA, col("meta", FieldType.RECORD)))),
    ),
    Case("schema_too_deep", bq.SchemaTooDeep, creates(table(schema=(*BASE_SCHEMA, nested(16))))),
    Case("invalid_field_name", bq.InvalidFieldName, creates(table(schema=(*BASE_SCHEMA, col("my.col"))))),
    Case(
        "reserved_field_prefix",
        bq.ReservedFieldPrefix,
        creates(table(schema=(*BASE_SCHEMA, col("_PARTITIONTIME")))),
    ),
    Case(
        "partition_filter_without_partitioning",
        bq.PartitionFilterWithoutPartitioning,
        creates(table(time_partitioning=None, require_partition_filter=True)),
    ),
    Case(
        "partition_expiration_not_positive",
        bq.PartitionExpirationNotPositive,
        creates(table(time_partitioning=TimePartitioning(PartitionType.DAY, "created_at", -1))),
    ),
    Case(
        "partitioned_table_without_schema",
        bq.PartitionedTableWithoutSchema,
        creates(table(schema=(), clustering_fields=())),
    ),
    Case(
        "partition_field_not_found",
        bq.PartitionFieldNotFound,
        creates(table(time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))),
    ),
    Case(
        "partition_field_type",
        bq.PartitionFieldType,
        creates(table(time_partitioning=TimePartitioning(PartitionType.DAY, "org_slug"))),
    ),
    Case(
        "partition_field_repeated",
        bq.PartitionFieldRepeated,
        creates(
            table(
                schema=(*BASE_SCHEMA, col("days", FieldType.DATE, FieldMode.REPEATED)),
                time_partitioning=TimePartitioning(PartitionType.DAY, "days"),
            )
        ),
    ),
    Case(
        "date_partitioned_by_hour",
        bq.DatePartitionedByHour,
        creates(table(time_partitioning=TimePartitioning(PartitionType.HOUR, "usage_date"))),
    ),
    Case(
        "too_many_clustering_fields",
        bq.TooManyClusteringFields,
        creates(
            table(
                schema=(*BASE_SCHEMA, col("region")),
                clustering_fields=("org_slug", "created_at", "usage_date", "amount", "region"),
            )
        ),
    ),
    Case(
        "clustered_table_without_schema",
        bq.ClusteredTableWithoutSchema,
        creates(table(schema=(), time_partitioning=None)),
    ),
    Case(
        "duplicate_clustering_field",
        bq.DuplicateClusteringField,
        creates(table(clustering_fields=("org_slug", "ORG_SLUG"))),
    ),
    Case(
        "clustering_field_not_found",
        bq.ClusteringFieldNotFound,
        creates(table(clustering_fields=("org_slug", "hierarchy_level_1_id"))),
    ),
    Case(
        "clustering_field_type",
        bq.ClusteringFieldType,
        creates(table(schema=(*BASE_SCHEMA, col("payload", FieldType.JSON)), clustering_fields=("payload",))),
    ),
    Case(
        "clustering_field_repeated",
        bq.ClusteringFieldRepeated,
        creates(
            table(schema=(*BASE_SCHEMA, col("tags", mode=FieldMode.REPEATED)), clustering_fields=("tags",))
        ),
    ),
    Case("duplicate_table", bq.TableAlreadyExists, _twice),
)
