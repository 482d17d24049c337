"""What a scenario file must be beyond its structure: consistent with itself.

* every ``{variable}`` in a template has a value where it is used: one of the scenario's
  ``variables``, a built-in (:data:`BUILTIN_VARIABLES`: ``run_id``, ``root_key`` and ``org`` from
  the start, ``api_key``, ``last_run_id`` and ``last_event_id`` after a step that sets them,
  :data:`SET_BY`), or saved (``save:``) by an earlier step;
* variables do not use each other in a cycle, and ``org.slug`` does not use ``{org}`` (which is
  the slug) unless a variable named ``org`` is defined;
* variable names (``variables``, ``save``) can be used in a template;
* step names are unique (sub-steps of ``parallel`` included), and a fault's ``before_step`` names
  a step (by name or action);
* a step's ``instance`` is one the scenario has (``instances``), and its ``expect_on`` names
  tiers the scenario runs on (``tiers``);
* ``count_rows`` names a table that exists, and ``expect.rows`` is only on ``count_rows``;
* ``tiers`` is not empty.

The checks work on the raw YAML data, not the model, so these problems are reported together with
the structural ones (:mod:`harness.scenario.structure`) and name their line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from harness.scenario.actions import ORG_DATASET_TABLES
from harness.scenario.model import ACTIONS, PARALLEL, STEP_KINDS, Tier
from harness.scenario.problems import IDENTIFIER, ScenarioError, all_steps, problem_at, step_mappings
from harness.yamlsource import Document, Loc, dotted

#: Variables every run defines, whatever the scenario says.
BUILTIN_VARIABLES: frozenset[str] = frozenset(
    {"run_id", "org", "api_key", "root_key", "last_run_id", "last_event_id"}
)

#: A ``{name}`` template; ``{{`` and ``}}`` are literal braces, and ``{3}`` (a regex count) is no
#: template because a variable name starts with a letter or an underscore.
TEMPLATE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: The built-ins that have a value from the start of a run (``org`` is the org's slug).
_AT_START: frozenset[str] = frozenset({"run_id", "root_key", "org"})

#: The built-ins a step sets, and the actions whose steps set them.
SET_BY: dict[str, tuple[str, ...]] = {
    "api_key": ("onboard", "rotate_key"),
    "last_run_id": ("run_pipeline",),
    "last_event_id": ("send_webhook",),
}


def template_names(text: str) -> list[str]:
    """The variables a template string refers to, in order: ``"e2e_{run_id}"`` -> ``["run_id"]``."""
    return [match.group(1) for match in TEMPLATE.finditer(text) if match.group(1)]


def check_consistency(doc: Document, errors: list[ScenarioError]) -> None:
    """What the model cannot see field by field; works on the raw data, so these problems are
    reported together with the structural ones."""
    data = doc.data
    if not isinstance(data, dict):
        return
    steps = step_mappings(doc)
    if data.get("tiers") == []:
        errors.append(
            problem_at(doc, ("tiers",), f"list at least one tier ({', '.join(t.value for t in Tier)})")
        )
    _check_step_names(doc, errors)
    _check_before_step(doc, steps, errors)
    _check_count_rows(doc, errors)
    _check_instances(doc, errors)
    _check_expect_on(doc, errors)
    _check_templates(doc, steps, errors)


def _check_instances(doc: Document, errors: list[ScenarioError]) -> None:
    instances = doc.data.get("instances", 1)
    if not isinstance(instances, int) or isinstance(instances, bool):
        return  # the structural check says what is wrong with it
    for loc, step in all_steps(doc):
        instance = step.get("instance")
        if isinstance(instance, int) and not isinstance(instance, bool) and instance > instances:
            errors.append(
                problem_at(
                    doc,
                    (*loc, "instance"),
                    f"instance {instance}, but the scenario has instances: {instances} "
                    f"(set instances: {instance} at the top)",
                )
            )


def _check_expect_on(doc: Document, errors: list[ScenarioError]) -> None:
    """An ``expect_on`` tier the scenario never runs on is a typo or a stale line: it would never apply."""
    data = doc.data if isinstance(doc.data, dict) else {}
    tiers = data.get("tiers", [tier.value for tier in Tier])
    if not isinstance(tiers, list):
        return
    known = {t.value for t in Tier}
    for loc, step in all_steps(doc):
        expect_on = step.get("expect_on")
        errors.extend(
            problem_at(
                doc,
                (*loc, "expect_on", tier),
                f"the scenario does not run on {tier} (tiers: {', '.join(map(str, tiers))}), "
                "so this never applies",
            )
            for tier in (expect_on if isinstance(expect_on, dict) else ())
            if tier in known and tier not in tiers
        )


def _check_count_rows(doc: Document, errors: list[ScenarioError]) -> None:
    """Here rather than only in the pre-run check, so ``scenario lint`` finds it and names the line."""
    from harness.schema.loader import load_config

    tables = sorted(set(load_config().table_names) | ORG_DATASET_TABLES)
    for loc, step in all_steps(doc):
        expect_on = step.get("expect_on")
        places = [(("expect",), step.get("expect"))] + [
            (("expect_on", tier), expect)
            for tier, expect in (expect_on.items() if isinstance(expect_on, dict) else ())
        ]
        for where, expect in places:
            if isinstance(expect, dict) and "rows" in expect and "count_rows" not in step:
                errors.append(
                    problem_at(doc, (*loc, *where, "rows"), "expect.rows applies to count_rows only")
                )
        args = step.get("count_rows")
        table = args.get("table") if isinstance(args, dict) else None
        if not isinstance(table, str) or table in tables or template_names(table):
            continue
        message = f"unknown table {table!r}; tables: {', '.join(tables)}"
        close = difflib.get_close_matches(table, tables, n=1)
        message += f" (did you mean {close[0]!r}?)" if close else ""
        errors.append(problem_at(doc, (*loc, "count_rows", "table"), message))


def _check_step_names(doc: Document, errors: list[ScenarioError]) -> None:
    seen: dict[str, Loc] = {}
    for loc, step in all_steps(doc):
        name = step.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            errors.append(
                problem_at(doc, (*loc, "name"), f"duplicate step name {name!r} (also {dotted(seen[name])})")
            )
        else:
            seen[name] = loc


def _check_before_step(
    doc: Document, steps: list[tuple[int, dict[Any, Any]]], errors: list[ScenarioError]
) -> None:
    faults = doc.data.get("faults")
    if not isinstance(faults, list):
        return
    labels: list[str] = []
    for _, step in steps:
        name = step.get("name")
        labels.extend([name] if isinstance(name, str) else [])
        labels.extend(key for key in step if key in STEP_KINDS)
    labels = list(dict.fromkeys(labels))
    for i, fault in enumerate(faults):
        target = fault.get("before_step") if isinstance(fault, dict) else None
        if not isinstance(target, str) or target in labels:
            continue
        message = f"before_step {target!r} names no step; steps: {', '.join(labels) or 'none'}"
        close = difflib.get_close_matches(target, labels, n=1)
        message += f" (did you mean {close[0]!r}?)" if close else ""
        errors.append(problem_at(doc, ("faults", i, "before_step"), message))


def _check_templates(
    doc: Document, steps: list[tuple[int, dict[Any, Any]]], errors: list[ScenarioError]
) -> None:
    """Every ``{name}`` has a value where it is used: ``run_id``, ``root_key``, ``org`` and the
    ``variables`` everywhere; ``api_key``, ``last_run_id`` and ``last_event_id`` once a step that
    sets them ran (:data:`SET_BY`); a step's ``save`` from the next step on."""
    data = doc.data
    variables = data.get("variables")
    _check_names(doc, ("variables",), variables, errors)
    declared = frozenset(
        name for name in (variables if isinstance(variables, dict) else ()) if isinstance(name, str)
    )
    start = _AT_START | {name for name in declared if IDENTIFIER.match(name)}
    not_yet = {
        name: f"it has no value before the steps run ({' or '.join(SET_BY[name])} sets it)"
        for name in SET_BY
        if name not in declared
    }
    _check_variables(doc, variables, start, not_yet, errors)
    _check_org(doc, data.get("org"), declared, start, not_yet, errors)

    saved_by: dict[str, Loc] = {}
    for loc, step in all_steps(doc):
        save = step.get("save")
        for name in save if isinstance(save, dict) else ():
            if isinstance(name, str):
                saved_by.setdefault(name, loc)
    _check_strings(
        doc, ("faults",), data.get("faults"), start | BUILTIN_VARIABLES | set(saved_by), {}, errors
    )

    defined = set(start)
    for i, step in steps:
        later = {
            name: f"it is saved by a later step ({dotted(saved_by[name])})"
            for name in saved_by
            if name not in defined
        }
        later.update(
            (name, f"{' or '.join(SET_BY[name])} sets it, and no such step comes before")
            for name in SET_BY
            if name not in defined
        )
        subs = step.get(PARALLEL)
        group = (
            [(("steps", i, PARALLEL, j), sub) for j, sub in enumerate(subs) if isinstance(sub, dict)]
            if isinstance(subs, list)
            else [(("steps", i), step)]
        )
        # sub-steps of parallel run at once: none sees what another sets or saves
        siblings = {
            name: f"it is saved by {dotted(where)}, which runs at the same time"
            for name, where in saved_by.items()
            if where[:3] == ("steps", i, PARALLEL) and name not in defined
        }
        after = set(defined)
        for loc, each in group:
            after |= _check_step_templates(doc, loc, each, defined, {**later, **siblings}, errors)
        defined = after


def _check_step_templates(
    doc: Document,
    loc: Loc,
    step: dict[Any, Any],
    defined: set[str],
    later: dict[str, str],
    errors: list[ScenarioError],
) -> set[str]:
    """One step's templates against what is ``defined`` before it; returns what it defines."""
    actions = {key for key in step if key in ACTIONS}
    sets_now = {name for name, setters in SET_BY.items() if actions & set(setters)}
    for key, value in step.items():
        if key == PARALLEL:
            continue
        # a step's response (and what it sets) is there for its expectations, not its request
        scope = defined | sets_now if key in ("expect", "save") else defined
        _check_strings(doc, (*loc, key), value, scope, later, errors)
    save = step.get("save")
    _check_names(doc, (*loc, "save"), save, errors)
    saved = {name for name in save if isinstance(name, str)} if isinstance(save, dict) else set()
    return sets_now | saved


def _check_variables(
    doc: Document,
    variables: object,
    defined: frozenset[str],
    not_yet: dict[str, str],
    errors: list[ScenarioError],
) -> None:
    """Variables may use each other in any order, but not in a cycle; a variable may only use its
    own name when it overrides a built-in (``org: e2e_{org}``)."""
    if not isinstance(variables, dict):
        return
    uses: dict[str, set[str]] = {}
    for name, template in variables.items():
        if not isinstance(name, str):
            continue
        _check_strings(doc, ("variables", name), template, defined, not_yet, errors)
        used = set(template_names(template)) if isinstance(template, str) else set()
        if name in used and name not in BUILTIN_VARIABLES:
            errors.append(problem_at(doc, ("variables", name), f"variable {name!r} uses itself"))
        uses[name] = {other for other in used if other in variables and other != name}
    cycle = sorted(name for name in uses if name in _reachable(uses, name))
    if cycle:
        errors.append(
            problem_at(doc, ("variables",), f"variables use each other in a cycle: {', '.join(cycle)}")
        )


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def _check_org(
    doc: Document,
    org: object,
    declared: frozenset[str],
    defined: frozenset[str],
    not_yet: dict[str, str],
    errors: list[ScenarioError],
) -> None:
    """Without a variable named ``org``, ``{org}`` *is* ``org.slug``, so the slug cannot use it."""
    _check_strings(doc, ("org",), org, defined, not_yet, errors)
    slug = org.get("slug") if isinstance(org, dict) else None
    if isinstance(slug, str) and "org" not in declared and "org" in template_names(slug):
        errors.append(
            problem_at(
                doc,
                ("org", "slug"),
                "org.slug cannot use {org}: {org} is this slug (or define a variable named org)",
            )
        )


def _check_names(doc: Document, loc: Loc, mapping: object, errors: list[ScenarioError]) -> None:
    """Variable names must be usable in a template."""
    if not isinstance(mapping, dict):
        return
    errors.extend(
        problem_at(
            doc,
            (*loc, name),
            f"variable name {name!r} cannot be used as {{{name}}}: "
            "use letters, digits and underscores, not starting with a digit",
        )
        for name in mapping
        if isinstance(name, str) and not IDENTIFIER.match(name)
    )


def _check_strings(
    doc: Document,
    loc: Loc,
    value: object,
    defined: set[str] | frozenset[str],
    pending: dict[str, str],
    errors: list[ScenarioError],
) -> None:
    """Report each template name in ``value`` that is not ``defined``; ``pending`` explains the
    names that will have a value, but not yet."""
    for where, text in _strings(loc, value):
        for name in template_names(text):
            if name in defined:
                continue
            if name in pending:
                message = f"undefined variable {{{name}}}: {pending[name]}"
            else:
                known = sorted(defined)
                message = f"undefined variable {{{name}}}; defined: {', '.join(known)}"
                close = difflib.get_close_matches(name, known, n=1)
                message += f" (did you mean {{{close[0]}}}?)" if close else ""
            errors.append(problem_at(doc, where, message))


def _strings(loc: Loc, value: object) -> Iterator[tuple[Loc, str]]:
    """Every string below ``loc``, mapping keys included (``body: {"items.{i}.id": 1}``)."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield (*loc, key), key
            yield from _strings((*loc, key), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings((*loc, i), item)
