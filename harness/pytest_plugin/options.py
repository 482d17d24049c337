"""The plugin's command-line options, their checks at configure time, and the report header.

Options that contradict each other are usage errors before anything is collected: ``--backend
gcp`` needs ``--run-integration`` (it talks to real BigQuery and Cloud KMS), and ``--api-url`` /
``--pipeline-url`` go together (both services must share one set of backends).
``--harness-isolation`` (or the ``harness_isolation`` ini value) is ``function`` or ``session``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from harness.pytest_plugin.tiers import BACKEND_ENV, BACKENDS, harness_tiers, parse_tiers, store_tiers

ISOLATION_MODES = ("function", "session")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "CloudAct harness")
    group.addoption(
        "--backend",
        dest="harness_backend",
        default=os.environ.get(BACKEND_ENV) or "fake",
        metavar="TIER[,TIER]",
        help=f"tier(s) to run against: {', '.join(BACKENDS)}, or several comma-separated "
        "(fake,emulator runs every tier-aware test and scenario on both) (default: "
        f"${BACKEND_ENV} or fake)",
    )
    group.addoption(
        "--run-integration",
        dest="harness_run_integration",
        action="store_true",
        default=False,
        help="run tests marked gcp/integration (they need real cloud services and credentials)",
    )
    group.addoption(
        "--api-url",
        dest="harness_api_url",
        default=None,
        metavar="URL",
        help="run against a running api-service (e.g. http://127.0.0.1:8000) instead of in-process; "
        "needs --pipeline-url too",
    )
    group.addoption(
        "--pipeline-url",
        dest="harness_pipeline_url",
        default=None,
        metavar="URL",
        help="run against a running pipeline-service (e.g. http://127.0.0.1:8001); needs --api-url too",
    )
    group.addoption(
        "--scenario",
        dest="harness_scenario",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only the scenario items whose name or path matches PATTERN: a glob "
        "(full_*, regressions/*) or else a substring; repeatable; other tests are not affected",
    )
    isolation_help = (
        "emulator state behind bigquery_client, kms_client, openai_client...: 'function' resets it "
        "before every test (default), 'session' keeps it for the whole run (faster; tests must not "
        "depend on each other's data)"
    )
    group.addoption(
        "--harness-isolation",
        dest="harness_isolation",
        default=None,
        metavar="{function,session}",
        help=isolation_help + " (default: the harness_isolation ini value, else function)",
    )
    parser.addini("harness_isolation", isolation_help, default="function")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    tiers = parse_tiers(config.getoption("harness_backend"))
    store_tiers(config, tiers)
    if "gcp" in tiers and not config.getoption("harness_run_integration"):
        hint = f" ({BACKEND_ENV}=gcp is set in the environment)" if os.environ.get(BACKEND_ENV) else ""
        raise pytest.UsageError(
            "--backend gcp talks to real BigQuery and Cloud KMS, so it needs --run-integration too" + hint
        )

    isolation(config)  # a bad value stops the run here, not at the first client fixture
    api_url, pipeline_url = live_urls(config)
    if (api_url is None) != (pipeline_url is None):
        given, missing = ("--api-url", "--pipeline-url") if api_url else ("--pipeline-url", "--api-url")
        raise pytest.UsageError(
            f"{given} needs {missing} too: both services must share one set of backends, so both run "
            "live or both in-process"
        )


def pytest_report_header(config: pytest.Config) -> str:
    integration = "on" if config.getoption("harness_run_integration") else "off"
    header = (
        f"harness: backend={','.join(harness_tiers(config))}, integration={integration}, "
        f"hypothesis profile={settings.get_current_profile_name()}"
    )
    api_url, pipeline_url = live_urls(config)
    if api_url:
        header += f", live services: api={api_url} pipeline={pipeline_url}"
    return header


def isolation(config: pytest.Config) -> str:
    """``function`` or ``session``: ``--harness-isolation``, else the ``harness_isolation`` ini value."""
    option = config.getoption("harness_isolation")
    value = str(option if option is not None else config.getini("harness_isolation")).strip()
    if value not in ISOLATION_MODES:
        source = "--harness-isolation" if option is not None else "the harness_isolation ini value"
        raise pytest.UsageError(f"{source} {value!r}: choose {' or '.join(ISOLATION_MODES)}")
    return value


def live_urls(config: pytest.Config) -> tuple[str | None, str | None]:
    """``--api-url`` and ``--pipeline-url`` (both None for an in-process run)."""
    return config.getoption("harness_api_url"), config.getoption("harness_pipeline_url")
