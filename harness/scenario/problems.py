"""What a problem in a scenario file is: ``path:line: field: message``, found in the file's words.

Shared by the loader's checks (:mod:`harness.scenario.structure`,
:mod:`harness.scenario.consistency`), which all work on the parsed YAML document so they can name
the line a problem is on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.yamlsource import Document, Loc, SourceError, dotted

#: What a variable name must look like to be usable as ``{name}`` in a template.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScenarioError(SourceError):
    """A problem in a scenario file: ``path:line: field: message``.

    ``errors`` holds every problem found in the file (this one first) when it comes from
    :func:`harness.scenario.loader.load_scenario`.
    """

    def __init__(self, path: str | Path, line: int | None, field: str, message: str) -> None:
        super().__init__(path, line, field, message)
        self.errors: tuple[ScenarioError, ...] = (self,)


def problem_at(doc: Document, loc: Loc, message: str) -> ScenarioError:
    """A problem at ``loc`` of the document, on the line that place is written on."""
    return ScenarioError(doc.path, doc.line_of(loc), dotted(loc), message)


def step_mappings(doc: Document) -> list[tuple[int, dict[Any, Any]]]:
    """The steps that are mappings, with their index (the others get a structural error)."""
    data = doc.data
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        return []
    return [(i, step) for i, step in enumerate(steps) if isinstance(step, dict)]


def all_steps(doc: Document) -> list[tuple[Loc, dict[Any, Any]]]:
    """Every step that is a mapping, with its place in the file: the steps, and after a
    ``parallel`` step its sub-steps (``steps.3.parallel.0``), in the order they are written."""
    found: list[tuple[Loc, dict[Any, Any]]] = []
    for i, step in step_mappings(doc):
        found.append((("steps", i), step))
        subs = step.get("parallel")
        if isinstance(subs, list):
            found.extend(
                (("steps", i, "parallel", j), sub) for j, sub in enumerate(subs) if isinstance(sub, dict)
            )
    return found
