"""``--quick``: the inner-loop run — the fake tier only, without the slow, emulator and Docker tests.

The default run covers both tiers and every slow check, which is what CI and a finished change
need; while editing, a run that answers in seconds is worth more. ``--quick`` runs every tier-aware
test and scenario item on ``fake`` alone (whatever ``--backend`` says: the project's ``addopts``
always names both tiers) and deselects, out loud, the tests marked ``slow`` (the conformance
corpus, the fault-plan exploration, browser, wheel and process tests...), ``emulator``,
``requires_docker``, ``gcp`` and ``integration``, and any test a ``harness(tier=...)`` marker puts
on another tier. It is a subset of the default run, never a replacement for it.
"""

from __future__ import annotations

import pytest

from harness.pytest_plugin.tiers import store_tiers

QUICK_TIER = "fake"
DESELECTED_MARKERS = ("slow", "emulator", "requires_docker", "gcp", "integration")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness").addoption(
        "--quick",
        dest="harness_quick",
        action="store_true",
        default=False,
        help="the inner loop: the fake tier only (overrides --backend), without the tests marked "
        f"{', '.join(DESELECTED_MARKERS)}; the default run still covers them all",
    )


def quick(config: pytest.Config) -> bool:
    return bool(config.getoption("harness_quick", default=False))


def pytest_configure(config: pytest.Config) -> None:
    """After the options' own configure (``tryfirst``) has stored the ``--backend`` tiers."""
    if quick(config):
        store_tiers(config, [QUICK_TIER])


def pytest_report_header(config: pytest.Config) -> str | None:
    if not quick(config):
        return None
    marked = ", ".join(DESELECTED_MARKERS)
    return f"harness: --quick: {QUICK_TIER} tier only; tests marked {marked} deselected"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not quick(config):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if _left_out(item) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _left_out(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(name) for name in DESELECTED_MARKERS):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("harness_tier", QUICK_TIER) != QUICK_TIER
