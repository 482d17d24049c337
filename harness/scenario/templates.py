"""``{variable}`` templates in scenario strings.

``"e2e_{run_id}"`` → ``"e2e_3f9a01c2"``. A string that is exactly one template keeps the value's
type (a saved number stays a number). ``{{`` and ``}}`` are literal braces. Only identifier-shaped
names are templates, so JSON-ish text (``{"a": 1}``) passes through. An unknown name is an error
that names it and lists what is defined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TEMPLATE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    pass


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """``value`` with every template filled in; dicts (keys too) and lists recursively."""
    if isinstance(value, str):
        return _render_string(value, variables)
    if isinstance(value, dict):
        return {render(k, variables): render(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, variables) for item in value]
    return value


def _render_string(text: str, variables: Mapping[str, Any]) -> Any:
    whole = _TEMPLATE.fullmatch(text)
    if whole and whole.group(1):
        return _lookup(whole.group(1), variables)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return str(_lookup(match.group(1), variables))

    return _TEMPLATE.sub(replace, text)


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(f"unknown variable {{{name}}} (defined: {known})")
    value = variables[name]
    if value is None:
        raise TemplateError(f"variable {{{name}}} has no value yet")
    return value


def names(value: Any) -> set[str]:
    """The template names used in ``value``."""
    if isinstance(value, str):
        return {m.group(1) for m in _TEMPLATE.finditer(value) if m.group(1)}
    if isinstance(value, dict):
        return set().union(*(names(k) | names(v) for k, v in value.items())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(names(v) for v in value)) if value else set()
    return set()


def resolve_variables(declared: Mapping[str, str], builtins: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's ``variables`` filled in, in any order, over the built-ins; a cycle is an error."""
    resolved: dict[str, Any] = dict(builtins)
    pending = dict(declared)
    while pending:
        progress = False
        for name, template in list(pending.items()):
            needed = names(template) - {name}
            if needed & pending.keys():
                continue
            scope = {**resolved, **({name: builtins[name]} if name in builtins else {})}
            resolved[name] = render(template, scope)
            del pending[name]
            progress = True
        if not progress:
            raise TemplateError(f"variables refer to each other in a cycle: {', '.join(sorted(pending))}")
    return resolved
