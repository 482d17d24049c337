"""The packaged meta-table config matches DESIGN.md, and the loader points at every mistake.

The expected table list below is the DESIGN.md table ("The 15 meta tables"), written out so that a
drift in either the design or the data files fails here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.schema import rules
from harness.schema.loader import SchemaConfigError, default_config_path, load_config, load_table_schema
from harness.schema.spec import (
    BootstrapConfig,
    FieldMode,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
    walk_fields,
)

#: (table, DAY partitioning column or None), in DESIGN.md order.
DESIGN_TABLES: list[tuple[str, str | None]] = [
    ("org_profiles", None),
    ("org_api_keys", "created_at"),
    ("org_subscriptions", "created_at"),
    ("org_usage_quotas", "usage_date"),
    ("org_integration_credentials", None),
    ("org_pipeline_configs", None),
    ("org_scheduled_pipeline_runs", "scheduled_time"),
    ("org_pipeline_execution_queue", "scheduled_time"),
    ("org_meta_pipeline_runs", "start_time"),
    ("org_meta_step_logs", "start_time"),
    ("org_meta_dq_results", "ingestion_date"),
    ("org_audit_logs", "created_at"),
    ("org_cost_tracking", "usage_date"),
    ("org_kms_keys", None),
    ("org_idempotency_keys", "created_at"),
]
DAY_MS = 24 * 60 * 60 * 1000


@pytest.fixture(scope="module")
def config() -> BootstrapConfig:
    return load_config()


def table_ids() -> list[str]:
    return [name for name, _ in DESIGN_TABLES]


# ------------------------------------------------------------------------- the packaged config


def test_packaged_config_loads_the_organizations_dataset(config: BootstrapConfig) -> None:
    assert config.dataset.dataset_id == "organizations"
    assert config.dataset.location == "US"
    assert config.dataset.description
    assert config.source == str(default_config_path())
    assert default_config_path() == Path(__file__).parents[1] / "harness" / "schema" / "bootstrap.yml"


def test_fifteen_tables_in_design_order(config: BootstrapConfig) -> None:
    assert len(config) == 15
    assert config.table_names == tuple(table_ids())


def test_table_names_and_order_come_from_the_yaml_file(config: BootstrapConfig) -> None:
    raw = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    assert config.table_names == tuple(entry["name"] for entry in raw["tables"])


def test_a_different_file_gives_different_tables(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps([{"name": "org_slug", "type": "STRING"}]))
    config_path = write(
        tmp_path,
        """
        dataset: {id: other}
        tables:
          - {name: zeta, schema: one.json}
          - {name: alpha, schema: one.json, clustering: [org_slug]}
        """,
    )
    config = load_config(config_path)
    assert config.table_names == ("zeta", "alpha")
    assert config.table("alpha").clustering_fields == ("org_slug",)
    assert config.source == str(config_path)


@pytest.mark.parametrize(("table_id", "partition_field"), DESIGN_TABLES)
def test_partitioning_follows_design(
    config: BootstrapConfig, table_id: str, partition_field: str | None
) -> None:
    spec = config.table(table_id)
    if partition_field is None:
        assert spec.time_partitioning is None
        return
    assert spec.time_partitioning is not None
    assert spec.time_partitioning.type is PartitionType.DAY
    assert spec.time_partitioning.field == partition_field
    column = spec.field(partition_field)
    assert column is not None, f"{table_id}.{partition_field} is not a top-level column"
    assert column.type in (FieldType.DATE, FieldType.TIMESTAMP)
    assert column.mode is not FieldMode.REPEATED


@pytest.mark.parametrize("table_id", table_ids())
def test_clustered_on_org_slug_first(config: BootstrapConfig, table_id: str) -> None:
    spec = config.table(table_id)
    assert spec.clustering_fields[:1] == ("org_slug",)
    assert len(spec.clustering_fields) <= 4
    assert all(spec.field(name) is not None for name in spec.clustering_fields)


@pytest.mark.parametrize("table_id", table_ids())
def test_every_table_has_a_required_org_slug(config: BootstrapConfig, table_id: str) -> None:
    org_slug = config.table(table_id).field("org_slug")
    assert org_slug is not None
    assert (org_slug.type, org_slug.mode) == (FieldType.STRING, FieldMode.REQUIRED)


def test_only_idempotency_keys_expire_after_24_hours(config: BootstrapConfig) -> None:
    expiring = {
        spec.table_id: spec.time_partitioning.expiration_ms
        for spec in config
        if spec.time_partitioning is not None and spec.time_partitioning.expiration_ms is not None
    }
    assert expiring == {"org_idempotency_keys": DAY_MS}


def test_no_concurrent_pipelines_limit_column_anywhere(config: BootstrapConfig) -> None:
    found = [
        f"{spec.table_id}.{path}"
        for spec in config
        for path, column in walk_fields(spec.schema)
        if column.name.lower() == "concurrent_pipelines_limit"
    ]
    assert found == []


def test_every_table_and_column_is_described(config: BootstrapConfig) -> None:
    undescribed = [spec.table_id for spec in config if not spec.description]
    undescribed += [
        f"{spec.table_id}.{path}"
        for spec in config
        for path, column in walk_fields(spec.schema)
        if not (column.description and column.description.strip())
    ]
    assert undescribed == []


def test_schemas_use_nested_and_repeated_columns(config: BootstrapConfig) -> None:
    columns = [column for spec in config for _, column in walk_fields(spec.schema)]
    assert any(column.is_record and column.fields for column in columns)
    assert any(column.is_repeated for column in columns)
    assert any(column.is_record and column.is_repeated for column in columns)


@pytest.mark.parametrize("table_id", table_ids())
def test_schema_files_are_in_bigquery_json_format(config: BootstrapConfig, table_id: str) -> None:
    """The files are exactly what ``bq show --schema`` prints, so they round-trip through the API form."""
    path = default_config_path().parent / "tables" / f"{table_id}.json"
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert on_disk == [column.to_api() for column in config.table(table_id).schema]


def test_every_schema_file_is_used(config: BootstrapConfig) -> None:
    files = {path.stem for path in (default_config_path().parent / "tables").glob("*.json")}
    assert files == set(config.table_names)


def test_bigquery_rules_accept_the_packaged_config(config: BootstrapConfig) -> None:
    assert rules.validate_config(config, "test-project") == {}


# ---------------------------------------------------------------------------------- loader errors

PROFILE_SCHEMA = [
    {"name": "org_slug", "type": "STRING", "mode": "REQUIRED", "description": "Org."},
    {"name": "created_at", "type": "TIMESTAMP", "mode": "REQUIRED", "description": "Created."},
]


def write(directory: Path, text: str, name: str = "bootstrap.yml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_schema(directory: Path, fields: object, name: str = "t.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(fields, indent=2), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based number of the last line containing ``needle`` (duplicates are reported at the last)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return max(number for number, text in enumerate(lines, start=1) if needle in text)


def config_error(path: Path) -> SchemaConfigError:
    with pytest.raises(SchemaConfigError) as caught:
        load_config(path)
    return caught.value


def schema_error(path: Path) -> SchemaConfigError:
    with pytest.raises(SchemaConfigError) as caught:
        load_table_schema(path)
    return caught.value


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    write_schema(tmp_path, PROFILE_SCHEMA)
    return tmp_path


def test_error_message_names_file_line_and_field(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset:
          id: organizations
        tables:
          - name: a
            schema: t.json
          - name: b
            schema: t.json
          - name: c
            schema: t.json
          - name: d
            schema: t.json
            partitioning:
              type: WEEK
              field: created_at
        """,
    )
    error = config_error(path)
    assert (error.path, error.field, error.line) == (str(path), "tables[3].partitioning.type", 13)
    assert error.message == "'WEEK' is not one of HOUR, DAY, MONTH, YEAR"
    assert (
        str(error) == f"{path}:13: tables[3].partitioning.type: 'WEEK' is not one of HOUR, DAY, MONTH, YEAR"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yml"
    error = config_error(missing)
    assert (error.path, error.field, error.line) == (str(missing), "", None)
    assert "cannot read file" in error.message


def test_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "dataset:\n  id: organizations\ntables: [\n  {name: a\n")
    error = config_error(path)
    assert error.path == str(path)
    assert error.field == ""
    assert error.line is not None and error.line >= 3
    assert error.message.startswith("invalid YAML")


def test_empty_file_is_not_a_mapping(tmp_path: Path) -> None:
    error = config_error(write(tmp_path, "# nothing here\n"))
    assert (error.field, error.line) == ("", None)
    assert error.message == "expected a mapping, got null"


def test_duplicate_yaml_key(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
            name: b
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[0].name", 5)
    assert error.message == "duplicate key 'name'"


def test_missing_key_points_at_the_enclosing_entry(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
          - name: b
            clustering: [org_slug]
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[1].schema", 5)
    assert error.message == "required key is missing"


def test_missing_top_level_key(tmp_path: Path) -> None:
    error = config_error(write(tmp_path, "dataset: {id: organizations}\n"))
    assert (error.field, error.line) == ("tables", 1)
    assert error.message == "required key is missing"


def test_unknown_key_suggests_the_right_one(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
            partitoning: {type: DAY, field: created_at}
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[0].partitoning", 5)
    assert error.message.startswith("unknown key 'partitoning'; expected one of name, description, schema,")
    assert error.message.endswith("(did you mean 'partitioning'?)")


def test_unknown_nested_key(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
            partitioning:
              type: DAY
              expiration_days: 1
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[0].partitioning.expiration_days", 7)
    assert "expected one of type, field, expiration_ms" in error.message


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ("clustering: org_slug", "tables[0].clustering", "expected a list, got a string"),
        ("clustering: [org_slug, 7]", "tables[0].clustering[1]", "expected a string, got an integer"),
        ("description: 2025", "tables[0].description", "expected a string, got an integer"),
        (
            "require_partition_filter: 'yes'",
            "tables[0].require_partition_filter",
            "expected a boolean, got a string",
        ),
        ("partitioning: DAY", "tables[0].partitioning", "expected a mapping, got a string"),
        ("labels: {team: 1}", "tables[0].labels.team", "expected a string, got an integer"),
        ("partitioning: {type: DAY, expiration_ms: 1.5}", "tables[0].partitioning.expiration_ms", None),
    ],
)
def test_wrong_types(schema_dir: Path, entry: str, field: str, message: str | None) -> None:
    path = write(
        schema_dir,
        f"""
        dataset: {{id: organizations}}
        tables:
          - name: a
            schema: t.json
            {entry}
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == (field, 5)
    if message is not None:
        assert error.message == message


def test_tables_must_be_a_list(tmp_path: Path) -> None:
    error = config_error(write(tmp_path, "dataset: {id: organizations}\ntables: {a: 1}\n"))
    assert (error.field, error.line, error.message) == ("tables", 2, "expected a list, got a mapping")


def test_first_problem_in_file_order_is_reported(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        tables:
          - name: a
            schema: t.json
            clustering: nope
        dataset: {id: 5}
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[0].clustering", 4)


def test_duplicate_table_names(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
          - name: b
            schema: t.json
          - name: a
            schema: t.json
        """,
    )
    error = config_error(path)
    assert (error.field, error.line) == ("tables[2].name", 7)
    assert error.message == "duplicate table name 'a' (also tables[0].name)"


def test_missing_schema_file_is_reported_at_the_yaml_line(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset: {id: organizations}
        tables:
          - name: a
            schema: t.json
          - name: b
            schema: tables/absent.json
        """,
    )
    error = config_error(path)
    assert (error.path, error.field, error.line) == (str(path), "tables[1].schema", 6)
    assert "absent.json" in error.message


def test_broken_schema_file_is_reported_in_that_file(schema_dir: Path) -> None:
    broken = schema_dir / "broken.json"
    broken.write_text('[\n  {"name": "org_slug", "type": "STRING"},\n  {"name": "x" "type": "DATE"}\n]\n')
    path = write(schema_dir, "dataset: {id: organizations}\ntables:\n  - {name: a, schema: broken.json}\n")
    error = config_error(path)
    assert (error.path, error.field, error.line) == (str(broken), "", 3)
    assert error.message.startswith("invalid JSON")


def test_unknown_column_type(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [*PROFILE_SCHEMA, {"name": "x", "type": "STRNG", "mode": "NULLABLE"}])
    error = schema_error(path)
    assert (error.path, error.field) == (str(path), "[2].type")
    assert error.line == line_of(path, '"STRNG"')
    assert error.message.startswith("'STRNG' is not one of STRING, BYTES, INTEGER,")


def test_unknown_column_mode(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [{"name": "x", "type": "STRING", "mode": "OPTIONAL"}])
    error = schema_error(path)
    assert (error.field, error.line) == ("[0].mode", line_of(path, '"OPTIONAL"'))
    assert error.message == "'OPTIONAL' is not one of NULLABLE, REQUIRED, REPEATED"


def test_nested_schema_error_location(tmp_path: Path) -> None:
    path = write_schema(
        tmp_path,
        [
            {"name": "org_slug", "type": "STRING"},
            {
                "name": "details",
                "type": "RECORD",
                "fields": [{"name": "a", "type": "STRING", "policyTags": {}}],
            },
        ],
    )
    error = schema_error(path)
    assert (error.field, error.line) == ("[1].fields[0].policyTags", line_of(path, '"policyTags"'))
    assert error.message.startswith("unknown key 'policyTags'")


def test_missing_column_name(tmp_path: Path) -> None:
    path = write_schema(tmp_path, [{"type": "STRING"}])
    error = schema_error(path)
    assert (error.field, error.line, error.message) == ("[0].name", 2, "required key is missing")


def test_schema_must_be_a_list(tmp_path: Path) -> None:
    path = write_schema(tmp_path, {"fields": PROFILE_SCHEMA})
    error = schema_error(path)
    assert (error.field, error.message) == ("", "expected a list, got a mapping")


@pytest.mark.parametrize("duplicate", ["org_slug", "ORG_SLUG"])
def test_duplicate_column_names_are_case_insensitive(tmp_path: Path, duplicate: str) -> None:
    path = write_schema(tmp_path, [*PROFILE_SCHEMA, {"name": duplicate, "type": "STRING"}])
    error = schema_error(path)
    assert (error.field, error.line) == ("[2].name", line_of(path, f'"name": "{duplicate}"'))
    assert error.message == f"duplicate column name '{duplicate}' (also [0].name)"


def test_duplicate_nested_column_names(tmp_path: Path) -> None:
    record = {
        "name": "r",
        "type": "RECORD",
        "fields": [{"name": "a", "type": "STRING"}, {"name": "A", "type": "INT64"}],
    }
    path = write_schema(tmp_path, [record])
    error = schema_error(path)
    assert error.field == "[0].fields[1].name"
    assert error.message == "duplicate column name 'A' (also [0].fields[0].name)"


def test_same_name_at_different_levels_is_fine(tmp_path: Path) -> None:
    record = {"name": "a", "type": "RECORD", "fields": [{"name": "a", "type": "STRING"}]}
    assert load_table_schema(write_schema(tmp_path, [record]))[0].fields[0].name == "a"


def test_schema_accepts_standard_sql_aliases_and_default_mode(tmp_path: Path) -> None:
    path = write_schema(
        tmp_path,
        [
            {"name": "n", "type": "INT64"},
            {"name": "s", "type": "STRUCT", "mode": "repeated", "fields": [{"name": "b", "type": "BOOL"}]},
        ],
    )
    n, s = load_table_schema(path)
    assert (n.type, n.mode) == (FieldType.INTEGER, FieldMode.NULLABLE)
    assert (s.type, s.mode, s.fields[0].type) == (FieldType.RECORD, FieldMode.REPEATED, FieldType.BOOLEAN)


def test_tabs_in_json_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "tabs.json"
    path.write_text('[\n\t{"name": "a", "type": "STRING"},\n\t{"name": "b",\n\t "type": "NOPE"}\n]\n')
    error = schema_error(path)
    assert (error.field, error.line) == ("[1].type", 4)


def test_loaded_spec_carries_every_setting(schema_dir: Path) -> None:
    path = write(
        schema_dir,
        """
        dataset:
          id: meta
          location: EU
          description: Meta.
          labels: {app: cloudact}
        tables:
          - name: events
            description: Events.
            schema: t.json
            partitioning: {type: hour, field: created_at, expiration_ms: 3600000}
            clustering: [org_slug, created_at]
            require_partition_filter: true
            labels: {tier: hot}
        """,
    )
    config = load_config(str(path))
    assert (config.dataset.dataset_id, config.dataset.location, config.dataset.description) == (
        "meta",
        "EU",
        "Meta.",
    )
    assert config.dataset.labels == {"app": "cloudact"}
    assert config.table("events") == TableSpec(
        table_id="events",
        schema=load_table_schema(schema_dir / "t.json"),
        description="Events.",
        time_partitioning=TimePartitioning(PartitionType.HOUR, "created_at", 3_600_000),
        clustering_fields=("org_slug", "created_at"),
        require_partition_filter=True,
        labels={"tier": "hot"},
    )
