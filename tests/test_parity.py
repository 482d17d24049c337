"""Parity snapshots: every BigQuery rule and every client-reachable Cloud KMS error, on every tier.

Each case makes the real client calls that hit one error (``tests/parity/bigquery_cases.py``,
``tests/parity/kms_cases.py``) under ``@pytest.mark.snapshot``: on the emulator tier the captured
exchanges are compared with ``tests/parity/snapshots/<service>/<name>.json`` field by field, on the
fake tier the fake's errors are compared with the snapshot's error answers, and on gcp
(``--run-integration --backend gcp``) the snapshot is written, validated. ``--backend emulator
--parity-update`` re-records the unvalidated ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.errors import error_classes
from fakes.kms import exceptions as kms_exceptions
from fakes.kms.models import KmsBackend
from harness.clock import ManualClock
from harness.parity import listing, store
from harness.schema.violations import RULES
from tests.parity import bigquery_cases, kms_cases
from tests.parity.kms_cases import GoogleKms, World

SNAPSHOTS = Path(__file__).parent / "parity" / "snapshots"
KMS_LOCATION = "global"


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture
def parity_warehouse(request: pytest.FixtureRequest, harness_tier: str, harness_settings: Any) -> Any:
    """A ``Warehouse``: the in-process fake, or google-cloud-bigquery (watched by the snapshot)."""
    project = harness_settings.gcp_project_id
    if harness_tier == "fake":
        from fakes.bigquery.warehouse import FakeWarehouse

        warehouse = FakeWarehouse.in_memory(ManualClock(), project)
        yield warehouse
        warehouse.engine.close()
        return
    from harness.backends.bigquery import BigQueryWarehouse

    client = request.getfixturevalue("bigquery_client")
    request.getfixturevalue("parity_snapshot").watch(client)
    yield BigQueryWarehouse(client.project, client=client)


@pytest.fixture
def parity_dataset(parity_warehouse: Any, parity_snapshot: Any) -> Iterator[str]:
    """A new dataset, removed with its contents afterwards (after the snapshot's check)."""
    dataset = parity_snapshot.unique("dataset", "parity")
    parity_warehouse.create_dataset(dataset, labels={"harness-fixture": "parity_dataset"})
    yield dataset
    parity_warehouse.delete_dataset(dataset, delete_contents=True, not_found_ok=True)


@pytest.fixture
def kms_world(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Any, parity_snapshot: Any
) -> Iterator[World]:
    """Cloud KMS for a case: the fake's model, or google-cloud-kms (watched by the snapshot). On
    gcp the versions a case made are scheduled for destruction afterwards: they bill while alive."""
    if harness_tier == "fake":
        calls: Any = KmsBackend(ManualClock(), seed=1)
    else:
        calls = GoogleKms(parity_snapshot.watch(request.getfixturevalue("kms_client")))
    location = f"projects/{harness_settings.gcp_project_id}/locations/{KMS_LOCATION}"
    world = World(calls, location, parity_snapshot.unique, parity_snapshot.placeholder)
    yield world
    if harness_tier == "gcp":
        for key in world.keys:
            calls.destroy_all_versions(key)


# -------------------------------------------------------------------------------- the snapshots


def _bigquery_param(case: bigquery_cases.Case) -> Any:
    return pytest.param(case, id=case.code, marks=pytest.mark.snapshot(f"bigquery/{case.code}"))


def _kms_param(case: kms_cases.Case) -> Any:
    return pytest.param(case, id=case.name, marks=pytest.mark.snapshot(f"kms/{case.name}"))


@pytest.mark.parametrize("case", [_bigquery_param(case) for case in bigquery_cases.CASES])
def test_bigquery_rule_matches_its_snapshot(
    case: bigquery_cases.Case, parity_snapshot: Any, parity_warehouse: Any, parity_dataset: str
) -> None:
    call = case.setup(parity_warehouse, parity_dataset)
    with parity_snapshot.expect(case.error):
        call()


@pytest.mark.parametrize("case", [_kms_param(case) for case in kms_cases.CASES])
def test_kms_error_matches_its_snapshot(
    case: kms_cases.Case, harness_tier: str, parity_snapshot: Any, kms_world: World
) -> None:
    if case.rest_only and harness_tier == "fake":
        pytest.skip(
            "an error of the REST face (page tokens, update masks) or of a call the in-process model "
            "makes outside KmsBackend (key types beyond symmetric, deletion, IAM policies, raw "
            "encryption, locations, list filters)"
        )
    call = case.setup(kms_world)
    with parity_snapshot.expect(case.error):
        call()


# ------------------------------------------------------------------------------ the coverage


def test_every_bigquery_rule_has_a_case_and_a_snapshot() -> None:
    assert sorted(case.code for case in bigquery_cases.CASES) == sorted(RULES)
    missing = [code for code in RULES if store.load(SNAPSHOTS, f"bigquery/{code}") is None]
    assert missing == []


def test_every_kms_error_has_a_snapshot_or_says_why_not() -> None:
    covered = {case.error for case in kms_cases.CASES}
    every = set(error_classes(kms_exceptions))
    assert covered.isdisjoint(kms_cases.LEFT_OUT)
    assert covered | set(kms_cases.LEFT_OUT) == every
    missing = [case.name for case in kms_cases.CASES if store.load(SNAPSHOTS, f"kms/{case.name}") is None]
    assert missing == []


def test_every_unconfirmed_text_starts_unvalidated() -> None:
    """A snapshot whose expected error's text nobody has seen the real service send cannot have
    been validated by anything but a gcp run; the ones shipped here are all emulator-made."""
    snapshots = store.load_all(SNAPSHOTS)
    unconfirmed = [s.name for s in snapshots if s.unconfirmed]
    assert unconfirmed, "the BigQuery rules and KMS errors include unconfirmed texts"
    assert [s.name for s in snapshots if s.unconfirmed and s.validated] == []
    expected = {rule.code for rule in RULES.values() if rule.confirmed is None}
    expected = {f"bigquery/{code}" for code in expected} | {
        f"kms/{case.name}" for case in kms_cases.CASES if getattr(case.error, "confirmed", None) is None
    }
    assert set(unconfirmed) == expected


# --------------------------------------------------------------------------------- the listing


def test_parity_list_prints_the_readme_table() -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["parity", "list", "--dir", str(SNAPSHOTS)])
    assert result.exit_code == 0, result.output
    snapshots = store.load_all(SNAPSHOTS)
    validated = sum(s.validated for s in snapshots)
    assert f"| all | {validated} | {len(snapshots) - validated} | {len(snapshots)} |" in result.output
    assert "| `bigquery/partition_field_not_found` |" in result.output
    assert "not confirmed: PartitionExpirationNotPositive" in result.output


def test_the_readme_lists_every_snapshot_as_harness_parity_list_does() -> None:
    """The README says which behaviours real GCP has validated: the same table, kept equal."""
    readme = (SNAPSHOTS.parent.parent.parent / "README.md").read_text(encoding="utf-8")
    assert listing.markdown(store.load_all(SNAPSHOTS)) in readme


def test_parity_list_refuses_a_missing_directory_or_a_broken_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    runner = CliRunner()
    missing = runner.invoke(app, ["parity", "list", "--dir", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "no snapshot directory" in missing.output
    (tmp_path / "kms").mkdir()
    (tmp_path / "kms" / "x.json").write_text('{"name": "kms/x", "validated": 1, "exchanges": []}')
    broken = runner.invoke(app, ["parity", "list", "--dir", str(tmp_path)])
    assert broken.exit_code == 2
    assert "x.json: validated: true or false" in broken.output


@pytest.mark.harness(tier="emulator")
def test_the_gcp_cleanup_schedules_every_live_version_for_destruction(
    kms_client: Any, kms_key_name: str
) -> None:
    calls = GoogleKms(kms_client)
    kms_client.create_crypto_key_version(parent=kms_key_name, crypto_key_version={})
    calls.destroy_all_versions(kms_key_name)
    states = {v.state.name for v in kms_client.list_crypto_key_versions(parent=kms_key_name)}
    assert states == {"DESTROY_SCHEDULED"}
