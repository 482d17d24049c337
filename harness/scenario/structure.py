"""A scenario file's structural mistakes, explained in the file's own words.

pydantic says *what* failed (``extra_forbidden`` at ``steps.2.expcet``); a person writing YAML by
hand needs *how to fix it*: an unknown key lists the keys allowed there and the closest one, a bad
value lists the accepted ones, a step with no or two actions names the step, a number where a
string belongs says to quote it.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic_core import ErrorDetails

from harness.scenario.model import (
    ACTIONS,
    NOT_IN_PARALLEL,
    PARALLEL,
    PARALLEL_OWN_KEYS,
    STEP_KINDS,
    Scenario,
    Step,
)
from harness.scenario.problems import IDENTIFIER, ScenarioError, all_steps, problem_at
from harness.yamlsource import (
    EXPECTED,
    Document,
    Loc,
    choices_of,
    describe_error,
    dotted,
    keys_at,
    kind_of,
    resolve_loc,
    unknown_key,
)


def check_actions(doc: Document, errors: list[ScenarioError]) -> set[Loc]:
    """A step has exactly one action key (or ``parallel``), and a ``parallel`` step holds what it
    can; returns the places of the steps that do not (their model errors say the same, less well)."""
    bad: set[Loc] = set()
    for loc, step in all_steps(doc):
        sub_step = len(loc) > 2
        problems = _parallel_problems(loc, step, sub_step)
        chosen = [key for key in step if key in STEP_KINDS]
        if len(chosen) != 1:
            if chosen:
                message = (
                    f"a step has exactly one action, found {len(chosen)}: {', '.join(chosen)}; "
                    "split them into separate steps"
                )
                problems.append((loc, message))
            else:
                unknown = [str(key) for key in step if key not in Step.model_fields]
                plain = [key for key in Step.model_fields if key not in STEP_KINDS]
                if all(difflib.get_close_matches(key, plain, n=1) for key in unknown):
                    # otherwise an unknown key meant as the action: its own error lists the actions
                    problems.append(
                        (loc, f"a step needs an action, found none; actions: {', '.join(STEP_KINDS)}")
                    )
        if problems:
            bad.add(loc)
            if sub_step and problems[0][0] != loc:  # the parallel step's own check says it too
                bad.add(loc[:2])
            errors.extend(problem_at(doc, where, message) for where, message in problems)
    return bad


def _parallel_problems(loc: Loc, step: dict[Any, Any], sub_step: bool) -> list[tuple[Loc, str]]:
    """What a ``parallel`` step or its sub-step holds that it cannot (the model says so for the
    whole step; here it is said at the key)."""
    if sub_step:
        return [
            ((*loc, key), f"{key} cannot be a sub-step of parallel: {NOT_IN_PARALLEL[key]}")
            for key in step
            if key in NOT_IN_PARALLEL
        ]
    if PARALLEL not in step:
        return []
    return [
        ((*loc, key), f"{key} goes on each sub-step of parallel, not on the parallel step")
        for key in step
        if key in PARALLEL_OWN_KEYS
    ]


def report_validation(
    doc: Document, details: list[ErrorDetails], bad_steps: set[Loc], errors: list[ScenarioError]
) -> None:
    """pydantic's errors, one message per place in the file, in the words of the file (the keys
    allowed there, the closest one, the accepted values), skipping what :func:`check_actions`
    already said."""
    groups: dict[Loc, list[ErrorDetails]] = {}
    for detail in details:
        loc, _ = resolve_loc(Scenario, tuple(detail["loc"]))
        if loc[-1:] == ("[key]",):  # a mapping key refused (an unknown tier in expect_on): at the key
            loc = loc[:-1]
        if detail["type"] == "value_error" and loc in bad_steps:
            continue  # the action count or a parallel step's contents, already reported in the file's words
        groups.setdefault(loc, []).append(detail)
    for loc, group in groups.items():
        error = problem_at(doc, loc, _describe(loc, group))
        if group[0]["type"] == "invalid_key":  # a key YAML read as a number, boolean or null
            error = ScenarioError(doc.path, error.line, dotted((*loc[:-1], str(loc[-1]))), error.message)
        errors.append(error)


def _describe(loc: Loc, group: list[ErrorDetails]) -> str:
    """One message for the errors pydantic reports at one place in the file (several when the
    value failed every member of a union, like ``auth: org | root | none | invalid | a string``)."""
    message = _explain(loc, group)
    value = group[0].get("input")
    if isinstance(value, dict) and len(value) == 1:
        [(key, item)] = value.items()
        if item is None and isinstance(key, str) and IDENTIFIER.match(key):
            # `slug: {org}` is YAML for the mapping {"org": null}, not a template
            message += f" (to use a template, quote it: '{{{key}}}')"
    return message


def _explain(loc: Loc, group: list[ErrorDetails]) -> str:
    if len(group) > 1:
        wanted = [_expected(detail) for detail in group]
        return f"expected {' or '.join(dict.fromkeys(wanted))}, got {_shown(group[0]['input'])}"
    detail = group[0]
    kind = detail["type"]
    value = detail.get("input")
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing" if loc else "required key is missing"
    if kind in ("enum", "literal_error"):
        return _not_one_of(value, _choices(detail))
    if kind in ("invalid_key", "extra_forbidden") and loc:
        allowed = keys_at(Scenario, loc[:-1])
        if not allowed:
            return f"unknown key {loc[-1]!r}; {dotted(loc[-2:-1])} takes no arguments (write {{}})"
        return unknown_key(loc[-1], allowed)
    if kind == "model_type" and loc[:1] == ("steps",) and len(loc) == 2:
        if isinstance(value, str) and value in ACTIONS:
            return f"a step is a mapping with one action key: write '- {value}: {{}}'"
        return f"expected a mapping with one action key, got {kind_of(value)}"
    if kind == "string_type" and isinstance(value, int | float):
        written = str(value).lower() if isinstance(value, bool) else value
        return f"expected a string, got {kind_of(value)} (quote it: '{written}')"
    if kind == "string_pattern_mismatch":
        pattern = detail.get("ctx", {}).get("pattern", "")
        hint = " (lowercase letters, digits and underscores)" if pattern == "^[a-z0-9_]+$" else ""
        return f"{value!r} does not match {pattern}{hint}"
    if kind == "too_short" and isinstance(value, list) and not value:
        return "must not be empty"
    if kind == "too_short" and loc[-1:] == (PARALLEL,) and isinstance(value, list):
        return f"parallel needs at least 2 sub-steps, got {len(value)}"
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {_shown(value)}"
    return describe_error(detail, Scenario)


def _expected(detail: ErrorDetails) -> str:
    if detail["type"] in ("enum", "literal_error"):
        return f"one of {', '.join(_choices(detail))}"
    return EXPECTED.get(detail["type"], detail["msg"])


def _choices(detail: ErrorDetails) -> list[str]:
    _, annotation = resolve_loc(Scenario, tuple(detail["loc"]))
    found = choices_of(annotation)
    if found is None:  # fall back on pydantic's "'a', 'b' or 'c'"
        found = re.findall(r"'([^']*)'", str(detail.get("ctx", {}).get("expected", "")))
    return found


def _not_one_of(value: object, choices: list[str]) -> str:
    message = f"{value!r} is not one of {', '.join(choices)}"
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _shown(value: object) -> str:
    """The kind of value, and the value itself when it is a short scalar."""
    kind = kind_of(value)
    if isinstance(value, str | int | float) and not isinstance(value, bool) and len(str(value)) <= 40:
        return f"{kind} {value!r}"
    return kind
