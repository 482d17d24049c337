"""``--quick``: the inner-loop run keeps the fake tier and the fast tests, and says what it left out.

An inner pytest session (pytester) with the plugin loaded through its entry point, as a user's run
loads it. Nothing here builds backends: the tier-aware test only asks for ``harness_tier``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import pytest

def test_plain():
    pass

def test_tiered(harness_tier):
    assert harness_tier in ("fake", "emulator")

@pytest.mark.harness(tier="emulator")
def test_emulator_only(harness_tier):
    assert harness_tier == "emulator"

@pytest.mark.slow
def test_slow():
    pass

@pytest.mark.emulator
def test_needs_emulator():
    pass

@pytest.mark.requires_docker
def test_docker():
    pass
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_SKIP_DOCKER", "1")


def test_quick_runs_the_fake_tier_without_slow_emulator_and_docker_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-v", "--backend", "fake,emulator", "--quick")
    result.assert_outcomes(passed=2, deselected=4)
    result.stdout.fnmatch_lines(["*--quick: fake tier only*", "*test_plain PASSED*", "*test_tiered PASSED*"])
    assert "emulator]" not in result.stdout.str()


def test_without_quick_every_tier_and_marker_is_collected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines(["*test_tiered?fake? PASSED*", "*test_tiered?emulator? PASSED*"])
    assert "--quick" not in result.stdout.str()
