"""Hypothesis profiles, registered at import and chosen with ``$HARNESS_HYPOTHESIS_PROFILE``.

Registered at import time (pytest imports entry-point plugins before collecting anything). The
parent is Hypothesis's own built-in default, explicitly, so the result does not depend on whichever
profile Hypothesis auto-loaded (it loads its "ci" profile when it detects CI). The profile is
loaded before Hypothesis's own plugin configures, so ``--hypothesis-profile`` still wins, and the
previous one is restored at unconfigure so in-process pytester runs do not leak theirs.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

PROFILE_ENV = "HARNESS_HYPOTHESIS_PROFILE"

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


def profile_name() -> str:
    """The profile this run uses: ``$HARNESS_HYPOTHESIS_PROFILE``, else ``ci`` where Hypothesis
    detects CI, else ``default``."""
    name = os.environ.get(PROFILE_ENV, "").strip()
    if not name:
        return "ci" if _HYPOTHESIS_DETECTED_CI else "default"
    if name not in PROFILES:
        raise pytest.UsageError(
            f"{PROFILE_ENV}={name!r} is not a harness hypothesis profile; "
            f"valid profiles: {', '.join(sorted(PROFILES))}"
        )
    return name


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin, so --hypothesis-profile still wins
def pytest_configure(config: pytest.Config) -> None:
    profile = profile_name()
    config.stash[_PREVIOUS_PROFILE] = settings.get_current_profile_name()
    settings.load_profile(profile)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Restore the process-wide profile so in-process pytester runs do not leak theirs.
    previous = config.stash.get(_PREVIOUS_PROFILE, None)
    if previous is not None:
        settings.load_profile(previous)
