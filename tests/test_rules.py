"""BigQuery's table and dataset rules: what is accepted, and the exact refusal for what is not.

Every refusal is asserted by its rule (code, status, reason) and field. Messages are asserted in
full where the rule's text is confirmed, because matching BigQuery's text is the point: the fake,
the REST emulator and the preflight check all report these, and callers (and people) match on
them. An unconfirmed text is not asserted: a test of it would pass offline and prove nothing
about BigQuery.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fakes.bigquery import exceptions as bq
from fakes.errors import text_is_confirmed
from harness.ports import (
    AlreadyExistsError,
    InvalidRequestError,
    NotFoundError,
    ResourceInUseError,
    WarehouseError,
)
from harness.schema import rules
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
from harness.schema.violations import (
    CLUSTERED_TABLE_WITHOUT_SCHEMA,
    CLUSTERING_FIELD_NOT_FOUND,
    CLUSTERING_FIELD_REPEATED,
    CLUSTERING_FIELD_TYPE,
    DATE_PARTITIONED_BY_HOUR,
    DUPLICATE_CLUSTERING_FIELD,
    DUPLICATE_FIELD,
    DUPLICATE_TABLE,
    INVALID_DATASET_ID,
    INVALID_FIELD_NAME,
    INVALID_TABLE_ID,
    PARTITION_EXPIRATION_NOT_POSITIVE,
    PARTITION_FIELD_NOT_FOUND,
    PARTITION_FIELD_REPEATED,
    PARTITION_FIELD_TYPE,
    PARTITION_FILTER_WITHOUT_PARTITIONING,
    PARTITIONED_TABLE_WITHOUT_SCHEMA,
    RECORD_WITHOUT_FIELDS,
    RESERVED_FIELD_PREFIX,
    RULES,
    SCHEMA_TOO_DEEP,
    TOO_MANY_CLUSTERING_FIELDS,
    Rule,
    Violation,
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


Seen = tuple[str, int, str, str | None, str | None]


def expect(rule: Rule, message: str | None, field: str | None) -> Seen:
    """One expected violation: its rule (code, status, reason) and field always; its message only
    when the rule's text is confirmed (``None`` otherwise: an unconfirmed text is not asserted)."""
    assert (message is None) == (rule.confirmed is None), f"{rule.code}: assert a text iff it is confirmed"
    return (rule.code, rule.status, rule.reason, field, message)


def seen(violations: list[Violation]) -> list[Seen]:
    """What :func:`expect` describes, of actual violations."""
    return [
        (v.code, v.status, v.reason, v.field, v.message if v.confirmed is not None else None)
        for v in violations
    ]


def nested(depth: int) -> FieldSpec:
    """A RECORD chain whose deepest field sits at ``depth`` (top level = 1)."""
    field = col(f"leaf{depth}")
    for level in range(depth - 1, 0, -1):
        field = col(f"level{level}", FieldType.RECORD, fields=(field,))
    return field


# ------------------------------------------------------------------------------- the baseline


def test_valid_table_has_no_violations() -> None:
    assert rules.validate_table(table()) == []
    bq.raise_first(rules.validate_table(table()))  # does not raise


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
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_FIELD_NOT_FOUND,
            "The field specified for partitioning cannot be found in the schema.",
            "effective_date",
        )
    ]


def test_partition_field_must_be_top_level() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("ts", FieldType.TIMESTAMP),))
    spec = table(schema=(*BASE_SCHEMA, record), time_partitioning=TimePartitioning(field="meta.ts"))
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_FIELD_NOT_FOUND,
            "The field specified for partitioning cannot be found in the schema.",
            "meta.ts",
        )
    ]


def test_partition_field_without_any_schema() -> None:
    spec = table(schema=(), clustering_fields=())
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITIONED_TABLE_WITHOUT_SCHEMA,
            "Table with field based partitioning must have a schema.",
            "created_at",
        )
    ]


@pytest.mark.parametrize(
    ("type_", "shown"),
    [(FieldType.STRING, "STRING"), (FieldType.INTEGER, "INTEGER"), (FieldType.TIME, "TIME")],
)
def test_partition_field_of_wrong_type(type_: FieldType, shown: str) -> None:
    spec = table(schema=(*BASE_SCHEMA, col("day", type_)), time_partitioning=TimePartitioning(field="day"))
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_FIELD_TYPE,
            "The field specified for time partitioning can only be of type TIMESTAMP, DATE or "
            f"DATETIME. The type found is: {shown}.",
            "day",
        )
    ]


def test_partition_field_must_not_be_repeated() -> None:
    days = col("days", FieldType.DATE, FieldMode.REPEATED)
    spec = table(schema=(*BASE_SCHEMA, days), time_partitioning=TimePartitioning(field="days"))
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_FIELD_REPEATED,
            None,
            "days",
        )
    ]


def test_hour_partitioning_of_a_date_column_is_refused() -> None:
    spec = table(time_partitioning=TimePartitioning(PartitionType.HOUR, "usage_date"))
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            DATE_PARTITIONED_BY_HOUR,
            None,
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
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_EXPIRATION_NOT_POSITIVE,
            None,
            "timePartitioning.expirationMs",
        )
    ]


def test_positive_partition_expiration_is_accepted() -> None:
    day = 86_400_000
    spec = table(time_partitioning=TimePartitioning(PartitionType.DAY, "created_at", day))
    assert rules.validate_partitioning(spec) == []


def test_require_partition_filter_needs_partitioning() -> None:
    spec = table(time_partitioning=None, require_partition_filter=True)
    assert seen(rules.validate_partitioning(spec)) == [
        expect(
            PARTITION_FILTER_WITHOUT_PARTITIONING,
            "Either interval partition or range partition should be specified.",
            "requirePartitionFilter",
        )
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
    assert seen(rules.validate_clustering(spec)) == [
        expect(
            TOO_MANY_CLUSTERING_FIELDS,
            "5 clustering fields specified, exceeding the limit of 4.",
            "clustering.fields",
        )
    ]


def test_clustering_field_missing() -> None:
    spec = table(clustering_fields=("org_slug", "hierarchy_level_1_id"))
    assert seen(rules.validate_clustering(spec)) == [
        expect(
            CLUSTERING_FIELD_NOT_FOUND,
            "The field specified for clustering cannot be found in the schema. Invalid field: "
            "hierarchy_level_1_id.",
            "hierarchy_level_1_id",
        )
    ]


def test_clustering_field_must_be_top_level() -> None:
    record = col("flow", FieldType.RECORD, fields=(col("uid"),))
    spec = table(schema=(*BASE_SCHEMA, record), clustering_fields=("flow.uid",))
    assert seen(rules.validate_clustering(spec)) == [
        expect(
            CLUSTERING_FIELD_NOT_FOUND,
            "The field specified for clustering cannot be found in the schema. Invalid field: flow.uid.",
            "flow.uid",
        )
    ]


def test_clustering_without_any_schema() -> None:
    spec = table(schema=(), time_partitioning=None)
    assert seen(rules.validate_clustering(spec)) == [
        expect(
            CLUSTERED_TABLE_WITHOUT_SCHEMA, "Table with clustering must have a schema.", "clustering.fields"
        )
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
    FieldType.RANGE,
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
    assert seen(rules.validate_clustering(spec)) == [
        expect(
            CLUSTERING_FIELD_TYPE,
            f"Field c has type {type_.value}, which is not supported for clustering.",
            "c",
        )
    ]


def test_repeated_clustering_field() -> None:
    column = col("tags", mode=FieldMode.REPEATED)
    assert not rules.is_clusterable(column)
    spec = table(schema=(*BASE_SCHEMA, column), clustering_fields=("tags",))
    assert seen(rules.validate_clustering(spec)) == [expect(CLUSTERING_FIELD_REPEATED, None, "tags")]


def test_duplicate_clustering_field() -> None:
    spec = table(clustering_fields=("org_slug", "ORG_SLUG"))
    assert seen(rules.validate_clustering(spec)) == [expect(DUPLICATE_CLUSTERING_FIELD, None, "ORG_SLUG")]


# ---------------------------------------------------------------------------------- dataset ids


@pytest.mark.parametrize("dataset_id", ["organizations", "acme_inc_local", "A1", "_x", "1abc", "a" * 1024])
def test_valid_dataset_ids(dataset_id: str) -> None:
    assert rules.validate_dataset_id(dataset_id) == []
    bq.raise_first(rules.validate_dataset_id(dataset_id))


@pytest.mark.parametrize(
    "dataset_id", ["", "acme-inc", "acme inc", "proj:ds", "proj.ds", "données", "ds$1", "a" * 1025]
)
def test_invalid_dataset_ids(dataset_id: str) -> None:
    message = (
        f'Invalid dataset ID "{dataset_id}". Dataset IDs must be alphanumeric (plus underscores and '
        "dashes) and must be at most 1024 characters long."
    )
    assert seen(rules.validate_dataset_id(dataset_id)) == [expect(INVALID_DATASET_ID, message, "datasetId")]
    with pytest.raises(bq.InvalidDatasetId) as raised:
        bq.raise_first(rules.validate_dataset_id(dataset_id))
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
    assert seen(rules.validate_table_id(table_id)) == [
        expect(
            INVALID_TABLE_ID,
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
    assert seen(rules.validate_schema((col(name),))) == [
        expect(
            INVALID_FIELD_NAME,
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
    assert seen(rules.validate_schema((col(name),))) == [
        expect(
            RESERVED_FIELD_PREFIX,
            f'Invalid field name "{name}". Field names are not allowed to start with the '
            "(case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ and "
            "_COLIDENTIFIER",
            name,
        )
    ]


def test_nested_column_names_are_checked_with_their_path() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("ok"), col("bad-name")))
    assert seen(rules.validate_schema((record,))) == [
        expect(
            INVALID_FIELD_NAME,
            'Invalid field name "bad-name". Fields must contain only letters, numbers, and underscores, '
            "start with a letter or underscore, and be at most 300 characters long.",
            "meta.bad-name",
        )
    ]


def test_duplicate_column_names_are_case_insensitive() -> None:
    assert seen(rules.validate_schema((col("first_name"), col("First_Name")))) == [
        expect(DUPLICATE_FIELD, "Field First_Name already exists in schema", "First_Name")
    ]


def test_duplicate_nested_column_reports_its_path() -> None:
    allowed = col("allowed", FieldType.RECORD, fields=(col("IPProtocol"), col("ipProtocol")))
    assert seen(rules.validate_schema((allowed,))) == [
        expect(DUPLICATE_FIELD, "Field allowed.ipProtocol already exists in schema", "allowed.ipProtocol")
    ]


def test_same_name_at_different_levels_is_not_a_duplicate() -> None:
    record = col("meta", FieldType.RECORD, fields=(col("org_slug"),))
    assert rules.validate_schema((col("org_slug"), record)) == []


def test_record_needs_a_sub_field() -> None:
    assert seen(rules.validate_schema((col("meta", FieldType.RECORD),))) == [
        expect(RECORD_WITHOUT_FIELDS, "Field meta is type RECORD but has no schema.", "meta")
    ]


def test_fifteen_levels_of_nesting_are_accepted() -> None:
    assert rules.validate_schema((nested(15),)) == []


def test_sixteen_levels_of_nesting_are_refused() -> None:
    path = ".".join(f"level{level}" for level in range(1, 16))
    assert seen(rules.validate_schema((nested(16),))) == [
        expect(
            SCHEMA_TOO_DEEP, f"Schema nested too deeply for field {path}, maximum allowed depth is 15.", path
        )
    ]


# ----------------------------------------------------------------------- violations -> errors


_PORT_CLASSES = {404: NotFoundError, 409: AlreadyExistsError}


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_violation_becomes_the_matching_error(rule: Rule) -> None:
    violation = Violation(rule.status, rule.reason, "text", "field", code=rule.code)
    error = bq.error_for(violation)
    assert isinstance(error, bq.RULE_ERRORS[rule.code])
    port = ResourceInUseError if rule.reason == "resourceInUse" else _PORT_CLASSES.get(rule.status)
    assert isinstance(error, port or InvalidRequestError)
    assert error.to_dict() == {"status": rule.status, "reason": rule.reason, "message": "text"}
    assert error.violation == violation


def test_raise_first_raises_the_first_violation() -> None:
    spec = table(table_id="bad$id", time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))
    with pytest.raises(bq.InvalidTableId) as raised:
        bq.raise_first(rules.validate_table(spec))
    assert raised.value.message.startswith('Invalid table ID "bad$id".')
    assert len(rules.validate_table(spec)) == 2


# ------------------------------------------------------------------ errors every backend phrases


@pytest.mark.parametrize(
    ("error", "error_type", "status", "reason", "message"),
    [
        (
            bq.DatasetNotFound(project="p", dataset_id="d"),
            NotFoundError,
            404,
            "notFound",
            "Not found: Dataset p:d",
        ),
        (
            bq.TableNotFound(project="p", dataset_id="d", table_id="t"),
            NotFoundError,
            404,
            "notFound",
            "Not found: Table p:d.t",
        ),
        (
            bq.DatasetAlreadyExists(project="p", dataset_id="d"),
            AlreadyExistsError,
            409,
            "duplicate",
            "Already Exists: Dataset p:d",
        ),
        (
            bq.TableAlreadyExists.of("tableId", project="p", dataset_id="d", table_id="t"),
            AlreadyExistsError,
            409,
            "duplicate",
            "Already Exists: Table p:d.t",
        ),
        (
            bq.DatasetInUse(project="p", dataset_id="d"),
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
    assert isinstance(error, error_type)
    assert text_is_confirmed(error)
    assert error.to_dict() == {"status": status, "reason": reason, "message": message}


# ------------------------------------------------------------------------------------- config


def config(*tables: TableSpec, dataset_id: str = DATASET) -> BootstrapConfig:
    return BootstrapConfig(dataset=DatasetSpec(dataset_id), tables=tables)


def test_valid_config_has_no_violations() -> None:
    assert rules.validate_config(config(table(), table(table_id="org_profiles")), PROJECT) == {}


def test_config_violations_are_filed_by_table() -> None:
    broken = table(time_partitioning=TimePartitioning(PartitionType.DAY, "effective_date"))
    found = rules.validate_config(config(table(table_id="org_profiles"), broken), PROJECT)
    assert {name: seen(violations) for name, violations in found.items()} == {
        "org_subscriptions": [
            expect(
                PARTITION_FIELD_NOT_FOUND,
                "The field specified for partitioning cannot be found in the schema.",
                "effective_date",
            )
        ]
    }


def test_config_reports_a_table_named_twice() -> None:
    found = rules.validate_config(config(table(), table()), PROJECT)
    assert {name: seen(violations) for name, violations in found.items()} == {
        "org_subscriptions": [
            expect(DUPLICATE_TABLE, f"Already Exists: Table {PROJECT}:{DATASET}.org_subscriptions", "tableId")
        ]
    }


def test_config_reports_a_bad_dataset_id_under_the_dataset() -> None:
    found = rules.validate_config(config(table(), dataset_id="org-meta"), PROJECT)
    assert list(found) == ["org-meta"]
    assert found["org-meta"][0].message.startswith('Invalid dataset ID "org-meta".')
