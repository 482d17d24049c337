"""Root conftest for the CloudAct harness.

The ``harness`` package is installed editable (``./run_e2e.sh setup``), so nothing is added to
``sys.path`` here; options, markers, hypothesis profiles and fixtures live in the
``harness.pytest_plugin`` entry point (a package, one module per job), which also serves pytester
runs.

Every scenario file under ``scenarios/`` (``*.yml``, regressions included) is a test item: it is
loaded with the scenario loader, run with the scenario runner on the selected tier (``--backend``,
or live services with ``--api-url``/``--pipeline-url``), skipped when its ``tiers`` exclude that
tier, and reported with the run's failure report when it fails. ``--scenario PATTERN`` picks some::

    pytest scenarios                                  # every scenario
    pytest scenarios --scenario full_onboarding       # one
    pytest scenarios --scenario 'regressions/*'       # the replayed bug reports

Directories under ``scenarios/`` whose names start with ``_`` (``regressions/_configs/``) hold
files scenarios use, not scenarios. A directory written by ``harness regress`` (``regression.yml``
beside a run record) is one item that replays the record offline and fails as reported until the
bug is fixed (``./run_e2e.sh test scenarios/regressions/<name>``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.pytest_plugin.collection import collect_scenario_file

SCENARIOS = Path(__file__).parent / "scenarios"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    return collect_scenario_file(file_path, parent, SCENARIOS)
