"""The harness's markers, and what each one does to a test before it runs.

``gcp`` and ``integration`` tests are skipped unless the run asks for real services
(``--run-integration``; ``gcp`` also needs ``--backend gcp``). A ``requires_docker`` test with no
Docker daemon is an error, not a silent skip, so a machine that should run it notices;
``HARNESS_SKIP_DOCKER=1`` turns that into a skip at collection. ``emulator``, ``slow`` and
``scenario`` only select. ``harness(tier=, seed=, data=)`` is :mod:`~harness.pytest_plugin.mark`'s.
"""

from __future__ import annotations

import os

import pytest

from harness.pytest_plugin import probes
from harness.pytest_plugin.mark import MARKER, MARKER_HELP
from harness.pytest_plugin.tiers import harness_tiers

SKIP_DOCKER_ENV = "HARNESS_SKIP_DOCKER"

MARKERS = {
    "gcp": "needs real GCP (BigQuery, Cloud KMS); runs only with --run-integration and --backend gcp",
    "integration": "talks to real external services; runs only with --run-integration",
    "emulator": "needs the emulator tier (real google-cloud clients against the local REST emulators)",
    "requires_docker": "needs a Docker daemon; when none answers it errors, or is skipped with "
    "HARNESS_SKIP_DOCKER=1",
    "slow": "slow test; deselect with -m 'not slow'",
    "scenario": "a scenario file run as a test (select with --scenario PATTERN or -m scenario)",
    MARKER: MARKER_HELP,
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        line = description if description.startswith(f"{name}(") else f"{name}: {description}"
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_integration = config.getoption("harness_run_integration")
    tiers = harness_tiers(config)

    if not run_integration:
        skip_gcp = pytest.mark.skip(
            reason="needs real GCP: pass --run-integration --backend gcp and set GCP_PROJECT_ID "
            "(and GOOGLE_APPLICATION_CREDENTIALS or application-default credentials)"
        )
        skip_integration = pytest.mark.skip(
            reason="integration test: needs real external services; pass --run-integration to run it"
        )
    elif "gcp" not in tiers:
        skip_gcp = pytest.mark.skip(
            reason=f"needs real GCP: pass --backend gcp (this run uses --backend {','.join(tiers)})"
        )
        skip_integration = None
    else:
        skip_gcp = skip_integration = None

    for item in items:
        if skip_gcp is not None and item.get_closest_marker("gcp"):
            item.add_marker(skip_gcp)
        elif skip_integration is not None and item.get_closest_marker("integration"):
            item.add_marker(skip_integration)
        if item.get_closest_marker("requires_docker"):
            problem = probes.docker_problem()
            if problem is not None and os.environ.get(SKIP_DOCKER_ENV) == "1":
                item.add_marker(
                    pytest.mark.skip(reason=f"needs a Docker daemon: {problem}; {SKIP_DOCKER_ENV}=1 skips it")
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``requires_docker`` test with no daemon is an error, not a silent skip, so a machine that
    should run it notices; ``HARNESS_SKIP_DOCKER=1`` made it a skip at collection instead."""
    if item.get_closest_marker("requires_docker") and (problem := probes.docker_problem()) is not None:
        pytest.fail(
            f"needs a Docker daemon: {problem}. Start Docker, or set {SKIP_DOCKER_ENV}=1 to skip "
            "the container tests",
            pytrace=False,
        )
