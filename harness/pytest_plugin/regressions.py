"""Regression directories as pytest items: each replays its run record offline and is judged
against what was reported (:mod:`harness.scenario.regressions`).

:func:`harness.pytest_plugin.collection.collect_scenario_file` hands a ``regression.yml`` here; the
other files of the directory (``scenario.yml`` among them) are the regression's, not scenarios of
their own. One item per regression, whatever ``--backend`` says: the tier is the record's, and
nothing is sent (fake tier with the recorded provider answers, or the cassette in mode ``none``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


class RegressionFile(pytest.File):
    """A regression directory's ``regression.yml``: collects one :class:`RegressionItem` named
    after the directory."""

    scenario_root: Path | None = None

    def collect(self) -> Iterator[RegressionItem]:
        item = RegressionItem.from_parent(self, name=self.path.parent.name)
        item.scenario_root = self.scenario_root
        yield item


class RegressionFailed(Exception):
    """The replay did not pass; carries the verdict and the replay's outcome."""

    def __init__(self, verdict: Any, outcome: Any) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict
        self.outcome = outcome


class RegressionNotLoadable(Exception):
    """A file of the regression does not load; the message names file, line and field."""


class RegressionItem(pytest.Item):
    """Replays one regression directory; fails with the verdict and the replay's failure report."""

    scenario_root: Path | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcome: Any = None
        """The replay's run outcome, as a :class:`ScenarioItem` keeps its run's."""
        self.add_marker("scenario")
        self.extra_keyword_matches.add("regression")

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def relative_path(self) -> str:
        """The directory's path under the scenario root (``regressions/x``), for ``--scenario``."""
        if self.scenario_root is not None:
            try:
                return self.directory.resolve().relative_to(Path(self.scenario_root).resolve()).as_posix()
            except ValueError:
                pass
        return self.directory.name

    def runtest(self) -> None:
        from harness.scenario.outcome import ScenarioUsageError
        from harness.scenario.problems import ScenarioError
        from harness.scenario.records import DEFAULT_RUNS_DIR
        from harness.scenario.regressions import RegressionError, replay_regression

        try:
            verdict, outcome = replay_regression(self.directory, runs_dir=DEFAULT_RUNS_DIR)
        except ScenarioError as exc:
            problems = getattr(exc, "errors", (exc,)) or (exc,)
            raise RegressionNotLoadable(self._shown("\n".join(str(p) for p in problems))) from exc
        except (RegressionError, ScenarioUsageError) as exc:
            raise RegressionNotLoadable(self._shown(str(exc))) from exc
        self.outcome = outcome
        if not verdict.ok:
            raise RegressionFailed(verdict, outcome)

    def _shown(self, report: str) -> str:
        """Paths as the run shows them: relative to the rootdir."""
        try:
            return report.replace(
                str(self.directory), self.directory.relative_to(self.config.rootpath).as_posix()
            )
        except ValueError:
            return report

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, RegressionFailed):
            from harness.scenario.progress import step_lines

            failed = excinfo.value
            return "\n".join(
                [
                    f"regression {self.name}: {failed.verdict.message}",
                    failed.outcome.failure_report(),
                    "  steps:",
                    *step_lines(failed.outcome),
                ]
            )
        if isinstance(excinfo.value, RegressionNotLoadable):
            return f"regression does not load:\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"regression: {self.name}"
