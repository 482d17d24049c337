"""Bootstrap: validated first, idempotent, adds what BigQuery allows, reports every other drift."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes.bigquery.warehouse import FakeWarehouse
from harness.cli import app
from harness.onboarding.bootstrap import BootstrapConfigError, TableStatus, bootstrap
from harness.ports import NotFoundError
from harness.schema.loader import default_config_path, load_config
from harness.schema.spec import (
    BootstrapConfig,
    FieldMode,
    FieldSpec,
    FieldType,
    TableSpec,
    TimePartitioning,
    walk_fields,
)


@pytest.fixture(scope="module")
def config() -> BootstrapConfig:
    return load_config()


def with_table(config: BootstrapConfig, table_id: str, **changes: object) -> BootstrapConfig:
    tables = tuple(replace(t, **changes) if t.table_id == table_id else t for t in config.tables)
    return replace(config, tables=tables)


def test_fresh_bootstrap_creates_the_dataset_and_every_table_in_order(
    warehouse: FakeWarehouse, config: BootstrapConfig
) -> None:
    report = bootstrap(warehouse, config)
    assert report.dataset_created
    assert report.created == list(config.table_names)
    live = warehouse.list_tables(config.dataset.dataset_id)
    assert sorted(t.table_id for t in live) == sorted(config.table_names)
    assert len(live) == 15 and "org_idempotency_keys" in {t.table_id for t in live}
    for info in live:
        assert info.spec == config.table(info.table_id)
        assert info.spec.clustering_fields[0] == "org_slug"
        assert all("concurrent_pipelines_limit" not in path for path, _ in walk_fields(info.spec.schema))


def test_second_bootstrap_changes_nothing(warehouse: FakeWarehouse, config: BootstrapConfig) -> None:
    bootstrap(warehouse, config)
    again = bootstrap(warehouse, config)
    assert not again.dataset_created
    assert again.created == [] and again.existing == list(config.table_names)
    assert again.drift == {}


def test_invalid_config_creates_nothing(warehouse: FakeWarehouse, config: BootstrapConfig) -> None:
    broken = with_table(
        config,
        "org_subscriptions",
        time_partitioning=TimePartitioning(field="effective_date"),
    )
    with pytest.raises(BootstrapConfigError) as info:
        bootstrap(warehouse, broken)
    assert info.value.status == 400 and info.value.reason == "invalid"
    assert "org_subscriptions" in info.value.message
    assert "The field specified for partitioning cannot be found in the schema" in info.value.message
    with pytest.raises(NotFoundError):
        warehouse.get_dataset(config.dataset.dataset_id)


def test_missing_nullable_columns_are_added(warehouse: FakeWarehouse, config: BootstrapConfig) -> None:
    full = config.table("org_profiles")
    nullable = next(f for f in reversed(full.schema) if f.mode is FieldMode.NULLABLE)
    bootstrap(
        warehouse, with_table(config, "org_profiles", schema=tuple(f for f in full.schema if f != nullable))
    )
    report = bootstrap(warehouse, config)
    outcome = next(t for t in report.tables if t.table_id == "org_profiles")
    assert outcome.status is TableStatus.UPDATED
    assert outcome.added_columns == (nullable.name,)
    assert nullable.name in warehouse.get_table(config.dataset.dataset_id, "org_profiles").spec.column_names
    assert bootstrap(warehouse, config).drift == {}


def test_other_drift_is_reported_not_forced(warehouse: FakeWarehouse, config: BootstrapConfig) -> None:
    dataset = config.dataset.dataset_id
    warehouse.create_dataset(dataset)
    live = TableSpec(
        "org_profiles",
        (
            FieldSpec("org_slug", FieldType.INTEGER, FieldMode.REQUIRED),
            FieldSpec("legacy", FieldType.STRING),
            FieldSpec("created_at", FieldType.TIMESTAMP),
        ),
        time_partitioning=TimePartitioning(field="created_at"),
    )
    warehouse.create_table(dataset, live)
    report = bootstrap(warehouse, config)
    drift = report.drift["org_profiles"]
    assert any("org_slug" in d and "INTEGER" in d and "STRING" in d for d in drift)
    assert any("legacy" in d and "not in the config" in d for d in drift)
    assert any(d.startswith("partitioning:") for d in drift)
    assert any(d.startswith("clustering:") for d in drift)
    assert warehouse.get_table(dataset, "org_profiles").spec.schema[0].type is FieldType.INTEGER


def test_cli_bootstrap_prints_what_it_created() -> None:
    result = CliRunner().invoke(app, ["bootstrap", "--backend", "fake"])
    assert result.exit_code == 0, result.output
    for name in load_config().table_names:
        assert name in result.output
    assert "15 tables created" in result.output
    assert "DAY(created_at)" in result.output


def test_cli_bootstrap_refuses_a_broken_config(tmp_path: Path) -> None:
    shutil.copy(default_config_path(), tmp_path / "bootstrap.yml")
    shutil.copytree(default_config_path().parent / "tables", tmp_path / "tables")
    text = (tmp_path / "bootstrap.yml").read_text()
    head, marker, rest = text.partition("- name: org_subscriptions\n")
    block, sep, tail = rest.partition("- name:")
    block = block.replace("field: created_at", "field: effective_date", 1)
    (tmp_path / "bootstrap.yml").write_text(head + marker + block + sep + tail)
    result = CliRunner().invoke(app, ["bootstrap", "--config", str(tmp_path / "bootstrap.yml")])
    assert result.exit_code == 1
    assert "org_subscriptions" in result.output
    assert "The field specified for partitioning cannot be found in the schema" in result.output


def test_file_backed_bootstrap_survives_a_restart(tmp_path: Path) -> None:
    args = ["bootstrap", "--data-dir", str(tmp_path)]
    assert CliRunner().invoke(app, args).exit_code == 0
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 tables created, 15 already existed" in second.output


def test_cli_bootstrap_closes_the_warehouse_it_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its engine, and so the data dir's files, are closed when the command ends, not left for
    whenever the engine is collected."""
    from fakes.bigquery.engine import BigQueryEngine

    closed: list[BigQueryEngine] = []
    real_close = BigQueryEngine.close

    def close(engine: BigQueryEngine) -> None:
        closed.append(engine)
        real_close(engine)

    monkeypatch.setattr(BigQueryEngine, "close", close)
    assert CliRunner().invoke(app, ["bootstrap", "--data-dir", str(tmp_path)]).exit_code == 0
    assert len(closed) == 1
