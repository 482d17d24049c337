"""Regressions: a run record turned into a committed test that replays it offline.

``harness regress RECORD`` writes ``scenarios/regressions/<name>/``, a run record directory a
pytest item replays (:mod:`harness.pytest_plugin.regressions`)::

    regression.yml   what was reported (``reported:``), the seed and clock start, the files below
    scenario.yml     the scenario that ran, scrubbed (placeholders where its secrets were)
    record.json      the run record: run id, seed, clock start, the recorded provider exchanges
    cassette.json    an emulator or gcp record's Google and provider exchanges (when it has one)

Every file is written through one :class:`~harness.scenario.records.Scrubber` (it knows this
machine's root key and provider keys, and learns the scenario's literal ones), so a record made
before copies were scrubbed is cleaned on the way in.

**Fails as the original did.** The item replays the directory (:func:`replay`: same run id, seed,
clock start; fake tier with the recorded provider answers, or the record's tier answered from its
cassette in record mode ``none``: nothing is sent). The verdict (:func:`judge`):

* the replay passes → the item passes: the bug is fixed (and a record that passed stays passing);
* the replay fails at the reported step with the reported messages → the item fails, saying the
  bug still reproduces, with the replay's failure report;
* the replay fails anywhere else or otherwise → the item fails too, saying how it differs from
  the report (the behaviour changed but is not fixed).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.recording.cassette import CASSETTE_FILE
from harness.scenario.problems import ScenarioError
from harness.scenario.records import (
    RECORD_FILE,
    REGRESSION_FILE,
    SCENARIO_COPY,
    RunRecord,
    Scrubber,
    learn_scenario,
    write_scrubbed,
)
from harness.services.settings import Settings
from harness.yamlsource import Document, describe_error, dotted, parse_json, parse_yaml, resolve_loc

if TYPE_CHECKING:
    from harness.scenario.outcome import RunOutcome

DEFAULT_REGRESSIONS_DIR = Path("scenarios/regressions")
NAME = re.compile(r"^[a-z0-9_]+$")

FIXED, REPRODUCED, CHANGED, PASSES, BROKE = "fixed", "reproduced", "changed", "passes", "broke"


class RegressionError(Exception):
    """``harness regress`` cannot make the regression (exit 2); the message says why."""


# ------------------------------------------------------------------------------------ model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reported(_Strict):
    """What the original run showed: the bug as reported."""

    outcome: str = Field(description="passed or failed")
    step: str | None = Field(default=None, description="The failing step's name.")
    step_number: int | None = Field(default=None, description="1-based; none for a cleanup step.")
    action: str | None = None
    messages: list[str] = Field(default_factory=list, description="The failure, as the record holds it.")
    when: datetime = Field(description="When the original run started.")
    tier: str
    record_id: str


class Regression(_Strict):
    name: str = Field(pattern=NAME.pattern)
    seed: int
    clock_start: datetime
    reported: Reported


@dataclass(frozen=True)
class Verdict:
    """How a replay compares with the report; ``ok`` is the pytest item's result."""

    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status in (FIXED, PASSES)


# ------------------------------------------------------------------------------------- make


def make_regression(
    record: Path,
    *,
    into: Path = DEFAULT_REGRESSIONS_DIR,
    name: str | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write the regression directory of the run record at ``record`` (its directory or its
    ``record.json``) under ``into``; returns it. Refuses to overwrite one."""
    directory = record if record.is_dir() else record.parent
    recorded = read_record_file(directory / RECORD_FILE if record.is_dir() else record)
    if recorded.outcome not in ("passed", "failed"):
        raise RegressionError(f"{record}: the run {recorded.outcome}; only a finished run can be replayed")
    name = name or default_name(recorded)
    if not NAME.match(name):
        raise RegressionError(f"--name {name!r}: use lowercase letters, digits and underscores")
    target = into / name
    if target.exists():
        raise RegressionError(f"{target} already exists; choose another --name or remove it first")
    cassette = None
    if recorded.recording is not None and recorded.recording.cassette is not None:
        cassette = directory / recorded.recording.cassette
        if not cassette.is_file():
            raise RegressionError(f"{record}: the record names {cassette.name}, which is not beside it")
    copy = directory / SCENARIO_COPY
    scenario_text = (
        copy.read_text(encoding="utf-8")
        if copy.is_file()
        else yaml.safe_dump(recorded.scenario, sort_keys=False, allow_unicode=True)
    )
    scrub = _scrubber(settings or Settings(), scenario_text)
    target.mkdir(parents=True)
    try:
        write_scrubbed(target / SCENARIO_COPY, scenario_text, scrub)
        record_file = directory / RECORD_FILE if record.is_dir() else record
        write_scrubbed(target / RECORD_FILE, record_file.read_text(encoding="utf-8"), scrub)
        if cassette is not None:
            write_scrubbed(target / CASSETTE_FILE, cassette.read_text(encoding="utf-8"), scrub)
        write_scrubbed(target / REGRESSION_FILE, regression_text(name, recorded), scrub)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def default_name(recorded: RunRecord) -> str:
    """``<scenario>_<record id>``: unique per record, a valid scenario and test name."""
    return f"{recorded.scenario_name}_{recorded.record_id}".replace("-", "_").lower()


def regression_text(name: str, recorded: RunRecord) -> str:
    """``regression.yml``: a comment saying what it is, then the :class:`Regression`."""
    failure = recorded.failure
    reported: dict[str, Any] = {"outcome": recorded.outcome}
    if failure is not None:
        reported["step"] = failure.step
        reported["step_number"] = None if failure.step_index is None else failure.step_index + 1
        reported["action"] = failure.action
        reported["messages"] = failure.messages
    reported.update(when=recorded.started_at.isoformat(), tier=recorded.tier, record_id=recorded.record_id)
    data = {
        "name": name,
        "seed": recorded.seed,
        "clock_start": recorded.clock_start.isoformat(),
        "reported": reported,
    }
    header = (
        f"# Made by `harness regress` from run record {recorded.record_id} ({recorded.tier} tier).\n"
        "# pytest replays record.json offline (record mode none): the item fails as reported below\n"
        "# until the bug is fixed, then passes. Seed and clock start are the record's.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def run_command(directory: Path) -> str:
    """The one command that runs the regression: its pytest item (``./run_e2e.sh test``) when it
    sits under ``scenarios/`` here, else a replay of the directory."""
    try:
        shown = directory.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return f"harness replay {directory}"
    if shown.parts[:1] == ("scenarios",):
        return f"./run_e2e.sh test {shown.as_posix()}"
    return f"harness replay {shown.as_posix()}"


def _scrubber(settings: Settings, scenario_text: str) -> Scrubber:
    """This machine's secrets and the scenario's literal ones (a copy written before copies were
    scrubbed may hold them)."""
    scrub = Scrubber()
    scrub.add(settings.ca_root_api_key.get_secret_value(), "root_key")
    for key in (settings.openai_api_key, settings.anthropic_api_key):
        if key is not None:
            scrub.add(key.get_secret_value(), "credential")
    with contextlib.suppress(yaml.YAMLError):  # written as it is: loading it names the problem
        learn_scenario(scrub, yaml.safe_load(scenario_text))
    scrub.learn(scenario_text)
    return scrub


# ------------------------------------------------------------------------------------- load


def read_record_file(path: Path) -> RunRecord:
    """A run record, or a :class:`ScenarioError` naming file, line and field."""
    if not path.is_file():
        raise RegressionError(f"{path}: no run record here (expected a run directory or its {RECORD_FILE})")
    return _validated(parse_json(path, ScenarioError), RunRecord)


def load_regression(directory: Path) -> tuple[Regression, RunRecord]:
    """``regression.yml`` and ``record.json`` of a regression directory, checked against each
    other; a problem is a :class:`ScenarioError` naming file, line and field."""
    doc = parse_yaml(directory / REGRESSION_FILE, ScenarioError)
    regression = _validated(doc, Regression)
    record = read_record_file(directory / RECORD_FILE)
    for field in ("seed", "clock_start"):
        if getattr(regression, field) != getattr(record, field):
            raise doc.error(
                (field,),
                f"{getattr(regression, field)} but {RECORD_FILE} says {getattr(record, field)} "
                "(the replay uses the record's)",
            )
    return regression, record


_M = TypeVar("_M", bound=BaseModel)


def _validated(doc: Document, model: type[_M]) -> _M:
    if not isinstance(doc.data, dict):
        raise ScenarioError(doc.path, None, "", f"expected a mapping ({model.__name__})")
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for detail in exc.errors(include_url=False):
            loc, _ = resolve_loc(model, tuple(detail["loc"]))
            problems.append(
                ScenarioError(doc.path, doc.line_of(loc), dotted(loc), describe_error(detail, model))
            )
        problems.sort(key=lambda problem: problem.line or 0)
        problems[0].errors = tuple(problems)
        raise problems[0] from None


# -------------------------------------------------------------------------------- replay, judge


def replay_regression(directory: Path, *, runs_dir: Path | None) -> tuple[Verdict, RunOutcome]:
    """Replay the regression at ``directory`` offline and judge it against its report."""
    from harness.scenario.replay import replay

    regression, _ = load_regression(directory)
    outcome = replay(directory, runs_dir=runs_dir)
    return judge(regression, outcome), outcome


def judge(regression: Regression, outcome: RunOutcome) -> Verdict:
    """The replay against the report (see the module docstring)."""
    reported = regression.reported
    where = _reported_step(reported)
    if outcome.ok:
        if reported.outcome == "failed":
            return Verdict(FIXED, f"fixed: the reported failure at {where} no longer happens")
        return Verdict(PASSES, "passes, as the recorded run did")
    failed = outcome.failed_step
    if reported.outcome != "failed":
        return Verdict(BROKE, "the recorded run passed; the replay fails")
    messages = []
    step_number = None
    if failed is not None:
        messages = [outcome.scrub_text(m) for m in failed.failures + ([failed.error] if failed.error else [])]
        step_number = None if failed.cleanup else failed.index + 1
    if failed is not None and step_number == reported.step_number and messages == reported.messages:
        return Verdict(REPRODUCED, f"still fails as reported at {where}: {'; '.join(messages)}")
    got = "no step" if failed is None else f"step {failed.number} ({failed.name})"
    return Verdict(
        CHANGED,
        f"fails differently from the report: reported {where}: {'; '.join(reported.messages)}; "
        f"now {got}: {'; '.join(messages) or outcome.reason}",
    )


def _reported_step(reported: Reported) -> str:
    number = "cleanup" if reported.step_number is None else f"step {reported.step_number}"
    return f"{number} ({reported.step})" if reported.step else number
