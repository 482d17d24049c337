"""The emulator tier end to end: the four emulators served on loopback ports from one process, and
the real adapters (google-cloud-bigquery, google-cloud-kms over REST, the httpx provider clients)
reaching them over HTTP through the api-service and the pipeline-service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.emulator import build_emulator_platform
from harness.backends.kms import CloudKmsKeyManager
from harness.clock import ManualClock
from harness.emulators import Emulators
from harness.onboarding.bootstrap import bootstrap
from harness.services.api import create_api_app
from harness.services.pipeline import create_pipeline_app
from harness.services.settings import Settings

ROOT = {"X-CA-Root-Key": "local-root-key"}
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    with Emulators(clock=ManualClock(NOW), seed=7) as served:
        print(f"emulators started in {served.startup_seconds:.3f} s")
        yield served


def test_env_names_the_four_emulators(emulators: Emulators) -> None:
    env = emulators.env()
    assert set(env) == {"BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"}
    assert env["BIGQUERY_EMULATOR_HOST"] == f"http://127.0.0.1:{emulators.ports['bigquery']}"
    assert len(set(emulators.ports.values())) == 4
    assert emulators.startup_seconds is not None and emulators.startup_seconds < 10
    key = emulators.openai.issue_admin_key()  # type: ignore[union-attr]
    models = httpx.get(f"{env['OPENAI_BASE_URL']}/models", headers={"Authorization": f"Bearer {key}"})
    assert models.status_code == 200, models.text


def test_the_settings_kms_key_exists_and_encrypts_through_the_real_client(emulators: Emulators) -> None:
    from google.auth.credentials import AnonymousCredentials

    keys = CloudKmsKeyManager(
        Settings().kms_key_name, credentials=AnonymousCredentials(), endpoint=emulators.kms_url
    )
    sealed = keys.encrypt(b"secret", aad=b"org")
    assert keys.decrypt(sealed.ciphertext, aad=b"org") == b"secret"


def test_the_embedded_tier_reaches_its_emulators_past_a_proxy_of_the_environment(
    emulators: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy named in the environment (and no NO_PROXY) is for the outside world: the embedded
    emulator tier's Google clients reach the loopback emulators directly (their sessions do not
    read the environment, which requests would do on every request), while an adapter built
    for Google keeps honouring it."""
    from google.auth.credentials import AnonymousCredentials

    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there: a proxied call fails
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    platform = build_emulator_platform(Settings(), emulators)
    assert isinstance(platform.warehouse, BigQueryWarehouse)
    assert platform.warehouse.query("SELECT 1 AS one").rows == [{"one": 1}]
    sealed = platform.keys.encrypt(b"secret", aad=b"org")
    assert platform.keys.decrypt(sealed.ciphertext, aad=b"org") == b"secret"
    google = BigQueryWarehouse("p", credentials=AnonymousCredentials(), endpoint=emulators.bigquery_url)
    assert google.client._http.trust_env is True
    kms = CloudKmsKeyManager(Settings().kms_key_name, credentials=AnonymousCredentials())
    assert kms.client._transport._session.trust_env is True


def test_onboard_integrate_and_run_openai_usage_cost_over_http(emulators: Emulators) -> None:
    platform = build_emulator_platform(Settings(), emulators)
    assert isinstance(platform.warehouse, BigQueryWarehouse)
    report = bootstrap(platform.warehouse, platform.config)
    assert len(report.created) == 15

    with TestClient(create_api_app(platform)) as api, TestClient(create_pipeline_app(platform)) as pipe:
        onboarded = api.post(
            "/api/v1/organizations/onboard",
            headers=ROOT,
            json={"org_slug": "acme", "company_name": "Acme", "admin_email": "ops@acme.example"},
        )
        assert onboarded.status_code == 201, onboarded.text
        headers = {"X-API-Key": onboarded.json()["api_key"]}

        credential = emulators.openai.issue_admin_key()  # type: ignore[union-attr]
        setup = api.post(
            "/api/v1/integrations/acme/openai/setup", headers=headers, json={"credential": credential}
        )
        assert setup.status_code == 201, setup.text

        run = pipe.post(
            "/api/v1/pipelines/run/acme/openai/cost/usage_cost",
            headers=headers,
            json={"start_date": "2025-03-01", "end_date": "2025-03-07"},
        )
        assert run.status_code == 201, run.text
        body = run.json()
        assert body["status"] == "SUCCESS", body
        assert body["rows_processed"] > 0

    # The rows are in the BigQuery emulator, read back through the real client.
    dataset = f"{platform.warehouse.project}.{platform.org_dataset('acme')}"
    rows = platform.warehouse.query(f"SELECT COUNT(*) AS n FROM `{dataset}.llm_usage_daily`", {}).rows
    assert int(rows[0]["n"]) > 0
    # ...and the provider emulator saw the pipeline's requests over HTTP.
    assert emulators.openai.requests  # type: ignore[union-attr]


def test_emulators_up_print_env_then_stops_on_sigint() -> None:
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "harness"), "emulators", "up", "--port-base", "0", "--print-env"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while len(lines) < 4 and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line.strip())
        names = [line.split("=", 1)[0] for line in lines]
        assert names == [
            "export BIGQUERY_EMULATOR_HOST",
            "export KMS_ENDPOINT",
            "export OPENAI_BASE_URL",
            "export ANTHROPIC_BASE_URL",
        ], lines
        kms = lines[1].split("=", 1)[1]
        assert httpx.get(f"{kms}/v1/{Settings().kms_key_name}").status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
