"""``harness check-schema``: the preflight check that catches what real BigQuery would refuse.

The regression it exists for: CloudAct's bootstrap once partitioned ``org_subscriptions`` on
``effective_date``, a column the schema does not have, and only found out from BigQuery mid-run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.schema.loader import default_config_path, load_config

runner = CliRunner()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of the packaged config (bootstrap.yml and its JSON schemas) to break."""
    packaged = default_config_path().parent
    shutil.copy(default_config_path(), tmp_path / "bootstrap.yml")
    shutil.copytree(packaged / "tables", tmp_path / "tables")
    return tmp_path


def edit_table_block(bootstrap: Path, table: str, old: str, new: str) -> None:
    """Replace the first ``old`` inside ``table``'s entry, the way a person edits the file."""
    text = bootstrap.read_text(encoding="utf-8")
    marker = f"- name: {table}\n"
    head, found, block = text.partition(marker)
    assert found, f"{table} not in {bootstrap}"
    assert old in block.split("- name:", 1)[0], f"{old!r} not in {table}'s entry"
    bootstrap.write_text(head + found + block.replace(old, new, 1), encoding="utf-8")


def test_packaged_config_passes() -> None:
    names = load_config().table_names
    assert len(names) == 15

    result = runner.invoke(app, ["check-schema"])

    assert result.exit_code == 0, result.output
    for name in names:
        assert name in result.output
    assert "DAY(created_at)" in result.output
    idempotency_row = next(line for line in result.output.splitlines() if "org_idempotency_keys" in line)
    assert idempotency_row.rstrip().endswith("1d")  # expiration_ms 86400000
    assert "15 tables OK." in result.output


def test_explicit_config_path_passes(config_dir: Path) -> None:
    result = runner.invoke(app, ["check-schema", "--config", str(config_dir / "bootstrap.yml")])
    assert result.exit_code == 0, result.output


def test_missing_partition_field_fails_with_bigquerys_message(config_dir: Path) -> None:
    bootstrap = config_dir / "bootstrap.yml"
    edit_table_block(bootstrap, "org_subscriptions", "field: created_at", "field: effective_date")

    result = runner.invoke(app, ["check-schema", "--config", str(bootstrap), "--project", "acme"])

    assert result.exit_code == 1, result.output
    assert (
        "org_subscriptions: 400 invalid: The field specified for partitioning cannot be found in "
        "the schema." in result.output
    )
    assert "1 problem(s) BigQuery would refuse." in result.output


def test_every_violation_is_listed_with_its_table(config_dir: Path) -> None:
    bootstrap = config_dir / "bootstrap.yml"
    edit_table_block(bootstrap, "org_subscriptions", "field: created_at", "field: effective_date")
    edit_table_block(
        bootstrap, "org_profiles", "clustering: [org_slug, status]", "clustering: [org_slug, nope]"
    )

    result = runner.invoke(app, ["check-schema", "--config", str(bootstrap)])

    assert result.exit_code == 1, result.output
    assert "org_subscriptions: 400 invalid: The field specified for partitioning" in result.output
    assert (
        "org_profiles: 400 invalid: The field specified for clustering cannot be found in the "
        "schema. Invalid field: nope." in result.output
    )
    assert "2 problem(s) BigQuery would refuse." in result.output


def test_loader_error_exits_2_with_file_line_and_field(config_dir: Path) -> None:
    bootstrap = config_dir / "bootstrap.yml"
    edit_table_block(bootstrap, "org_usage_quotas", "type: DAY", "type: WEEK")

    result = runner.invoke(app, ["check-schema", "--config", str(bootstrap)])

    assert result.exit_code == 2, result.output
    line = next(
        number
        for number, text in enumerate(bootstrap.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: WEEK" in text
    )
    assert f"{bootstrap}:{line}: tables[3].partitioning.type:" in result.output
    assert "WEEK" in result.output


def test_bad_schema_file_exits_2_naming_it(config_dir: Path) -> None:
    schema = config_dir / "tables" / "org_profiles.json"
    fields = json.loads(schema.read_text(encoding="utf-8"))
    fields[0]["type"] = "NOT_A_TYPE"
    schema.write_text(json.dumps(fields, indent=2), encoding="utf-8")

    result = runner.invoke(app, ["check-schema", "--config", str(config_dir / "bootstrap.yml")])

    assert result.exit_code == 2, result.output
    assert "org_profiles.json" in result.output
    assert "Traceback" not in result.output


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check-schema", "--config", str(tmp_path / "absent.yml")])
    assert result.exit_code == 2


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "check-schema" in result.output
