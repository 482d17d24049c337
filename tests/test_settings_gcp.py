"""The gcp tier refuses the public local secrets (``CA_ROOT_API_KEY``, ``STRIPE_WEBHOOK_SECRET``)
whichever entry point chooses it, and ``harness serve`` prints no secret it did not make.

Entry points that choose gcp: ``HARNESS_BACKEND=gcp`` (the settings model), ``build_gcp`` (and so
``build_backends("gcp")``, ``ServiceProcess(tier=gcp)``, the runner and the pytest plugin's
``harness_backends``), ``harness run --backend gcp``, ``harness serve --backend gcp`` and
``./run_e2e.sh --backend gcp`` (tests/test_run_e2e_script.py).
"""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from pydantic import ValidationError
from typer.testing import CliRunner

from harness.backends import Backend, build_backends
from harness.backends.gcp import GcpConfigError, build_gcp
from harness.cli import app
from harness.cli.serve import _banner, serve_forever
from harness.scenario.model import Scenario, Tier
from harness.scenario.outcome import ScenarioUsageError
from harness.scenario.runner import run_scenario
from harness.serve import ServiceProcess
from harness.services.settings import Settings, SettingsError, settings_from_environment

pytest_plugins = ["pytester"]

OWN = {"CA_ROOT_API_KEY": "a-root-key-of-our-own-1234", "STRIPE_WEBHOOK_SECRET": "whsec_our_own_secret"}
LOCAL = ("CA_ROOT_API_KEY", "STRIPE_WEBHOOK_SECRET")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HARNESS_BACKEND",
        "GCP_PROJECT_ID",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        *LOCAL,
    ):
        monkeypatch.delenv(name, raising=False)


def _named_both(text: str) -> None:
    for variable in LOCAL:
        assert f"{variable} is the local default" in text, text


# ------------------------------------------------------------------------------- the model itself
def test_harness_backend_gcp_refuses_both_local_secrets_naming_each_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    with pytest.raises(ValidationError) as caught:
        Settings()
    _named_both(str(caught.value))
    with pytest.raises(SettingsError) as refused:
        settings_from_environment()
    assert len(refused.value.problems) == 2
    _named_both("\n".join(refused.value.problems))


def test_one_local_secret_left_is_named_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    monkeypatch.setenv("CA_ROOT_API_KEY", OWN["CA_ROOT_API_KEY"])
    with pytest.raises(SettingsError) as refused:
        settings_from_environment()
    assert [p.split(" ")[0] for p in refused.value.problems] == ["STRIPE_WEBHOOK_SECRET"]


def test_own_secrets_pass_on_gcp_and_the_local_defaults_stay_on_the_other_tiers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for tier in ("fake", "emulator"):
        monkeypatch.setenv("HARNESS_BACKEND", tier)
        assert Settings().ca_root_api_key.get_secret_value() == "local-root-key"
    for name, value in OWN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    assert Settings().harness_backend == "gcp"


def test_for_tier_applies_the_same_check_without_the_environment_naming_gcp() -> None:
    settings = Settings()
    assert settings.for_tier("emulator").harness_backend == "emulator"
    with pytest.raises(SettingsError) as refused:
        settings.for_tier("gcp")
    _named_both(str(refused.value))
    own = Settings(ca_root_api_key=OWN["CA_ROOT_API_KEY"], stripe_webhook_secret=OWN["STRIPE_WEBHOOK_SECRET"])
    assert own.for_tier("gcp").harness_backend == "gcp"


def test_a_refusal_never_shows_a_secret_of_the_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    monkeypatch.setenv("CA_ROOT_API_KEY", OWN["CA_ROOT_API_KEY"])
    with pytest.raises(SettingsError) as refused:
        settings_from_environment()
    assert OWN["CA_ROOT_API_KEY"] not in str(refused.value)


# ---------------------------------------------------------------------- build_gcp and its callers
def test_build_gcp_refuses_the_local_secrets_with_the_project_problem_too() -> None:
    with pytest.raises(GcpConfigError) as caught:
        build_gcp(Settings(), credentials=AnonymousCredentials())
    assert "GCP_PROJECT_ID is not set" in str(caught.value)
    _named_both(str(caught.value))
    with pytest.raises(GcpConfigError, match="STRIPE_WEBHOOK_SECRET is the local default"):
        build_backends(
            Backend.GCP, Settings(gcp_project_id="acme-prod", ca_root_api_key=OWN["CA_ROOT_API_KEY"])
        )


def test_a_service_process_on_gcp_refuses_to_start() -> None:
    services = ServiceProcess(tier=Backend.GCP, settings=Settings(gcp_project_id="acme-prod"))
    with pytest.raises(Exception, match="CA_ROOT_API_KEY is the local default") as caught:
        services.start()
    assert type(caught.value).__name__ == "ServeError"


def test_a_service_process_with_backends_passed_in_still_refuses_them_on_gcp() -> None:
    with build_backends(Backend.FAKE) as backends:
        services = ServiceProcess(tier=Backend.GCP, backends=backends, settings=Settings())
        with pytest.raises(Exception, match="STRIPE_WEBHOOK_SECRET is the local default"):
            services.start()


def test_the_runner_refuses_the_local_secrets_on_gcp_before_anything_runs() -> None:
    scenario = Scenario.model_validate({"name": "x", "steps": [{"bootstrap": {}}]})
    with pytest.raises(ScenarioUsageError) as caught:
        run_scenario(scenario, tier=Tier.GCP, runs_dir=None, settings=Settings())
    _named_both(str(caught.value))


# ------------------------------------------------------------------------------ the commands
def test_harness_run_backend_gcp_names_the_local_secrets_and_exits_2() -> None:
    result = CliRunner().invoke(
        app, ["run", "scenarios/bootstrap_only.yml", "--backend", "gcp", "--runs-dir", "/nonexistent"]
    )
    assert result.exit_code == 2, result.output
    _named_both(result.output)
    assert "Traceback" not in result.output


def test_harness_run_with_harness_backend_gcp_exits_2_before_reading_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    result = CliRunner().invoke(app, ["run", "scenarios/bootstrap_only.yml"])
    assert result.exit_code == 2, result.output
    _named_both(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_harness_serve_backend_gcp_exits_2_naming_the_variables() -> None:
    lines: list[str] = []
    status = serve_forever(api_port=0, pipeline_port=0, tier=Backend.GCP, out=lines.append, err=lines.append)
    assert status == 2
    _named_both("\n".join(lines))


def test_harness_serve_with_harness_backend_gcp_exits_2_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    lines: list[str] = []
    status = serve_forever(api_port=0, pipeline_port=0, tier=Backend.GCP, out=lines.append, err=lines.append)
    assert status == 2
    assert len([line for line in lines if line.startswith("error: invalid settings")]) == 2
    _named_both("\n".join(lines))


def test_the_pytest_plugins_gcp_tier_refuses_the_local_secrets(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCP_PROJECT_ID", "acme-prod")
    pytester.makepyfile("def test_backends(harness_backends): pass")
    result = pytester.runpytest("--run-integration", "--backend=gcp")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CA_ROOT_API_KEY is the local default*"])


def test_the_pytest_plugin_with_harness_backend_gcp_names_the_refused_variables(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_BACKEND", "gcp")
    pytester.makepyfile("def test_settings(harness_settings): pass")
    result = pytester.runpytest("--run-integration")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*settings refused:*",
            "*CA_ROOT_API_KEY is the local default*",
            "*STRIPE_WEBHOOK_SECRET is the local*",
        ]
    )


# --------------------------------------------------------------------- serve prints no given secret
def test_serve_shows_the_local_default_but_masks_a_root_key_it_was_given() -> None:
    default = ServiceProcess(settings=Settings())
    assert default.root_key_shown.startswith("local-root-key")
    given = ServiceProcess(settings=Settings(ca_root_api_key=OWN["CA_ROOT_API_KEY"]))
    assert OWN["CA_ROOT_API_KEY"] not in given.root_key_shown
    assert given.root_key_shown.startswith("****1234")
    short = ServiceProcess(settings=Settings(ca_root_api_key="short-key"))
    assert "key" not in short.root_key_shown.split("(")[0]


def test_the_serve_banner_holds_the_keys_it_minted_and_no_secret_it_was_given() -> None:
    settings = Settings(
        ca_root_api_key=OWN["CA_ROOT_API_KEY"], stripe_webhook_secret=OWN["STRIPE_WEBHOOK_SECRET"]
    )
    with ServiceProcess(settings=settings, seed=3) as services:
        minted = {"OpenAI": services.mint_admin_key("openai")}
        text = "\n".join(_banner(services, minted))
    assert OWN["CA_ROOT_API_KEY"] not in text and OWN["STRIPE_WEBHOOK_SECRET"] not in text
    assert minted["OpenAI"] in text  # made by this process, shown once
    assert "X-CA-Root-Key: ****1234" in text
