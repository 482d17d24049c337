"""``ORDER BY x COLLATE @name``: a query parameter as the collation specification.

GoogleSQL's analyzer takes a STRING parameter after ``COLLATE`` in ``ORDER BY`` (and only there:
``COLLATE(s, @p)`` must be a literal), its error reading "COLLATE must be followed by a string
literal or a string parameter". DuckDB needs the collation at translation time, so the
parameter's value is written into the statement as a literal before it is translated; the
translation cache keys on the values bound so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlglot import exp

from fakes.bigquery.sql import ParsedStatement
from harness.ports import QueryParam


def bind_order_by_collations(
    statement: ParsedStatement, params: dict[str, Any]
) -> tuple[ParsedStatement, tuple[str, ...]]:
    """The statement with each ``ORDER BY ... COLLATE @p`` given ``@p``'s STRING value (``@p`` no
    longer among its parameters unless used elsewhere), and the values bound (for the
    translation cache key). A parameter that is missing, NULL or not a
    STRING is left for the collation fixes to refuse."""
    if not has_parameter_collations(statement.tree):
        return statement, ()
    tree = statement.tree.copy()
    bound, names = [], set()
    for collate in list(tree.find_all(exp.Collate)):
        if not _is_parameter_collation(collate):
            continue
        name = collate.expression.name
        value = _string_value(params, name)
        if value is not None:
            collate.set("expression", exp.Literal.string(value))
            bound.append(value)
            names.add(name)
    still_used = {p.name for p in tree.find_all(exp.Parameter)}
    params_left = {p for p in statement.params if p not in names or p in still_used}
    return replace(statement, tree=tree, params=params_left), tuple(bound)


def has_parameter_collations(tree: exp.Expression) -> bool:
    """Whether any ``ORDER BY ... COLLATE @p`` is in the tree (only then is there anything to bind)."""
    return any(_is_parameter_collation(c) for c in tree.find_all(exp.Collate))


def _is_parameter_collation(collate: exp.Collate) -> bool:
    return isinstance(collate.expression, exp.Parameter) and isinstance(collate.parent, exp.Ordered)


def _string_value(params: dict[str, Any], name: str) -> str | None:
    lowered = {key.lower(): value for key, value in params.items()}
    value = lowered.get(name.lower())
    if isinstance(value, QueryParam):
        return value.value if value.type == "STRING" and isinstance(value.value, str) else None
    return value if isinstance(value, str) else None
