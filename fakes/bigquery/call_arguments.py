"""The arguments of a ``CALL`` statement, read apart from running it: a script binds them to its
variables' values (:mod:`fakes.bigquery.scripts`) before the engine runs the procedure
(:mod:`fakes.bigquery.routine_statements`)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from fakes.bigquery.exceptions import QuerySyntaxError
from fakes.bigquery.routines import split_args
from harness.ports import QueryParam

CALL = re.compile(r"(?is)^\s*CALL\s+([A-Za-z_`][A-Za-z0-9_.`-]*)\s*\(")
_ARGUMENT_IDS = itertools.count(1)


def bind_call(
    text: str, evaluate: Callable[[str], tuple[Any, str | None]]
) -> tuple[str, dict[str, QueryParam]]:
    """A script's ``CALL p(x + 1, 'a')`` as ``CALL p(@a1, @a2)`` and those parameters: each argument
    evaluated in the script (where its variables are known) to its value and type."""
    match = CALL.match(text)
    if match is None:
        return text, {}
    close = closing(text, match.end() - 1)
    params: dict[str, QueryParam] = {}
    for arg in split_args(text[match.end() : close]):
        value, type_text = evaluate(arg)
        params[f"__hx_call_{next(_ARGUMENT_IDS)}"] = QueryParam(type_text or "STRING", value)
    names = ", ".join(f"@{name}" for name in params)
    return f"{text[: match.end()]}{names}{text[close:]}", params


def closing(text: str, open_index: int) -> int:
    """The index of the parenthesis closing the one at ``open_index`` (quotes skipped)."""
    depth = 0
    quote = ""
    for index in range(open_index, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise QuerySyntaxError(detail="Expected ) after the routine's arguments")
