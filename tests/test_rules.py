"""BigQuery's table and dataset rules: what is accepted, and the exact refusal for what is not.

Messages are asserted in full because matching BigQuery's text is the point: the fake, the REST
emulator and the preflight check all report these, and callers (and people) match on them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.ports import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    ResourceInUseError,
    WarehouseError,
)
from harness.schema import rules
from harness.schema.rules import Violation
from harness.schema.spec import (
    BootstrapConfig,
    DatasetSpec,
    FieldMode,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)

PROJECT = "proj"
DATASET = "organizations"


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
    col("run_at", FieldType.DATETIME),
    col("amount", FieldType.NUMERIC),
)


def table(**changes: object) -> TableSpec:
    """A valid partitioned, clustered table; each test breaks one thing."""
    spec = TableSpec(
        table_id="org_subscriptions",
        schema=BASE_SCHEMA,
        time_partitioning=TimePartitioning(PartitionType.DAY, "created_at"),
        clustering_fields=("org_slug",),
    )
    return replace(spec, **changes)


def invalid(message: str, field: str | None) -> Violation:
    return Violation(400, "invalid", message, field)


def nested(depth: int) -> FieldSpec:
    """A RECORD chain whose deepest field sits at ``depth`` (top level = 1)."""
    field = col(f"leaf{depth}")
    for level in range(depth - 1, 0, -1):
        field = col(f"level{level}", FieldType.RECORD, fields=(field,))
    return field


# ------------------------------------------------------------------------------- the baseline


def test_valid_table_has_no_violations() -> None:
    assert rules.validate_table(table()) == []
    rules.check_table(table())  # does not raise


# ------------------------------------------------------------------------------ partitioning


@pytest.mark.parametrize("column", ["created_at", "usage_date", "run_at", "CREATED_AT"])
def test_partition_on_date_timestamp_or_datetime_is_accepted(column: str) -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.DAY, column))
    assert rules.validate_partitioning(spec) == []


@pytest.mark.parametrize("type_", list(PartitionType))
def test_every_partition_type_is_accepted_on_a_timestamp(type_: PartitionType) -> None:
    assert rules.validate_partitioning(table(time_partitioning=TimePartitioning(type_, "created_at"))) == []


def test_ingestion_time_partitioning_needs_no_column() -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.HOUR), require_partition_filter=True)
    assert rules.validate_partitioning(spec) == []


def test_partition_field_missing() -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))
    assert rules.validate_partitioning(spec) == [
        invalid("The field specified for partitioning cannot be found in the schema.", "effective_date")
    ]


def test_partition_field_must_be_top_level() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("ts", FieldType.TIMESTAMP),))
    spec = table(schema=(*BASE_SCHEMA, record), time_partitioning=TimePartitioning(field="meta.ts"))
    assert rules.validate_partitioning(spec) == [
        invalid("The field specified for partitioning cannot be found in the schema.", "meta.ts")
    ]


def test_partition_field_without_any_schema() -> None:
    spec = table(schema=(), clustering_fields=())
    assert rules.validate_partitioning(spec) == [
        invalid("Table with field based partitioning must have a schema.", "created_at")
    ]


@pytest.mark.parametrize(
    ("type_", "shown"),
    [(FieldType.STRING, "STRING"), (FieldType.INTEGER, "INTEGER"), (FieldType.TIME, "TIME")],
)
def test_partition_field_of_wrong_type(type_: FieldType, shown: str) -> None:
    spec = table(schema=(*BASE_SCHEMA, col("day", type_)), time_partitioning=TimePartitioning(field="day"))
    assert rules.validate_partitioning(spec) == [
        invalid(
            "The field specified for time partitioning can only be of type TIMESTAMP, DATE or "
            f"DATETIME. The type found is: {shown}.",
            "day",
        )
    ]


def test_partition_field_must_not_be_repeated() -> None:
    days = col("days", FieldType.DATE, FieldMode.REPEATED)
    spec = table(schema=(*BASE_SCHEMA, days), time_partitioning=TimePartitioning(field="days"))
    assert rules.validate_partitioning(spec) == [
        invalid(
            "The partitioning column days cannot be REPEATED (array-based); its mode may be "
            "REQUIRED or NULLABLE.",
            "days",
        )
    ]


def test_hour_partitioning_of_a_date_column_is_refused() -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.HOUR, "usage_date"))
    assert rules.validate_partitioning(spec) == [
        invalid(
            "The field specified for time partitioning, usage_date, is of type DATE and cannot be "
            "partitioned by HOUR; DATE columns support DAY, MONTH or YEAR.",
            "usage_date",
        )
    ]


def test_hour_partitioning_of_timestamp_and_datetime_is_accepted() -> None:
    for column in ("created_at", "run_at"):
        spec = table(time_partitioning=TimePartitioning(PartitionType.HOUR, column))
        assert rules.validate_partitioning(spec) == []


@pytest.mark.parametrize("expiration_ms", [0, -1])
def test_partition_expiration_must_be_positive(expiration_ms: int) -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.DAY, "created_at", expiration_ms))
    assert rules.validate_partitioning(spec) == [
        invalid(
            f"Invalid value for timePartitioning.expirationMs: {expiration_ms}. The number of "
            "milliseconds to keep a partition must be positive.",
            "timePartitioning.expirationMs",
        )
    ]


def test_positive_partition_expiration_is_accepted() -> None:
    day = 86_400_000
    spec = table(time_partitioning=TimePartitioning(PartitionType.DAY, "created_at", day))
    assert rules.validate_partitioning(spec) == []


def test_require_partition_filter_needs_partitioning() -> None:
    spec = table(time_partitioning=None, require_partition_filter=True)
    assert rules.validate_partitioning(spec) == [
        invalid("Either interval partition or range partition should be specified.", "requirePartitionFilter")
    ]


def test_require_partition_filter_with_partitioning_is_accepted() -> None:
    assert rules.validate_partitioning(table(require_partition_filter=True)) == []


def test_partition_types_constant_matches_bigquery() -> None:
    assert frozenset({"HOUR", "DAY", "MONTH", "YEAR"}) == rules.PARTITION_TYPES


# -------------------------------------------------------------------------------- clustering


def test_four_clustering_fields_are_accepted() -> None:
    spec = table(clustering_fields=("org_slug", "created_at", "usage_date", "amount"))
    assert rules.validate_clustering(spec) == []


def test_more_than_four_clustering_fields() -> None:
    spec = table(clustering_fields=("org_slug", "created_at", "usage_date", "amount", "run_at"))
    assert rules.validate_clustering(spec) == [
        invalid("5 clustering fields specified, exceeding the limit of 4.", "clustering.fields")
    ]


def test_clustering_field_missing() -> None:
    spec = table(clustering_fields=("org_slug", "hierarchy_level_1_id"))
    assert rules.validate_clustering(spec) == [
        invalid(
            "The field specified for clustering cannot be found in the schema. Invalid field: "
            "hierarchy_level_1_id.",
            "hierarchy_level_1_id",
        )
    ]


def test_clustering_field_must_be_top_level() -> None:
    record = col("flow", FieldType.RECORD, fields=(col("uid"),))
    spec = table(schema=(*BASE_SCHEMA, record), clustering_fields=("flow.uid",))
    assert rules.validate_clustering(spec) == [
        invalid(
            "The field specified for clustering cannot be found in the schema. Invalid field: flow.uid.",
            "flow.uid",
        )
    ]


def test_clustering_without_any_schema() -> None:
    spec = table(schema=(), time_partitioning=None)
    assert rules.validate_clustering(spec) == [
        invalid("Table with clustering must have a schema.", "clustering.fields")
    ]


CLUSTERABLE = [
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.NUMERIC,
    FieldType.BIGNUMERIC,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.TIMESTAMP,
    FieldType.GEOGRAPHY,
]
REFUSED = [
    FieldType.FLOAT,
    FieldType.BYTES,
    FieldType.TIME,
    FieldType.JSON,
    FieldType.INTERVAL,
    FieldType.RECORD,
]


def test_clusterable_and_refused_types_cover_every_type() -> None:
    assert set(CLUSTERABLE) | set(REFUSED) == set(FieldType)
    assert set(CLUSTERABLE) == rules.CLUSTERABLE_TYPES


@pytest.mark.parametrize("type_", CLUSTERABLE)
def test_clusterable_types_are_accepted(type_: FieldType) -> None:
    column = col("c", type_)
    assert rules.is_clusterable(column)
    assert rules.validate_clustering(table(schema=(*BASE_SCHEMA, column), clustering_fields=("c",))) == []


@pytest.mark.parametrize("type_", REFUSED)
def test_refused_clustering_types(type_: FieldType) -> None:
    fields = (col("x"),) if type_ is FieldType.RECORD else ()
    column = col("c", type_, fields=fields)
    assert not rules.is_clusterable(column)
    spec = table(schema=(*BASE_SCHEMA, column), clustering_fields=("c",))
    assert rules.validate_clustering(spec) == [
        invalid(f"Field c has type {type_.value}, which is not supported for clustering.", "c")
    ]


def test_repeated_clustering_field() -> None:
    column = col("tags", mode=FieldMode.REPEATED)
    assert not rules.is_clusterable(column)
    spec = table(schema=(*BASE_SCHEMA, column), clustering_fields=("tags",))
    assert rules.validate_clustering(spec) == [
        invalid("Field tags has mode REPEATED, which is not supported for clustering.", "tags")
    ]


def test_duplicate_clustering_field() -> None:
    spec = table(clustering_fields=("org_slug", "ORG_SLUG"))
    assert rules.validate_clustering(spec) == [invalid("Duplicate clustering field: ORG_SLUG.", "ORG_SLUG")]


# ---------------------------------------------------------------------------------- dataset ids


@pytest.mark.parametrize("dataset_id", ["organizations", "acme_inc_local", "A1", "_x", "1abc", "a" * 1024])
def test_valid_dataset_ids(dataset_id: str) -> None:
    assert rules.validate_dataset_id(dataset_id) == []
    rules.check_dataset_id(dataset_id)


@pytest.mark.parametrize(
    "dataset_id", ["", "acme-inc", "acme inc", "proj:ds", "proj.ds", "données", "ds$1", "a" * 1025]
)
def test_invalid_dataset_ids(dataset_id: str) -> None:
    message = (
        f'Invalid dataset ID "{dataset_id}". Dataset IDs must be alphanumeric (plus underscores and '
        "dashes) and must be at most 1024 characters long."
    )
    assert rules.validate_dataset_id(dataset_id) == [invalid(message, "datasetId")]
    with pytest.raises(InvalidRequestError) as raised:
        rules.check_dataset_id(dataset_id)
    assert (raised.value.status, raised.value.reason, raised.value.message) == (400, "invalid", message)


# ------------------------------------------------------------------------------------ table ids


@pytest.mark.parametrize(
    "table_id",
    [
        "org_profiles",
        "table 01",
        "table-01",
        "ग्राहक",
        "00_お客様",
        "étudiant-01",
        "таблица",
        "a" * 1024,
        "é" * 512,  # 1024 UTF-8 bytes
    ],
)
def test_valid_table_ids(table_id: str) -> None:
    assert rules.is_valid_table_id(table_id)
    assert rules.validate_table_id(table_id) == []


@pytest.mark.parametrize(
    "table_id",
    ["", "t$20250101", "a.b", "a/b", "a@b", "tab\tle", "emoji😀", "a" * 1025, "é" * 513],
)
def test_invalid_table_ids(table_id: str) -> None:
    assert not rules.is_valid_table_id(table_id)
    assert rules.validate_table_id(table_id) == [
        invalid(
            f'Invalid table ID "{table_id}". Table IDs must be alphanumeric (plus underscores) and must '
            "be at most 1024 characters long. Also, Table decorators cannot be used.",
            "tableId",
        )
    ]


# --------------------------------------------------------------------------------- column names


@pytest.mark.parametrize("name", ["org_slug", "_private", "A", "x1", "a" * 300, "partition", "table_x"])
def test_valid_column_names(name: str) -> None:
    assert rules.validate_schema((col(name),)) == []


@pytest.mark.parametrize("name", ["", "1abc", "my col", "a-b", "a.b", "naïve", "a" * 301])
def test_invalid_column_names(name: str) -> None:
    assert rules.validate_schema((col(name),)) == [
        invalid(
            f'Invalid field name "{name}". Fields must contain only letters, numbers, and underscores, '
            "start with a letter or underscore, and be at most 300 characters long.",
            name,
        )
    ]


@pytest.mark.parametrize(
    "name",
    [
        "_PARTITIONTIME",
        "_partition_date",
        "_TABLE_SUFFIX",
        "_file_name",
        "_row_timestamp",
        "__root__x",
        "_ColIdentifier1",
    ],
)
def test_reserved_column_prefixes(name: str) -> None:
    assert rules.validate_schema((col(name),)) == [
        invalid(
            f'Invalid field name "{name}". Field names are not allowed to start with the '
            "(case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ and "
            "_COLIDENTIFIER",
            name,
        )
    ]


def test_nested_column_names_are_checked_with_their_path() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("ok"), col("bad-name")))
    assert rules.validate_schema((record,)) == [
        invalid(
            'Invalid field name "bad-name". Fields must contain only letters, numbers, and underscores, '
            "start with a letter or underscore, and be at most 300 characters long.",
            "meta.bad-name",
        )
    ]


def test_duplicate_column_names_are_case_insensitive() -> None:
    assert rules.validate_schema((col("first_name"), col("First_Name"))) == [
        invalid("Field First_Name already exists in schema", "First_Name")
    ]


def test_duplicate_nested_column_reports_its_path() -> None:
    allowed = col("allowed", FieldType.RECORD, fields=(col("IPProtocol"), col("ipProtocol")))
    assert rules.validate_schema((allowed,)) == [
        invalid("Field allowed.ipProtocol already exists in schema", "allowed.ipProtocol")
    ]


def test_same_name_at_different_levels_is_not_a_duplicate() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("org_slug"),))
    assert rules.validate_schema((col("org_slug"), record)) == []


def test_record_needs_a_sub_field() -> None:
    assert rules.validate_schema((col("meta", FieldType.RECORD),)) == [
        invalid("Field meta is type RECORD but has no schema.", "meta")
    ]


def test_fifteen_levels_of_nesting_are_accepted() -> None:
    assert rules.validate_schema((nested(15),)) == []


def test_sixteen_levels_of_nesting_are_refused() -> None:
    path = ".".join(f"level{level}" for level in range(1, 16))
    assert rules.validate_schema((nested(16),)) == [
        invalid(f"Schema nested too deeply for field {path}, maximum allowed depth is 15.", path)
    ]


# ----------------------------------------------------------------------- violations -> errors


@pytest.mark.parametrize(
    ("violation", "error_type"),
    [
        (Violation(400, "invalid", "bad"), InvalidRequestError),
        (Violation(404, "notFound", "gone"), NotFoundError),
        (Violation(409, "duplicate", "twice"), AlreadyExistsError),
        (Violation(400, "resourceInUse", "busy"), ResourceInUseError),
    ],
)
def test_violation_becomes_the_matching_port_error(violation: Violation, error_type: type) -> None:
    error = violation.to_error()
    assert type(error) is error_type
    assert error.to_dict() == {
        "status": violation.status,
        "reason": violation.reason,
        "message": violation.message,
    }
    assert Violation.from_error(error, violation.field) == violation


def test_check_table_raises_the_first_violation() -> None:
    spec = table(table_id="bad$id", time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))
    with pytest.raises(InvalidRequestError) as raised:
        rules.check_table(spec)
    assert raised.value.message.startswith('Invalid table ID "bad$id".')
    assert len(rules.validate_table(spec)) == 2


# ------------------------------------------------------------------ errors every backend phrases


@pytest.mark.parametrize(
    ("error", "error_type", "status", "reason", "message"),
    [
        (rules.dataset_not_found("p", "d"), NotFoundError, 404, "notFound", "Not found: Dataset p:d"),
        (rules.table_not_found("p", "d", "t"), NotFoundError, 404, "notFound", "Not found: Table p:d.t"),
        (rules.dataset_exists("p", "d"), AlreadyExistsError, 409, "duplicate", "Already Exists: Dataset p:d"),
        (
            rules.table_exists("p", "d", "t"),
            AlreadyExistsError,
            409,
            "duplicate",
            "Already Exists: Table p:d.t",
        ),
        (
            rules.dataset_in_use("p", "d"),
            ResourceInUseError,
            400,
            "resourceInUse",
            "Dataset p:d is still in use",
        ),
    ],
)
def test_message_builders(
    error: WarehouseError, error_type: type, status: int, reason: str, message: str
) -> None:
    assert type(error) is error_type
    assert error.to_dict() == {"status": status, "reason": reason, "message": message}


# ------------------------------------------------------------------------------------- config


def config(*tables: TableSpec, dataset_id: str = DATASET) -> BootstrapConfig:
    return BootstrapConfig(dataset=DatasetSpec(dataset_id), tables=tables)


def test_valid_config_has_no_violations() -> None:
    assert rules.validate_config(config(table(), table(table_id="org_profiles")), PROJECT) == {}


def test_config_violations_are_filed_by_table() -> None:
    broken = table(time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))
    assert rules.validate_config(config(table(table_id="org_profiles"), broken), PROJECT) == {
        "org_subscriptions": [
            invalid("The field specified for partitioning cannot be found in the schema.", "effective_date")
        ]
    }


def test_config_reports_a_table_named_twice() -> None:
    assert rules.validate_config(config(table(), table()), PROJECT) == {
        "org_subscriptions": [
            Violation(
                409, "duplicate", f"Already Exists: Table {PROJECT}:{DATASET}.org_subscriptions", "tableId"
            )
        ]
    }


def test_config_reports_a_bad_dataset_id_under_the_dataset() -> None:
    found = rules.validate_config(config(table(), dataset_id="org-meta"), PROJECT)
    assert list(found) == ["org-meta"]
    assert found["org-meta"][0].message.startswith('Invalid dataset ID "org-meta".')
