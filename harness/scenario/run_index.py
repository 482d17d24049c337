"""The runs directory as a list: what ran (newest first), one run's steps, and a bound on its size.

Every run leaves ``.harness/runs/<record_id>/``; this module reads them back without trusting them:
a directory whose ``record.json`` does not parse is listed as ``corrupt``, one that a run started but
never finished writing as ``incomplete`` — never a traceback. Only what a record says is used for
"newest" and "older than" (its ``started_at``), against an injectable ``now``.

Pruning deletes only directories that hold a readable run record, directly under the runs
directory: anything else there (an unreadable record, a directory of one's own) is left alone.
After every run the directory is pruned to the newest :data:`DEFAULT_KEEP` records
(:func:`enforce_cap`; ``HARNESS_RUNS_KEEP`` changes the number, ``0`` keeps everything).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.recording.cassette import CASSETTE_FILE
from harness.scenario.outcome import StepOutcome, step_detail
from harness.scenario.records import RECORD_FILE, SCENARIO_COPY, RunRecord, StepRecord

DEFAULT_KEEP = 200
KEEP_VARIABLE = "HARNESS_RUNS_KEEP"
CORRUPT, INCOMPLETE = "corrupt", "incomplete"
_RECORD_ID = re.compile(r"^[0-9a-f]{8}(-replay(-\d+)?)?$")
_AGE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

log = logging.getLogger(__name__)


class _Summary(BaseModel):
    """The fields a listing needs; the rest of the record is not validated (it may be large)."""

    model_config = ConfigDict(extra="ignore")

    record_id: str
    scenario_name: str
    tier: str
    outcome: str
    duration_ms: float = 0.0
    started_at: datetime


@dataclass(frozen=True)
class RunEntry:
    """One directory of the runs directory: a run, or why it cannot be read (``problem``)."""

    id: str
    path: Path
    scenario: str | None = None
    tier: str | None = None
    result: str = CORRUPT
    duration_ms: float | None = None
    when: datetime | None = None
    problem: str | None = None

    @property
    def readable(self) -> bool:
        return self.problem is None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "scenario": self.scenario,
            "tier": self.tier,
            "result": self.result,
            "duration_ms": self.duration_ms,
            "when": self.when.isoformat() if self.when is not None else None,
            "path": str(self.path),
            "problem": self.problem,
        }


def list_runs(runs_dir: Path) -> list[RunEntry]:
    """Every run directory under ``runs_dir``: readable records newest first, then the unreadable
    ones by name. Directories that are no run's (no record, no run's files, not named like one)
    are not listed."""
    if not runs_dir.is_dir():
        return []
    entries = [entry for path in runs_dir.iterdir() if (entry := read_entry(path)) is not None]
    readable = sorted((e for e in entries if e.readable), key=lambda e: (e.when, e.id), reverse=True)
    return readable + sorted((e for e in entries if not e.readable), key=lambda e: e.id)


def read_entry(path: Path) -> RunEntry | None:
    """The run at ``path``, a corrupt or incomplete one, or None when ``path`` is no run's."""
    if not path.is_dir():
        return None
    record = path / RECORD_FILE
    if not record.is_file():
        started = any((path / name).exists() for name in (SCENARIO_COPY, CASSETTE_FILE))
        if started or _RECORD_ID.match(path.name):
            return RunEntry(
                path.name, path, result=INCOMPLETE, problem=f"no {RECORD_FILE} (the run did not finish)"
            )
        return None
    try:
        summary = _Summary.model_validate(json.loads(record.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValidationError is a ValueError
        return RunEntry(path.name, path, problem=f"{RECORD_FILE} does not read: {_reason(exc)}")
    when = summary.started_at if summary.started_at.tzinfo else summary.started_at.replace(tzinfo=UTC)
    return RunEntry(
        path.name,
        path,
        scenario=summary.scenario_name,
        tier=summary.tier,
        result=summary.outcome,
        duration_ms=summary.duration_ms,
        when=when,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'record'}: {first['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg.removesuffix(' at')}"
    return str(exc)


def find_run(runs_dir: Path, ident: str) -> RunEntry:
    """The run named ``ident``: a directory name, a unique prefix of one, or a run directory's
    path. Raises ``LookupError`` saying what matched."""
    given = Path(ident)
    if given.is_dir() and (given / RECORD_FILE).is_file():
        entry = read_entry(given)
        if entry is not None:
            return entry
    entries = list_runs(runs_dir)
    exact = [e for e in entries if e.id == ident]
    matches = exact or [e for e in entries if e.id.startswith(ident)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LookupError(f"no run {ident!r} in {runs_dir} (harness runs list shows them)")
    raise LookupError(
        f"{ident!r} names {len(matches)} runs: {', '.join(e.id for e in matches[:5])}; give more of it"
    )


# ------------------------------------------------------------------------------------- steps


def record_steps(record: RunRecord) -> list[StepOutcome]:
    """A record's steps (cleanup included) as the step lines of :mod:`harness.scenario.progress`
    read them; a ``parallel`` step's sub-steps follow it as its ``parallel``."""
    cleanup = record.cleanup.steps if record.cleanup is not None else []
    return [_step(s) for s in record.steps] + [_step(s, cleanup=True) for s in cleanup]


def _step(step: StepRecord, *, cleanup: bool = False, sub_index: int | None = None) -> StepOutcome:
    exchange = step.exchange
    outcome = StepOutcome(
        index=step.index,
        name=step.name,
        action=step.action,
        ok=step.ok,
        elapsed_ms=step.elapsed_ms,
        status=exchange.status if exchange is not None else None,
        failures=list(step.failures),
        error=step.error,
        body=exchange.response if exchange is not None else step.result,
        clock=step.clock,
        cleanup=cleanup,
        instance=step.instance,
        parallel=[_step(sub, cleanup=cleanup, sub_index=i) for i, sub in enumerate(step.parallel)],
        sub_index=sub_index,
    )
    outcome.detail = step_detail(outcome, str)  # the record is scrubbed already
    return outcome


# ------------------------------------------------------------------------------------- prune


@dataclass(frozen=True)
class Pruned:
    removed: list[RunEntry]
    kept: int
    unreadable: list[RunEntry]
    """Left alone: pruning never deletes what it cannot read as a run record."""


def parse_age(text: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` → a timedelta; ``ValueError`` saying the format."""
    match = _AGE.match(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r}: expected a number and a unit, s m h d or w (e.g. 7d, 12h)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def prune(
    runs_dir: Path,
    *,
    keep: int | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> Pruned:
    """Delete the readable runs beyond the newest ``keep`` and those that started more than
    ``older_than`` before ``now`` (default: the current time)."""
    entries = list_runs(runs_dir)
    readable = [e for e in entries if e.readable]
    cutoff = (now or datetime.now(UTC)) - older_than if older_than is not None else None
    doomed = [
        entry
        for rank, entry in enumerate(readable)
        if (keep is not None and rank >= keep)
        or (cutoff is not None and entry.when is not None and entry.when < cutoff)
    ]
    if not dry_run:
        for entry in doomed:
            if entry.path.parent.resolve() == runs_dir.resolve():  # only ever a child of runs_dir
                shutil.rmtree(entry.path, ignore_errors=True)  # a concurrent prune may be first
    return Pruned(doomed, len(readable) - len(doomed), [e for e in entries if not e.readable])


def runs_cap(environ: Mapping[str, str] = os.environ) -> int:
    """How many runs :func:`enforce_cap` keeps: ``HARNESS_RUNS_KEEP``, else :data:`DEFAULT_KEEP`
    (0: no cap). ``ValueError`` for anything but a whole number ≥ 0."""
    value = environ.get(KEEP_VARIABLE, "").strip()
    if not value:
        return DEFAULT_KEEP
    if not value.isdigit():
        raise ValueError(f"{KEEP_VARIABLE}={value!r}: expected a whole number ≥ 0 (0 keeps every run)")
    return int(value)


def enforce_cap(runs_dir: Path, environ: Mapping[str, str] = os.environ) -> Pruned | None:
    """After a run: prune ``runs_dir`` to the newest :func:`runs_cap` records. Cheap while under
    the cap (a directory listing); a bad ``HARNESS_RUNS_KEEP`` is logged, not raised, so a run's
    end never fails over it."""
    try:
        keep = runs_cap(environ)
    except ValueError as exc:
        log.warning("runs directory not pruned: %s", exc)
        return None
    if keep == 0 or not runs_dir.is_dir():
        return None
    if sum(1 for path in runs_dir.iterdir() if (path / RECORD_FILE).is_file()) <= keep:
        return None
    return prune(runs_dir, keep=keep)
