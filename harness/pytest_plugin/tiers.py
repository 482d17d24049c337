"""Which tiers a pytest run covers, and running each tier-aware test once per tier.

``--backend fake,emulator`` (or ``$HARNESS_BACKEND``) is parsed once at configure time and kept in
the config's stash; :func:`harness_tiers` reads it back for the fixtures and the scenario items.
Every test that uses the ``harness_tier`` fixture — directly or through ``harness_backends``,
``api_client``, ``onboarded_org``... — is parametrised over the tiers, so the same assertions run
against the in-process fakes and against the emulators through the real Google clients. A test
marked ``@pytest.mark.harness(tier=...)`` runs on the marker's tiers instead.
"""

from __future__ import annotations

import os

import pytest

from harness.pytest_plugin.mark import harness_mark

BACKENDS = ("fake", "emulator", "gcp")
BACKEND_ENV = "HARNESS_BACKEND"

_TIERS = pytest.StashKey[list[str]]()


def parse_tiers(value: str) -> list[str]:
    """``fake,emulator`` -> ``["fake", "emulator"]`` (order kept, duplicates dropped); a usage
    error naming the option or the environment variable the bad value came from."""
    tiers = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [tier for tier in tiers if tier not in BACKENDS]
    if unknown or not tiers:
        source = (
            f"--backend {value!r}" if value != os.environ.get(BACKEND_ENV) else f"{BACKEND_ENV}={value!r}"
        )
        raise pytest.UsageError(
            f"{source}: {', '.join(map(repr, unknown)) or 'no tier'} is not a backend; choose from "
            f"{', '.join(BACKENDS)} (several comma-separated)"
        )
    return tiers


def store_tiers(config: pytest.Config, tiers: list[str]) -> None:
    """Keep the parsed ``--backend`` tiers for :func:`harness_tiers` (done once, at configure)."""
    config.stash[_TIERS] = tiers


def harness_tiers(config: pytest.Config) -> list[str]:
    """The tiers this run covers (``--backend``), in the order given."""
    return config.stash[_TIERS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Several tiers (``--backend fake,emulator``): every test that uses ``harness_tier`` (through
    ``harness_backends``, ``api_client``, ``onboarded_org``...) runs once per tier. A test marked
    ``@pytest.mark.harness(tier=...)`` runs on the marker's tiers instead, whatever ``--backend``
    says (gcp still needs ``--run-integration --backend gcp``: see :func:`harness_tier`)."""
    if "harness_tier" not in metafunc.fixturenames:
        return
    try:
        marked = harness_mark(metafunc.definition).tiers
    except pytest.UsageError:
        return  # reported without a traceback by the marker's check of every collected test
    tiers = list(marked) or harness_tiers(metafunc.config)
    if marked or len(tiers) > 1:
        metafunc.parametrize("harness_tier", tiers, indirect=True, ids=tiers)


@pytest.fixture
def harness_tier(request: pytest.FixtureRequest) -> str:
    """The tier this test runs on: ``fake``, ``emulator`` or ``gcp``. A test the marker puts on gcp
    is skipped unless the run covers gcp, which only ``--run-integration --backend gcp`` allows."""
    tier = str(getattr(request, "param", harness_tiers(request.config)[0]))
    if tier == "gcp" and "gcp" not in harness_tiers(request.config):
        pytest.skip(
            "marked @pytest.mark.harness(tier='gcp'): runs only with --run-integration --backend gcp "
            f"(this run uses --backend {','.join(harness_tiers(request.config))})"
        )
    return tier
