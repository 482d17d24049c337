"""``--quick``: the inner-loop run — the fake tier only, without the slow, emulator and Docker tests.

The default run covers both tiers and every slow check, which is what CI and a finished change
need; while editing, a run that answers in seconds is worth more. ``--quick`` runs every tier-aware
test and scenario item on ``fake`` alone (whatever ``--backend`` says: the project's ``addopts``
always names both tiers) and deselects, out loud, the tests marked ``slow`` (the conformance
corpus, the fault-plan exploration, browser, wheel and process tests...), ``emulator``,
``requires_docker``, ``gcp`` and ``integration``, and any test a ``harness(tier=...)`` marker puts
on another tier. It also leaves out the tests the suite's durations file (pytest-split's
``.test_durations``, in the root directory) records as slower than ``--quick-max-seconds``, and does
not even import a test module all of whose recorded tests are, nor keep the fast tests that would
pay for a slow shared set-up those left out were recorded with: a run of the inner loop should
answer in seconds, and the slow tenth of a suite is most of its time. A test the file does not
name yet (a new one) is kept, and so is every scenario item, however slow: the flows are what the
inner loop is for. It is a subset of the default run, never a replacement for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.pytest_plugin.collection import ScenarioItem
from harness.pytest_plugin.tiers import store_tiers

QUICK_TIER = "fake"
DESELECTED_MARKERS = ("slow", "emulator", "requires_docker", "gcp", "integration")
DURATIONS_FILE = ".test_durations"
MAX_SECONDS = 0.05
"""A test recorded as slower than this is left out (the file's figures come from a whole run,
``pytest -n 2 --store-durations``, on two quiet cores)."""
_SLOW = pytest.StashKey[dict[str, float]]()
"""Each test recorded as slower than the limit, by its id in this run, with its recorded seconds."""
_SLOW_FILES = pytest.StashKey[set[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness").addoption(
        "--quick",
        dest="harness_quick",
        action="store_true",
        default=False,
        help="the inner loop: the fake tier only (overrides --backend), without the tests marked "
        f"{', '.join(DESELECTED_MARKERS)}, and without the tests {DURATIONS_FILE} records as slower "
        "than --quick-max-seconds; the default run still covers them all",
    )
    parser.getgroup("harness").addoption(
        "--quick-max-seconds",
        dest="harness_quick_max_seconds",
        type=float,
        default=MAX_SECONDS,
        help=f"with --quick, leave out tests {DURATIONS_FILE} records as slower than this "
        f"[default: {MAX_SECONDS}]",
    )


def quick(config: pytest.Config) -> bool:
    return bool(config.getoption("harness_quick", default=False))


def pytest_configure(config: pytest.Config) -> None:
    """After the options' own configure (``tryfirst``) has stored the ``--backend`` tiers."""
    if not quick(config):
        return
    store_tiers(config, [QUICK_TIER])
    durations = _durations(config)
    limit = float(config.getoption("harness_quick_max_seconds", default=MAX_SECONDS))
    slow = {nodeid: seconds for nodeid, seconds in durations.items() if seconds > limit}
    slow |= {_on_one_tier(nodeid): seconds for nodeid, seconds in slow.items()}
    recorded = {nodeid.split("::", 1)[0] for nodeid in durations}
    with_fast = {nodeid.split("::", 1)[0] for nodeid in durations if nodeid not in slow}
    named = {Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve() for arg in config.args}
    config.stash[_SLOW] = slow
    config.stash[_SLOW_FILES] = {config.rootpath / path for path in recorded - with_fast} - named


def _on_one_tier(nodeid: str) -> str:
    """The id a test recorded on the fake tier has in a ``--quick`` run: with one tier the tier is
    not a parameter, so ``test_x[fake-GET]`` is collected as ``test_x[GET]`` and ``test_y[fake]``
    as ``test_y``."""
    name, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    parts = params.removesuffix("]").split("-")
    if QUICK_TIER not in parts:
        return nodeid
    parts.remove(QUICK_TIER)
    return f"{name}[{'-'.join(parts)}]" if parts else name


def _durations(config: pytest.Config) -> dict[str, float]:
    path = Path(str(config.getoption("durations_path", default=None) or config.rootpath / DURATIONS_FILE))
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in recorded.items()} if isinstance(recorded, dict) else {}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Not even imported: a module the durations file records as slow throughout (unless the
    command line names it)."""
    if not quick(config) or collection_path.suffix != ".py":
        return None
    return True if collection_path in config.stash.get(_SLOW_FILES, set()) else None


def pytest_report_header(config: pytest.Config) -> str | None:
    if not quick(config):
        return None
    marked = ", ".join(DESELECTED_MARKERS)
    limit = config.getoption("harness_quick_max_seconds", default=MAX_SECONDS)
    return (
        f"harness: --quick: {QUICK_TIER} tier only; tests marked {marked} deselected, and those "
        f"{DURATIONS_FILE} records as slower than {limit:g} s ({len(config.stash.get(_SLOW, {}))})"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not quick(config):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if _left_out(item) else kept).append(item)
    paying = _paying_for_slow_set_up(config, kept, dropped)
    dropped += [item for item in kept if item in paying]
    kept = [item for item in kept if item not in paying]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _left_out(item: pytest.Item) -> bool:
    if _timed_out(item):
        return True
    if any(item.get_closest_marker(name) for name in DESELECTED_MARKERS):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("harness_tier", QUICK_TIER) != QUICK_TIER


def _timed_out(item: pytest.Item) -> bool:
    return item.nodeid in item.config.stash.get(_SLOW, {}) and not isinstance(item, ScenarioItem)


def _paying_for_slow_set_up(
    config: pytest.Config, kept: list[pytest.Item], dropped: list[pytest.Item]
) -> set[pytest.Item]:
    """The kept tests that share a module- or class-scoped fixture whose set-up is slow.

    pytest-split records a shared fixture's set-up against the first test that asks for it, so that
    test is left out as slow while the others, recorded as fast, would still pay for it. A test's
    cost is its own time plus its share of what the left-out members of its group were recorded
    at; a group whose share is over the limit is left out whole.
    """
    limit = float(config.getoption("harness_quick_max_seconds", default=MAX_SECONDS))
    seconds = config.stash.get(_SLOW, {})
    groups: dict[tuple[str, str], list[pytest.Item]] = {}
    for item in [*kept, *filter(_timed_out, dropped)]:
        for key in _shared_fixtures(item):
            groups.setdefault(key, []).append(item)
    return {
        item
        for members in groups.values()
        if sum(seconds[member.nodeid] for member in members if _timed_out(member)) / len(members) > limit
        for item in members
        if not _timed_out(item) and not isinstance(item, ScenarioItem)
    }


def _shared_fixtures(item: pytest.Item) -> set[tuple[str, str]]:
    """(fixture, the module or class it is set up once for) of each wider-scoped fixture it uses."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    module, _, rest = item.nodeid.partition("::")
    keys = set()
    for name, defs in info.name2fixturedefs.items():
        if defs[-1].scope == "module":
            keys.add((name, module))
        elif defs[-1].scope == "class" and "::" in rest:
            keys.add((name, item.nodeid.rsplit("::", 1)[0]))
    return keys
