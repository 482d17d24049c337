"""Set operations that match columns by name, rewritten as the positional ones DuckDB runs.

BigQuery's ``UNION`` / ``INTERSECT`` / ``EXCEPT`` can match their inputs' columns by name instead
of by position: ``[STRICT] CORRESPONDING [BY (...)]`` or ``BY NAME [ON (...)]``, in a column
propagation mode ``FULL [OUTER]`` (every column of any input, the missing ones NULL), ``LEFT
[OUTER]`` (the first input's columns), ``INNER`` (the columns every input has; what a bare
``CORRESPONDING`` means) or strict (the same columns everywhere; a bare ``BY NAME`` and ``STRICT
CORRESPONDING``). A ``BY``/``ON`` list names the result's columns, in its order. Names match
case-insensitively and keep the spelling of the first input that has them. sqlglot parses all of
these into one ``by_name`` set operation with ``side`` / ``kind`` / ``on``; DuckDB has only ``UNION
[ALL] BY NAME`` (the FULL mode, with an order of its own) and rejects the rest.

Which columns a side has is only known once its tables are resolved, so the rewrite asks DuckDB
(a :data:`Describe` callback the engine provides) for the column names of each side, then makes
every side a positional projection of the result columns (``NULL`` for the ones it lacks). That
makes the translation depend on table schemas: :func:`matches_by_name` tells the caller to key
its translation cache accordingly. Set operations are rewritten innermost first and the CTEs a
side can see are described with it, so a side built on another name-matched set operation (in a
subquery or a CTE) is described after that one became positional.

Not checked (the rewrite keeps going where BigQuery would refuse the query): a strict mode whose
inputs have different columns, an INNER mode with no common column, a ``BY`` list naming a column
an input lacks, and duplicate or anonymous column names in an input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

Describe = Callable[[str, frozenset[str]], Sequence[str]]
"""The column names of a DuckDB query (its SQL and the placeholders it uses)."""

_INPUT_ALIAS = "__hx_set_input"


def matches_by_name(tree: exp.Expression) -> bool:
    """Whether the statement has a set operation that matches columns by name."""
    return any(node.args.get("by_name") for node in tree.find_all(exp.SetOperation))


def match_columns_by_name(tree: exp.Expression, describe: Describe) -> exp.Expression:
    """``tree`` (DuckDB-ready, rewritten in place) with every name-matched set operation made
    positional."""
    _visit(tree, describe)
    return tree


def _visit(node: exp.Expression, describe: Describe) -> None:
    """Children before parents, a query's CTEs before its body (a later part may read them)."""
    with_ = node.args.get("with_")
    children = [with_] if with_ is not None else []
    children += [child for child in node.iter_expressions() if child is not with_]
    for child in children:
        _visit(child, describe)
    if isinstance(node, exp.SetOperation) and node.args.get("by_name"):
        _make_positional(node, describe)


def _make_positional(node: exp.SetOperation, describe: Describe) -> None:
    ctes = _visible_ctes(node)
    left, right = node.this, node.expression
    left_columns = _columns(left, ctes, describe)
    right_columns = _columns(right, ctes, describe)
    result = _result_columns(node, left_columns, right_columns)
    node.set("this", _projection(left, left_columns, result))
    node.set("expression", _projection(right, right_columns, result))
    for key in ("by_name", "side", "kind", "on"):
        node.set(key, None)


def _result_columns(node: exp.SetOperation, left: Sequence[str], right: Sequence[str]) -> list[str]:
    listed = node.args.get("on")
    if listed:
        return [column.name for column in listed]
    side = (node.args.get("side") or "").upper()
    kind = (node.args.get("kind") or "").upper()
    left_names = {name.lower() for name in left}
    right_names = {name.lower() for name in right}
    if side == "FULL" or (kind == "OUTER" and not side):
        seen = set(left_names)
        extra = []
        for name in right:
            if name.lower() not in seen:
                seen.add(name.lower())
                extra.append(name)
        return [*left, *extra]
    if kind == "INNER":
        return [name for name in left if name.lower() in right_names]
    return list(left)  # LEFT, and strict (whose inputs have the same columns)


def _projection(side: exp.Expression, columns: Sequence[str], result: Sequence[str]) -> exp.Select:
    """``SELECT <result columns> FROM (side)``: the side's own column where it has one, else NULL."""
    spelled: dict[str, str] = {}
    for name in columns:
        spelled.setdefault(name.lower(), name)
    projections = []
    for name in result:
        source = spelled.get(name.lower())
        value = exp.column(source, quoted=True) if source is not None else exp.null()
        projections.append(exp.alias_(value, name, quoted=True))
    source_query = exp.Subquery(this=side, alias=exp.TableAlias(this=exp.to_identifier(_INPUT_ALIAS)))
    return exp.select(*projections).from_(source_query)


def _columns(side: exp.Expression, ctes: list[exp.CTE], describe: Describe) -> Sequence[str]:
    query = side.copy()
    while isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query):
        query = query.this
    if ctes:
        own = query.args.get("with_")
        with_ = exp.With(expressions=[cte.copy() for cte in ctes] + (list(own.expressions) if own else []))
        query.set("with_", with_)
    placeholders = frozenset(p.name for p in query.find_all(exp.Placeholder) if p.name)
    return describe(query.sql(dialect="duckdb"), placeholders)


def _visible_ctes(node: exp.Expression) -> list[exp.CTE]:
    """The CTEs a side of ``node`` can read: those of the enclosing queries (outermost first) and,
    inside a WITH list, only the ones defined before the CTE the node is in. The innermost of two
    with one name wins."""
    scopes: list[list[exp.CTE]] = []
    child: exp.Expression | None = None
    current: exp.Expression | None = node
    while current is not None:
        if isinstance(current, exp.With) and isinstance(child, exp.CTE):
            scopes.append(list(current.expressions[: child.index]))
        else:
            with_ = current.args.get("with_")
            if with_ is not None and with_ is not child:
                scopes.append(list(with_.expressions))
        child, current = current, current.parent
    visible: dict[str, exp.CTE] = {}
    for scope in reversed(scopes):
        for cte in scope:
            visible.pop(cte.alias_or_name.lower(), None)
            visible[cte.alias_or_name.lower()] = cte
    return list(visible.values())
