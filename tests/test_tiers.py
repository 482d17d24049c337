"""Tier selection: which backends each tier builds, what each refuses, and the emulator tier served
by another process (``harness emulators up`` + its environment) or by ``harness serve``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials
from typer.testing import CliRunner

from harness.backends import Backend, build_backends, build_warehouse
from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.emulator import EmulatorConfigError, build_emulator
from harness.backends.fake import ENGINE_THREADS, build_fake, engine_limits
from harness.backends.gcp import GcpConfigError, build_gcp
from harness.backends.kms import CloudKmsKeyManager
from harness.cli import app
from harness.clock import ManualClock, SystemClock
from harness.emulators import Emulators
from harness.onboarding.bootstrap import bootstrap
from harness.scenario.loader import load_scenario
from harness.scenario.runner import run_scenario
from harness.serve import ServiceProcess
from harness.services.settings import Settings

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
EMULATOR_VARIABLES = ("BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")


@pytest.fixture
def no_emulator_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EMULATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def served() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), seed=5) as emulators:
        yield emulators


def test_the_fake_tier_engine_runs_on_one_duckdb_thread_unless_the_environment_caps_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert engine_limits({}).threads == ENGINE_THREADS == 1
    assert engine_limits({"HARNESS_BIGQUERY_THREADS": "2"}).threads == 2
    for environ, threads in ((None, 1), ("2", 2)):
        if environ is None:
            monkeypatch.delenv("HARNESS_BIGQUERY_THREADS", raising=False)
        else:
            monkeypatch.setenv("HARNESS_BIGQUERY_THREADS", environ)
        with build_fake(clock=ManualClock(NOW)) as fake:
            sql = "SELECT CAST(current_setting('threads') AS INT64) AS n"
            assert fake.engine.query(fake.platform.warehouse.project, sql).rows == [{"n": threads}]


def test_the_emulator_tier_runs_the_real_adapters_on_the_callers_clock(no_emulator_env: None) -> None:
    clock = ManualClock(NOW)
    with build_backends(Backend.EMULATOR, clock=clock, seed=3) as backends:
        assert isinstance(backends.platform.warehouse, BigQueryWarehouse)
        assert isinstance(backends.platform.keys, CloudKmsKeyManager)
        assert backends.clock is clock and backends.emulators is not None  # type: ignore[attr-defined]
        bootstrap(backends.platform.warehouse, backends.platform.config)
        clock.advance(timedelta(hours=5))
        now = backends.platform.warehouse.query("SELECT CURRENT_TIMESTAMP() AS t").scalar()
        assert now == NOW + timedelta(hours=5)  # the emulator's engine reads the same clock
        assert backends.openai.issue_admin_key().startswith("sk-admin-")


def test_closed_emulator_backends_are_reused_with_fresh_state(no_emulator_env: None) -> None:
    first = build_emulator(clock=ManualClock(NOW), seed=1)
    bootstrap(first.platform.warehouse, first.platform.config)
    ports = dict(first.emulators.ports)  # type: ignore[union-attr]
    key = first.openai.issue_key()
    first.close()
    with build_emulator(clock=ManualClock(NOW + timedelta(days=1)), seed=1) as second:
        assert second.emulators.ports == ports  # type: ignore[union-attr]  # same servers...
        assert second.platform.warehouse.list_datasets() == []  # ...nothing of the first run
        assert not second.openai.is_valid(key)  # a fresh provider fake...
        assert second.openai.issue_key() == key  # ...on the same seed mints the same keys


def test_external_emulators_come_from_the_environment(
    served: Emulators, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in served.env().items():
        monkeypatch.setenv(name, value)
    with build_backends(Backend.EMULATOR) as backends:
        assert backends.emulators is None and backends.openai is None  # type: ignore[attr-defined]
        assert isinstance(backends.clock, SystemClock)
        sealed = backends.platform.keys.encrypt(b"secret", aad=b"acme")
        assert backends.platform.keys.decrypt(sealed.ciphertext, aad=b"acme") == b"secret"
    # harness bootstrap --backend emulator: the tables land in the served emulator.
    result = CliRunner().invoke(app, ["bootstrap", "--backend", "emulator"])
    assert result.exit_code == 0, result.output
    assert "15 tables created" in result.output
    assert len(served.engine.list_tables(Settings().gcp_project_id, "organizations")) == 15  # type: ignore[union-attr]


def test_half_named_external_emulators_are_refused(
    monkeypatch: pytest.MonkeyPatch, no_emulator_env: None
) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9")
    with pytest.raises(
        EmulatorConfigError, match="KMS_ENDPOINT, OPENAI_BASE_URL, ANTHROPIC_BASE_URL are not"
    ):
        build_backends(Backend.EMULATOR)


def test_bootstrap_on_the_emulator_tier_without_emulators_says_how_to_start_them(
    no_emulator_env: None,
) -> None:
    result = CliRunner().invoke(app, ["bootstrap", "--backend", "emulator"])
    assert result.exit_code == 2
    assert "harness emulators up" in result.output and "BIGQUERY_EMULATOR_HOST" in result.output
    with pytest.raises(ValueError, match="needs running emulators"):
        build_warehouse(Backend.EMULATOR, clock=SystemClock())


def test_gcp_needs_a_project_and_refuses_a_manual_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCP_PROJECT_ID", raising=False)
    with pytest.raises(GcpConfigError, match="GCP_PROJECT_ID is not set"):
        build_gcp(Settings())
    with pytest.raises(ValueError, match="real time"):
        build_backends(Backend.GCP, clock=ManualClock(NOW))


def test_gcp_builds_the_same_adapters_against_googles_endpoints() -> None:
    """No request is sent: the clients are only built (real calls run nightly, not here)."""
    settings = Settings(
        gcp_project_id="acme-prod",
        openai_base_url="https://proxy.example/v1",
        ca_root_api_key="a-root-key-of-our-own",
        stripe_webhook_secret="whsec_of_our_own",
    )
    backends = build_gcp(settings, credentials=AnonymousCredentials())
    warehouse = backends.platform.warehouse
    assert isinstance(warehouse, BigQueryWarehouse) and warehouse.project == "acme-prod"
    assert warehouse.client._connection.API_BASE_URL == "https://bigquery.googleapis.com"
    assert isinstance(backends.platform.keys, CloudKmsKeyManager)
    assert backends.openai is None and isinstance(backends.clock, SystemClock)
    # OPENAI_BASE_URL in the openai SDK's shape (ending in /v1) is accepted; the client adds /v1.
    assert backends.platform.validators["openai"].base_url == "https://proxy.example"  # type: ignore[index,attr-defined]


def test_harness_serve_on_the_emulator_tier_runs_a_scenario_live(no_emulator_env: None) -> None:
    scenario = load_scenario(REPO / "scenarios" / "integration_only.yml")
    with ServiceProcess(tier=Backend.EMULATOR, seed=9) as services:
        info = httpx.get(f"{services.api_url}/_harness", headers={"X-CA-Root-Key": services.root_key})
        assert info.json()["tier"] == "emulator"
        outcome = run_scenario(
            scenario, api_url=services.api_url, pipeline_url=services.pipeline_url, runs_dir=None
        )
        assert outcome.ok, outcome.failure_report()
        warehouse = services.backends.platform.warehouse  # type: ignore[union-attr]
        assert isinstance(warehouse, BigQueryWarehouse)
