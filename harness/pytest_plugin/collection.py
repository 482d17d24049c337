"""Scenario files as pytest items: one item per file and tier, run by the scenario runner.

:func:`collect_scenario_file` is for a ``pytest_collect_file`` hook (the repository's root
``conftest.py`` uses it for ``scenarios/**/*.yml``; a user's conftest can do the same). A
:class:`ScenarioItem` runs :func:`harness.scenario.runner.run_scenario` — the code ``harness run``
calls — and a failure shows the run's failure report followed by the step lines ``harness run``
prints (:mod:`harness.scenario.progress`). A regression directory (``regression.yml`` beside a
run record) is one item that replays the record (:mod:`harness.pytest_plugin.regressions`).
``--scenario PATTERN`` keeps only the scenario and regression items that match; other tests are
not affected.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from harness.pytest_plugin.options import live_urls
from harness.pytest_plugin.preflight import require_gcp_preflight
from harness.pytest_plugin.regressions import RegressionFile, RegressionItem
from harness.pytest_plugin.tiers import harness_tiers
from harness.scenario.records import REGRESSION_FILE

if TYPE_CHECKING:
    from harness.scenario.model import Scenario

SCENARIO_SUFFIXES = (".yml", ".yaml")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    select_scenarios(config, items)


def collect_scenario_file(
    file_path: Path, parent: pytest.Collector, root: Path
) -> ScenarioFile | RegressionFile | None:
    """For a ``pytest_collect_file`` hook: a :class:`ScenarioFile` for a ``*.yml``/``*.yaml`` file
    under ``root``, else None. Directories whose names start with ``_`` or ``.`` hold what scenarios
    use (bootstrap configs, fixtures), not scenarios, and are skipped."""
    if file_path.suffix not in SCENARIO_SUFFIXES:
        return None
    try:
        relative = file_path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    if any(part.startswith(("_", ".")) for part in relative.parts[:-1]):
        return None
    if (file_path.parent / REGRESSION_FILE).is_file():  # a regression's files: one item replays them
        if file_path.name != REGRESSION_FILE:
            return None
        regression = RegressionFile.from_parent(parent, path=file_path)
        regression.scenario_root = root
        return regression
    file = ScenarioFile.from_parent(parent, path=file_path)
    file.scenario_root = root
    return file


class ScenarioFile(pytest.File):
    """One scenario file: collects one :class:`ScenarioItem` named after the scenario."""

    scenario_root: Path | None = None

    def collect(self) -> Iterator[ScenarioItem]:
        try:
            from harness.scenario.loader import load_scenario
            from harness.scenario.problems import ScenarioError
        except ImportError as exc:  # the loader is part of the product; say so rather than crash
            yield ScenarioItem.from_parent(
                self, name=self.path.stem, scenario=None, problem=f"cannot load scenarios: {exc}"
            )
            return
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            problems = getattr(exc, "errors", (exc,)) or (exc,)
            report = "\n".join(str(problem) for problem in problems)
            try:  # name the file as the run shows it: relative to the rootdir
                shown = self.path.relative_to(self.config.rootpath).as_posix()
                report = report.replace(str(self.path), shown)
            except ValueError:
                pass
            yield ScenarioItem.from_parent(self, name=self.path.stem, scenario=None, problem=report)
            return
        tiers = harness_tiers(self.config)
        for tier in tiers:
            name = scenario.name if len(tiers) == 1 else f"{scenario.name}[{tier}]"
            yield ScenarioItem.from_parent(self, name=name, scenario=scenario, tier=tier)


class ScenarioFailed(Exception):
    """A scenario run did not pass; carries the runner's outcome."""

    def __init__(self, outcome: Any) -> None:
        super().__init__("scenario failed")
        self.outcome = outcome


class ScenarioNotLoadable(Exception):
    """The scenario file does not load; the message names file, line and field."""


class ScenarioNotRunnable(Exception):
    """The runner refused the scenario before running it (an unknown table, a fault naming no step)."""


class ScenarioItem(pytest.Item):
    """Runs one scenario on one tier (one item per ``--backend`` tier, named ``name[tier]`` when
    there are several), in-process or against ``--api-url``/``--pipeline-url``; a failure shows the
    runner's failure report (failing step, expected vs actual, replay command). Skipped when the
    scenario's ``tiers`` exclude the tier."""

    def __init__(
        self,
        *,
        scenario: Scenario | None,
        problem: str | None = None,
        tier: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.problem = problem
        self.tier = backend = tier or harness_tiers(self.config)[0]
        self.outcome: Any = None
        self.add_marker("scenario")
        if scenario is not None:
            # Tags are keywords (-k smoke), not markers: `tiers` says where a scenario may run, and
            # a tag such as `integration` must not pick up that marker's skip.
            self.extra_keyword_matches.update(scenario.tags)
            tiers = [str(tier) for tier in scenario.tiers]
            if backend not in tiers:
                self.add_marker(
                    pytest.mark.skip(
                        reason=f"scenario {scenario.name} runs on {', '.join(tiers)}; "
                        f"this run uses --backend {backend}"
                    )
                )

    @property
    def relative_path(self) -> str:
        """The file's path under the scenario root (``regressions/x.yml``), for ``--scenario``."""
        root = getattr(self.parent, "scenario_root", None)
        if root is not None:
            try:
                return self.path.resolve().relative_to(Path(root).resolve()).as_posix()
            except ValueError:
                pass
        return self.path.name

    def runtest(self) -> None:
        if self.problem is not None or self.scenario is None:
            raise ScenarioNotLoadable(self.problem or "scenario did not load")
        from harness.scenario.model import Tier
        from harness.scenario.outcome import SKIPPED, ScenarioUsageError
        from harness.scenario.runner import run_scenario

        api_url, pipeline_url = live_urls(self.config)
        if self.tier == Tier.GCP and not api_url:
            require_gcp_preflight(self.config)
        options: dict[str, Any] = {"source": self.path, "tier": Tier(self.tier)}
        if api_url:
            options.update(api_url=api_url, pipeline_url=pipeline_url)
        try:
            self.outcome = run_scenario(self.scenario, **options)
        except ScenarioUsageError as exc:
            if api_url:  # what the live services cannot do (pinned clock, reaching behind the API)
                _skip_at_item(f"scenario {self.name} cannot run against live services: {exc}")
            raise ScenarioNotRunnable(str(exc)) from exc
        if getattr(self.outcome, "status", None) == SKIPPED:
            _skip_at_item(f"scenario {self.name} {self.outcome.reason}")
        if not self.outcome.ok:
            raise ScenarioFailed(self.outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailed):
            from harness.scenario.progress import step_lines

            outcome = excinfo.value.outcome
            return "\n".join([outcome.failure_report(), "  steps:", *step_lines(outcome)])
        if isinstance(excinfo.value, ScenarioNotLoadable):
            return f"scenario file does not load:\n{excinfo.value}"
        if isinstance(excinfo.value, ScenarioNotRunnable):
            return f"scenario cannot run: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.name}"  # a line number: skip reports need one


def _skip_at_item(reason: str) -> NoReturn:
    """``pytest.skip`` reported at the scenario file (as a skip marker is), not at this module."""
    try:
        error = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:  # a pytest without the flag: the location is this module, the reason is intact
        pytest.skip(reason)
    raise error


def select_scenarios(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--scenario PATTERN``: keep the scenario items whose name, file name or path under the
    scenario root matches any pattern (glob if it has ``*?[``, else substring); others stay."""
    patterns: list[str] = config.getoption("harness_scenario")
    if not patterns:
        return
    scenarios = [item for item in items if isinstance(item, ScenarioItem | RegressionItem)]

    def matches(item: ScenarioItem | RegressionItem) -> bool:
        names = (item.name, item.path.name, item.path.stem, item.relative_path)
        for pattern in patterns:
            if any(ch in pattern for ch in "*?["):
                if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                    return True
            elif any(pattern in name for name in names):
                return True
        return False

    selected = [item for item in scenarios if matches(item)]
    if not selected:
        known = ", ".join(sorted(item.name for item in scenarios)) or "none were collected"
        raise pytest.UsageError(f"--scenario {' '.join(patterns)}: no scenario matches (scenarios: {known})")
    deselected = [item for item in scenarios if item not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        drop = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in drop]
