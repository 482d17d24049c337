"""The one line per step that shows a run's progress, for every front end that runs scenarios.

``harness run`` / ``harness replay`` print these lines as the steps run (coloured, through rich);
a failing pytest scenario item shows the same lines, plain, under its failure report. One
formatter, so a step reads the same in a terminal and in a CI log::

      ok    2 onboard expecting SCALE [onboard]             201     12.3 ms  org scn_1a2b3c4d, plan STARTER
      FAIL  3 get_org                                       404      4.1 ms  ORG_NOT_FOUND: ...
      ok      cleanup: offboard scn_1a2b3c4d                200      8.0 ms  12 rows deleted, ...

A ``parallel`` step is its own line, then one line per sub-step, numbered ``4.1``, ``4.2``...
Over a batch, :class:`BatchProgress` numbers the scenarios ``[n/N]`` with elapsed time and an ETA.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.markup import escape

from harness.scenario.outcome import RunOutcome, StepOutcome

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

LABEL_WIDTH = 44


def step_line(step: StepOutcome, *, markup: bool = False) -> str:
    """One step: mark, number (blank for cleanup), label, HTTP status, time, detail. With
    ``markup`` the mark is coloured and the rest escaped, for rich's ``Console.print``."""
    number = "   " if step.cleanup else f"{step.number:>3}"
    status = str(step.status) if step.status is not None else "—"
    label = step.label if len(step.label) <= LABEL_WIDTH else step.label[: LABEL_WIDTH - 1] + "…"
    label = f"{label:<{LABEL_WIDTH}}"
    timing = f"{status:>4} {step.elapsed_ms:8.1f} ms"
    if not markup:
        return f"  {'ok  ' if step.ok else 'FAIL'} {number} {label} {timing}  {step.detail}".rstrip()
    mark = "[green]ok  [/green]" if step.ok else "[bold red]FAIL[/bold red]"
    return f"  {mark} {number} {escape(label)} {timing}  [dim]{escape(step.detail)}[/dim]"


def step_lines(outcome: RunOutcome) -> list[str]:
    """Every step of a finished run as :func:`step_line` shows it (plain), cleanup included."""
    cleanup = outcome.cleanup.steps if outcome.cleanup is not None else []
    return [step_line(line) for step in [*outcome.steps, *cleanup] for line in _with_sub_steps(step)]


def _with_sub_steps(step: StepOutcome) -> list[StepOutcome]:
    return [step, *step.parallel]


def step_printer(out: Console) -> Callable[[StepOutcome], None]:
    """An ``on_step`` callback for :func:`~harness.scenario.runner.run_scenario` that prints each
    step's line on ``out`` as it finishes (``harness run``, ``harness replay``)."""

    def show(step: StepOutcome) -> None:
        for line in _with_sub_steps(step):
            out.print(step_line(line, markup=True), highlight=False, soft_wrap=True)

    return show


class BatchProgress:
    """``[n/N]``, elapsed time and an ETA over a batch of scenarios (``harness run``).

    On a terminal (and without ``NO_COLOR``) a rich progress bar stays under the step lines;
    elsewhere — CI logs, pipes — each scenario's header line carries the same numbers in plain
    text. The times are for the reader only: ``now`` is injectable, and nothing decides on them."""

    def __init__(
        self, out: Console, total: int, *, live: bool | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.out = out
        self.total = total
        if live is None:
            live = total > 1 and out.is_terminal and not os.environ.get("NO_COLOR")
        self.live = live
        self._now = now
        self._started = now()
        self._done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("scenarios"),
                MofNCompleteColumn(),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("[dim]{task.description}[/dim]"),
                console=self.out,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, name: str, path: str) -> None:
        """A scenario begins: its header line (name first, as it always was), then ``[n/N]``
        when there are several, and in plain text the elapsed time and the ETA."""
        header = f"[bold]{escape(name)}[/bold] [dim]{escape(path)}[/dim]"
        if self.total > 1:
            number = f"[{self._done + 1}/{self.total}]"
            timing = "" if self._bar is not None else f" {self.timing()}"
            header += f"  [dim]{escape(number)}{escape(timing)}[/dim]"
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=name)
        self.out.print(header, highlight=False)

    def finish(self) -> None:
        """The scenario that began last has ended (passed, failed, skipped or refused)."""
        self._done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)

    def timing(self) -> str:
        """``elapsed 12.0 s, ETA 30.0 s`` (the ETA from the mean time per scenario so far)."""
        elapsed = self._now() - self._started
        if not self._done:
            return f"elapsed {_seconds(elapsed)}, ETA —"
        remaining = elapsed / self._done * (self.total - self._done)
        return f"elapsed {_seconds(elapsed)}, ETA {_seconds(remaining)}"


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s"
