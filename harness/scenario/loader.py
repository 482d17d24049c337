"""Load scenario files, and say precisely what is wrong with one that does not load.

Scenario files are written by hand, so every mistake is reported as ``path:line: field: message``
(:class:`~harness.scenario.problems.ScenarioError`) with a message that says how to fix it. A file
must have the model's structure (:mod:`harness.scenario.model`; mistakes explained by
:mod:`harness.scenario.structure`) and be consistent with itself (templates, variables, step
names, fault targets: :mod:`harness.scenario.consistency`).

:func:`lint_scenario` returns every problem of a file; :func:`load_scenario` raises the first one
(in file order) as a :class:`~harness.scenario.problems.ScenarioError` whose ``errors`` holds them
all. The JSON Schema editors validate the files with is :mod:`harness.scenario.json_schema`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from harness.scenario.consistency import check_consistency
from harness.scenario.model import Scenario
from harness.scenario.problems import ScenarioError
from harness.scenario.records import REGRESSION_FILE
from harness.scenario.structure import check_actions, report_validation
from harness.yamlsource import parse_yaml_text, read_text

SCENARIO_SUFFIXES = (".yml", ".yaml")


def lint_scenario(path: str | Path) -> list[ScenarioError]:
    """Every problem in the file, in file order; empty when it loads."""
    path = Path(path)
    try:
        text = read_text(path, ScenarioError)
    except ScenarioError as error:
        return [error]
    return _check(text, str(path))[1]


def parse_scenario(text: str, path: str | Path = "<string>") -> Scenario:
    """A scenario from YAML text; ``path`` is only used in error messages."""
    scenario, errors = _check(text, str(path))
    if errors or scenario is None:
        first = errors[0] if errors else ScenarioError(path, None, "", "not a valid scenario")
        first.errors = tuple(errors)
        raise first
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and check one scenario file, or raise the first problem as a :class:`ScenarioError`."""
    path = Path(path)
    return parse_scenario(read_text(path, ScenarioError), path)


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, with directories expanded recursively to their ``*.yml``/``*.yaml`` files in
    sorted order, skipping directories whose name starts with ``_`` or ``.`` (``_configs/`` holds
    fixtures, not scenarios) and regression directories (a ``regression.yml`` beside a run record:
    pytest replays those, :mod:`harness.scenario.regressions`). A path that does not exist is a
    :class:`ScenarioError`."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in SCENARIO_SUFFIXES
                    and p.is_file()
                    and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts[:-1])
                    and not (p.parent / REGRESSION_FILE).is_file()
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise ScenarioError(path, None, "", "no such file or directory")
    return found


def load_scenarios(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Every scenario under ``paths`` (see :func:`scenario_files`), or the first problem found."""
    return [(path, load_scenario(path)) for path in scenario_files(paths)]


def _check(text: str, path: str) -> tuple[Scenario | None, list[ScenarioError]]:
    """Every check on one text, so a file's problems come back together, sorted by line."""
    try:
        doc = parse_yaml_text(text, path, ScenarioError)
    except ScenarioError as error:
        if "'{'" in error.message:  # `org: nosuch_{run_id}` inside a {...} flow mapping
            hint = "; quote a value with a {template} in it: 'e2e_{run_id}'"
            error = ScenarioError(error.path, error.line, error.field, error.message + hint)
        return None, [error]
    if doc.data is None:
        return None, [ScenarioError(path, None, "", "the file is empty; a scenario needs name and steps")]
    errors: list[ScenarioError] = []
    bad_steps = check_actions(doc, errors)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        report_validation(doc, exc.errors(include_url=False), bad_steps, errors)
    check_consistency(doc, errors)
    unique = {(e.line or 0, e.field, e.message): e for e in errors}
    ordered = [unique[key] for key in sorted(unique, key=lambda k: (k[0], k[1], k[2]))]
    return (scenario if not ordered else None), ordered
