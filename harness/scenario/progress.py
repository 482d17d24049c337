"""The one line per step that shows a run's progress, for every front end that runs scenarios.

``harness run`` / ``harness replay`` print these lines as the steps run (coloured, through rich);
a failing pytest scenario item shows the same lines, plain, under its failure report. One
formatter, so a step reads the same in a terminal and in a CI log::

      ok    2 onboard expecting SCALE [onboard]             201     12.3 ms  org scn_1a2b3c4d, plan STARTER
      FAIL  3 get_org                                       404      4.1 ms  ORG_NOT_FOUND: ...
      ok      cleanup: offboard scn_1a2b3c4d                200      8.0 ms  12 rows deleted, ...

A ``parallel`` step is its own line, then one line per sub-step, numbered ``4.1``, ``4.2``...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.scenario.outcome import RunOutcome, StepOutcome

if TYPE_CHECKING:
    from rich.console import Console

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
    from rich.markup import escape

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
