"""pytest plugin: options, markers, hypothesis profiles and fixtures for the harness.

Registered as the ``harness`` pytest11 entry point, so every pytest run in an environment where
the project is installed loads it (pytester runs included).

Options
    ``--backend {fake,emulator,gcp}``  tier the tests run against (default: ``$HARNESS_BACKEND`` or
    ``fake``). ``--run-integration``  enable tests that need real cloud services; ``--backend gcp``
    without it is a usage error.

Markers
    ``gcp``, ``integration`` (skipped unless ``--run-integration``; ``gcp`` also needs
    ``--backend gcp``), ``emulator``, ``requires_docker`` (skipped when no Docker daemon answers),
    ``slow``.

Hypothesis profiles (registered at import, chosen with ``$HARNESS_HYPOTHESIS_PROFILE``)
    ``default``  50 examples, no deadline, ``too_slow`` health check suppressed.
    ``ci``       ``default`` + ``derandomize=True``, no example database, failure blobs printed:
                 the same examples on every run, so CI never fails on a draw a developer cannot
                 reproduce. Used when the variable is unset and Hypothesis detects a CI
                 environment (``CI`` etc.); otherwise ``default`` is.
    ``nightly``  ``default`` with 1000 examples, for the scheduled deep run.
    ``--hypothesis-profile`` (Hypothesis's own option) still wins when given.
"""

from __future__ import annotations

import os
import socket
from functools import cache

import pytest
from hypothesis import HealthCheck, settings

from harness.clock import ManualClock

BACKENDS = ("fake", "emulator", "gcp")
BACKEND_ENV = "HARNESS_BACKEND"
PROFILE_ENV = "HARNESS_HYPOTHESIS_PROFILE"
DOCKER_SOCKET = "/var/run/docker.sock"

MARKERS = {
    "gcp": "needs real GCP (BigQuery, Cloud KMS); runs only with --run-integration and --backend gcp",
    "integration": "talks to real external services; runs only with --run-integration",
    "emulator": "needs the emulator tier (real google-cloud clients against the local REST emulators)",
    "requires_docker": "needs a Docker daemon; skipped when none answers",
    "slow": "slow test; deselect with -m 'not slow'",
}

# --------------------------------------------------------------------------- hypothesis profiles
# Registered at import time (pytest imports entry-point plugins before collecting anything). The
# parent is Hypothesis's own built-in default, explicitly, so the result does not depend on
# whichever profile Hypothesis auto-loaded (it loads its "ci" profile when it detects CI).
_DEFAULT = settings(
    settings.get_profile("default"),
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILES: dict[str, settings] = {
    "default": _DEFAULT,
    "ci": settings(_DEFAULT, derandomize=True, database=None, print_blob=True),
    "nightly": settings(_DEFAULT, max_examples=1000),
}
_HYPOTHESIS_DETECTED_CI = settings.get_current_profile_name() == "ci"
for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)

_PREVIOUS_PROFILE = pytest.StashKey[str]()


def _profile_name() -> str:
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        return "ci" if _HYPOTHESIS_DETECTED_CI else "default"
    if name not in PROFILES:
        raise pytest.UsageError(
            f"{PROFILE_ENV}={name!r} is not a harness hypothesis profile; "
            f"valid profiles: {', '.join(sorted(PROFILES))}"
        )
    return name


# ------------------------------------------------------------------------------- options & config
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "CloudAct harness")
    group.addoption(
        "--backend",
        dest="harness_backend",
        choices=BACKENDS,
        default=os.environ.get(BACKEND_ENV) or "fake",
        help=f"tier to run against: {', '.join(BACKENDS)} (default: ${BACKEND_ENV} or fake)",
    )
    group.addoption(
        "--run-integration",
        dest="harness_run_integration",
        action="store_true",
        default=False,
        help="run tests marked gcp/integration (they need real cloud services and credentials)",
    )


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin, so --hypothesis-profile still wins
def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")

    backend = config.getoption("harness_backend")
    if backend not in BACKENDS:  # argparse does not check defaults, i.e. $HARNESS_BACKEND
        raise pytest.UsageError(
            f"{BACKEND_ENV}={backend!r} is not a backend; choose one of: {', '.join(BACKENDS)}"
        )
    if backend == "gcp" and not config.getoption("harness_run_integration"):
        hint = f" ({BACKEND_ENV}=gcp is set in the environment)" if os.environ.get(BACKEND_ENV) else ""
        raise pytest.UsageError(
            "--backend gcp talks to real BigQuery and Cloud KMS, so it needs --run-integration too" + hint
        )

    profile = _profile_name()
    config.stash[_PREVIOUS_PROFILE] = settings.get_current_profile_name()
    settings.load_profile(profile)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Restore the process-wide profile so in-process pytester runs do not leak theirs.
    previous = config.stash.get(_PREVIOUS_PROFILE, None)
    if previous is not None:
        settings.load_profile(previous)


def pytest_report_header(config: pytest.Config) -> str:
    integration = "on" if config.getoption("harness_run_integration") else "off"
    return (
        f"harness: backend={config.getoption('harness_backend')}, integration={integration}, "
        f"hypothesis profile={settings.get_current_profile_name()}"
    )


# ------------------------------------------------------------------------------------ collection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_integration = config.getoption("harness_run_integration")
    backend = config.getoption("harness_backend")

    if not run_integration:
        skip_gcp = pytest.mark.skip(
            reason="needs real GCP: pass --run-integration --backend gcp and set GCP_PROJECT_ID "
            "(and GOOGLE_APPLICATION_CREDENTIALS or application-default credentials)"
        )
        skip_integration = pytest.mark.skip(
            reason="integration test: needs real external services; pass --run-integration to run it"
        )
    elif backend != "gcp":
        skip_gcp = pytest.mark.skip(
            reason=f"needs real GCP: pass --backend gcp (this run uses --backend {backend})"
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
            problem = _docker_problem()
            if problem is not None:
                item.add_marker(pytest.mark.skip(reason=f"needs a Docker daemon: {problem}"))


@cache
def _docker_problem() -> str | None:
    """None when a Docker daemon answers a ping, else why not. Asked once per process."""
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return _socket_problem()
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"none answered (docker.from_env().ping() failed: {type(exc).__name__})"
    return None


def _socket_problem() -> str | None:
    if not os.path.exists(DOCKER_SOCKET):
        return f"none found ({DOCKER_SOCKET} does not exist and the docker package is not installed)"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(DOCKER_SOCKET)
    except OSError as exc:
        return f"none answered on {DOCKER_SOCKET} ({exc.strerror or exc})"
    return None


# -------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def clock() -> ManualClock:
    """A fresh ManualClock (2025-01-01T00:00:00Z) that only moves when the test advances it."""
    return ManualClock()
