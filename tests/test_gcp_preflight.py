"""The gcp tier's preflight, proved on the emulator tier's real clients (google-cloud-bigquery,
google-cloud-kms over REST, the httpx provider clients against the provider emulators): each
problem is one line naming the variable to fix, and ``harness run --backend gcp`` and the pytest
plugin's gcp tier stop (exit 2 / an error) before anything is created.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from typer.testing import CliRunner

from harness.backends.emulator import EmulatorBackends, build_emulator
from harness.backends.gcp_access import credentials_problem, kms_key_problem, project_problem
from harness.backends.kms import CloudKmsKeyManager
from harness.cli import app
from harness.clock import ManualClock
from harness.faults.backend import BackendFault, Port
from harness.ports import Provider
from harness.providers.usage_access import usage_access_problem
from harness.scenario.gcp_preflight import gcp_preflight, platform_problems, providers_used
from harness.scenario.loader import load_scenario
from harness.services.settings import Settings

pytest_plugins = ["pytester"]

DAY = date(2026, 1, 5)
OWN_SECRETS = {"ca_root_api_key": "a-root-key-of-our-own-1234", "stripe_webhook_secret": "whsec_our_own"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorBackends]:
    with build_emulator(clock=ManualClock(), seed=11) as backends:
        yield backends


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HARNESS_BACKEND",
        "GCP_PROJECT_ID",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CA_ROOT_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    ):
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    """A loopback port nothing listens on: a token endpoint that refuses the connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _service_account(path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "acme-prod",
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": "nightly@acme-prod.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path


# ------------------------------------------------------------------------------ provider keys
def test_a_regular_openai_key_is_named_as_not_an_admin_key(emulator: EmulatorBackends) -> None:
    source = emulator.platform.usage_sources[Provider.OPENAI]
    problem = usage_access_problem(source, Provider.OPENAI, emulator.openai.issue_key(), DAY)
    assert problem is not None
    assert problem.startswith("OPENAI_API_KEY is not an admin key (openai answered 403: ")
    assert "Missing scopes: api.usage.read" in problem
    assert "Admin API key (sk-admin-...)" in problem


def test_a_regular_anthropic_key_is_named_as_not_an_admin_key(emulator: EmulatorBackends) -> None:
    source = emulator.platform.usage_sources[Provider.ANTHROPIC]
    problem = usage_access_problem(source, Provider.ANTHROPIC, emulator.anthropic.issue_key(), DAY)
    assert problem == (
        "ANTHROPIC_API_KEY is not an admin key (anthropic answered 401: invalid x-api-key); the usage "
        "and cost reports need an Admin API key (sk-ant-admin...)"
    )


def test_an_unknown_admin_shaped_key_is_refused_not_called_a_regular_key(emulator: EmulatorBackends) -> None:
    source = emulator.platform.usage_sources[Provider.ANTHROPIC]
    problem = usage_access_problem(source, Provider.ANTHROPIC, "sk-ant-admin01-" + "x" * 40, DAY)
    assert problem is not None and problem.startswith("ANTHROPIC_API_KEY was refused by anthropic (")


@pytest.mark.parametrize("provider", list(Provider))
def test_an_admin_key_reads_the_usage_report(emulator: EmulatorBackends, provider: Provider) -> None:
    fake = emulator.openai if provider is Provider.OPENAI else emulator.anthropic
    source = emulator.platform.usage_sources[provider]
    assert usage_access_problem(source, provider, fake.issue_admin_key(), DAY) is None


def test_the_usage_read_is_one_request_for_one_day(emulator: EmulatorBackends) -> None:
    key = emulator.openai.issue_admin_key()
    before = len(emulator.openai.requests)
    assert (
        usage_access_problem(emulator.platform.usage_sources[Provider.OPENAI], Provider.OPENAI, key, DAY)
        is None
    )
    assert len(emulator.openai.requests) == before + 1


# ------------------------------------------------------------------------------- project and key
def test_the_configured_project_and_kms_key_pass(emulator: EmulatorBackends) -> None:
    assert project_problem(emulator.platform.warehouse) is None  # type: ignore[arg-type]
    assert kms_key_problem(emulator.platform.keys, Settings().kms_key_name) is None


def test_a_missing_kms_key_is_named_with_its_variable(emulator: EmulatorBackends) -> None:
    assert emulator.emulators is not None
    missing = Settings().kms_key_name.rsplit("/", 1)[0] + "/no-such-key"
    keys = CloudKmsKeyManager(
        missing, credentials=AnonymousCredentials(), endpoint=emulator.emulators.kms_url
    )
    problem = kms_key_problem(keys, missing)
    assert problem is not None and problem.startswith(f"KMS_KEY_NAME={missing}: no such key (")


def test_bigquery_refusing_the_datasets_list_is_named_with_the_project(emulator: EmulatorBackends) -> None:
    assert emulator.faults is not None
    emulator.faults.arm(BackendFault(port=Port.WAREHOUSE, error="quota_exceeded", operation="list_datasets"))
    try:
        problem = project_problem(emulator.platform.warehouse)  # type: ignore[arg-type]
    finally:
        emulator.faults.clear()
    assert problem is not None
    assert problem.startswith(
        "GCP_PROJECT_ID=cloudact-local: BigQuery refused to list its datasets (403 quotaExceeded"
    )


def test_platform_problems_lists_only_what_is_wrong(emulator: EmulatorBackends) -> None:
    keys = {
        Provider.OPENAI: emulator.openai.issue_admin_key(),
        Provider.ANTHROPIC: emulator.anthropic.issue_key(),
    }
    problems = platform_problems(emulator.platform, Settings().kms_key_name, keys, day=DAY)
    assert len(problems) == 1 and problems[0].startswith("ANTHROPIC_API_KEY is not an admin key")


# -------------------------------------------------------------------------------------- credentials
def test_a_missing_credentials_file_is_named(tmp_path: Path) -> None:
    settings = Settings(google_application_credentials=str(tmp_path / "nope.json"))
    credentials, problem = credentials_problem(settings)
    assert credentials is None and problem is not None
    assert problem.startswith(f"GOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'nope.json'}: ")


def test_a_key_whose_token_endpoint_does_not_answer_gets_no_token(tmp_path: Path) -> None:
    path = _service_account(tmp_path / "sa.json", f"http://127.0.0.1:{_closed_port()}/token")
    _, problem = credentials_problem(Settings(google_application_credentials=str(path)))
    assert problem is not None
    assert problem.startswith(f"GOOGLE_APPLICATION_CREDENTIALS={path}: could not obtain an access token: ")


def test_the_preflight_stops_at_settings_and_credentials_before_any_read(tmp_path: Path) -> None:
    problems = gcp_preflight(
        Settings(google_application_credentials=str(tmp_path / "nope.json")), [Provider.OPENAI]
    )
    assert [p.split(" ")[0].split("=")[0] for p in problems] == [
        "GCP_PROJECT_ID",
        "CA_ROOT_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ]


def test_the_providers_checked_are_those_the_scenarios_connect_with_a_real_key() -> None:
    full = load_scenario(ROOT / "scenarios/full_onboarding.yml")
    no_integration = load_scenario(ROOT / "scenarios/onboarding_only.yml")
    anthropic = load_scenario(ROOT / "scenarios/anthropic_flow.yml")
    assert providers_used([full]) == {Provider.OPENAI}
    assert providers_used([no_integration]) == set()
    assert providers_used([full, anthropic]) == {Provider.OPENAI, Provider.ANTHROPIC}


# ----------------------------------------------------------------------------------- entry points
def _gcp_env(monkeypatch: pytest.MonkeyPatch, credentials: Path) -> None:
    monkeypatch.setenv("GCP_PROJECT_ID", "acme-prod")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    monkeypatch.setenv("CA_ROOT_API_KEY", OWN_SECRETS["ca_root_api_key"])
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", OWN_SECRETS["stripe_webhook_secret"])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "p" * 40)


def test_harness_run_backend_gcp_stops_before_the_first_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _gcp_env(monkeypatch, _service_account(tmp_path / "sa.json", f"http://127.0.0.1:{_closed_port()}/token"))
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", str(ROOT / "scenarios/full_onboarding.yml"), "--backend", "gcp", "--runs-dir", str(runs)]
    )
    assert result.exit_code == 2, result.output
    assert "error: gcp preflight: GOOGLE_APPLICATION_CREDENTIALS=" in result.output
    assert "could not obtain an access token" in result.output
    assert not runs.exists()  # no scenario started, so no run record
    assert "p" * 40 not in result.output


def test_the_pytest_plugins_gcp_tier_runs_the_preflight_once_and_fails_every_gcp_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _gcp_env(monkeypatch, _service_account(tmp_path / "sa.json", f"http://127.0.0.1:{_closed_port()}/token"))
    pytester.makeconftest(
        """
        import harness.scenario.gcp_preflight as preflight

        calls = []
        real = preflight.gcp_preflight

        def counting(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)

        preflight.gcp_preflight = counting

        def pytest_sessionfinish(session):
            print(f"preflight calls: {len(calls)}")
        """
    )
    pytester.makepyfile(
        """
        def test_one(harness_backends): pass
        def test_two(api_client): pass
        """
    )
    result = pytester.runpytest("-s", "--run-integration", "--backend", "gcp")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*gcp preflight failed:*", "*could not obtain an access token*"] * 2)
    assert "preflight calls: 1" in result.stdout.str()  # once per session, not per test
