"""Set operations whose DuckDB translation depends on their inputs' columns.

Two things BigQuery's set operations do that DuckDB's do not: match columns by name, and coerce a
STRING literal to the DATE / DATETIME / TIME / TIMESTAMP of the column it is combined with
(``SELECT date_col ... UNION ALL SELECT '2015-01-17'`` is a DATE column; DuckDB makes a VARCHAR).

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
(a :data:`Describe` callback the engine provides) for the columns of each side, then makes every
side a positional projection of the result columns (``NULL`` for the ones it lacks), or casts the
literal. That makes the translation depend on table schemas: :func:`needs_columns` tells the
caller to key its translation cache accordingly. Set operations are rewritten innermost first and the CTEs a
side can see are described with it, so a side built on another name-matched set operation (in a
subquery or a CTE) is described after that one became positional.

Checked, as BigQuery does: duplicate names in an input (only among the listed ones with a ``BY``
list), an INNER mode without a common column, a LEFT mode input sharing none with the first, a
strict mode whose inputs differ, a ``BY`` list naming a column an input must have (every input's
for INNER and strict, the first's for LEFT). Not checked: anonymous columns in an input (DuckDB
names them after their text), value tables, and a FULL ``BY`` list naming a column no input has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from fakes.bigquery.bottom_up import is_tree
from fakes.bigquery.exceptions import (
    CorrespondingColumnsDiffer,
    CorrespondingDuplicateColumn,
    CorrespondingNoCommonColumns,
)
from harness.ports import WarehouseError

Describe = Callable[[str, frozenset[str]], Sequence[tuple[str, str]]]
"""The columns of a DuckDB query (its SQL and the placeholders it uses): (name, DuckDB type)."""

_LITERAL_TARGETS = {
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
}
"""The DuckDB types of BigQuery's DATE, TIME, DATETIME and TIMESTAMP, which a STRING literal
coerces to where a set operation's other inputs have them."""

_INPUT_ALIAS = "__hx_set_input"


def needs_columns(tree: exp.Expression) -> bool:
    """Whether translating the statement asks for the columns of queries in it: a set operation
    matching columns by name, or one with a STRING literal in a select list."""
    for node in tree.find_all(exp.SetOperation):
        if node.args.get("by_name"):
            return True
        for item in (node.this, node.expression):
            select = _select_of(item)
            if select is not None and any(_is_string_literal(e) for e in select.expressions):
                return True
    return False


def resolve_set_operations(tree: exp.Expression, describe: Describe) -> exp.Expression:
    """``tree`` (DuckDB-ready, rewritten in place) with every name-matched set operation made
    positional and STRING literals coerced where a set operation's column is a date or time."""
    if tree.find(exp.SetOperation) is not None:  # the visit only acts at set operations
        _visit(tree, describe)
    return tree


def _visit(node: exp.Expression, describe: Describe) -> None:
    """Children before parents, a query's CTEs before its body (a later part may read them). A
    chain of one operation (``a op b op c``, which BigQuery reads as one operation over three
    inputs) is handled as a whole at its top, once its inputs are."""
    with_ = node.args.get("with_")
    children = [with_] if with_ is not None else []
    children += [child for child in node.iter_expressions() if child is not with_]
    for child in children:
        _visit(child, describe)
    if not isinstance(node, exp.SetOperation) or _is_link(node):
        return
    inputs = _chain(node)
    if node.args.get("by_name"):
        _make_positional(node, inputs, describe)
    else:
        _coerce_string_literals(node, inputs, describe)


def _is_link(node: exp.SetOperation) -> bool:
    """Whether ``node`` is the unparenthesized left operand of the same operation."""
    parent = node.parent
    return isinstance(parent, type(node)) and parent.this is node and _same_operation(parent, node)


def _chain(node: exp.SetOperation) -> list[exp.Expression]:
    """The inputs of a set operation, in order, through unparenthesized left operands that are the
    same operation."""
    inputs = [node.expression]
    left = node.this
    while isinstance(left, type(node)) and _same_operation(left, node):
        inputs.append(left.expression)
        left = left.this
    inputs.append(left)
    return inputs[::-1]


def _same_operation(one: exp.SetOperation, other: exp.SetOperation) -> bool:
    keys = ("distinct", "by_name", "side", "kind", "on")
    return all(one.args.get(key) == other.args.get(key) for key in keys)


def _make_positional(node: exp.SetOperation, inputs: list[exp.Expression], describe: Describe) -> None:
    """Every input made a projection of the result columns, the chain's operations positional."""
    ctes = _visible_ctes(node)
    columns = [_columns(item, ctes, describe) for item in inputs]
    result = _result_columns(node, columns)
    operation: exp.Expression = node
    for index in range(len(inputs) - 1, -1, -1):
        projection = _projection(inputs[index], columns[index], result)
        if index == 0:
            operation.set("this", projection)
            continue
        operation.set("expression", projection)
        for key in ("by_name", "side", "kind", "on"):
            operation.set(key, None)
        if index > 1:
            operation = operation.this


def _result_columns(node: exp.SetOperation, columns: list[Sequence[str]]) -> list[str]:
    """The result's column names by BigQuery's rules, after its checks of the inputs' names."""
    lowered = [[name.lower() for name in names] for names in columns]
    listed = node.args.get("on")
    matched = {column.name.lower() for column in listed} if listed else None
    for query, names in enumerate(lowered, start=1):
        for position, name in enumerate(names):
            if name in names[:position] and (matched is None or name in matched):
                raise CorrespondingDuplicateColumn(name=columns[query - 1][position], query=query)
    side = (node.args.get("side") or "").upper()
    kind = (node.args.get("kind") or "").upper()
    full = side == "FULL" or (kind == "OUTER" and not side)
    if listed:
        result = [column.name for column in listed]
        required = [] if full else lowered[:1] if side == "LEFT" else lowered
        _require(result, required)
        return result
    if full:
        result, seen = [], set()
        for names in columns:
            for name in names:
                if name.lower() not in seen:
                    seen.add(name.lower())
                    result.append(name)
        return result
    if side == "LEFT":
        if any(not set(lowered[0]) & set(names) for names in lowered[1:]):
            raise CorrespondingNoCommonColumns()
        return list(columns[0])
    if kind == "INNER":
        result = [name for name in columns[0] if all(name.lower() in names for names in lowered[1:])]
        if not result:
            raise CorrespondingNoCommonColumns()
        return result
    every = list(columns[0])  # strict: each input has the first one's columns, and no other
    for names in columns[1:]:
        every += [name for name in names if name.lower() not in {n.lower() for n in every}]
    _require(every, lowered)
    return list(columns[0])


def _require(names: Sequence[str], inputs: list[list[str]]) -> None:
    for query, present in enumerate(inputs, start=1):
        for name in names:
            if name.lower() not in present:
                raise CorrespondingColumnsDiffer(name=name, query=query)


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


def _coerce_string_literals(node: exp.SetOperation, inputs: list[exp.Expression], describe: Describe) -> None:
    """A STRING literal in an input's select list becomes the DATE / DATETIME / TIME / TIMESTAMP of
    the column it is combined with (BigQuery coerces literals to the set operation's supertype;
    DuckDB would make the column a VARCHAR). Left as it is when an input cannot be described
    on its own (a correlated subquery): DuckDB then decides as before."""
    literals = [
        (index, position, expression)
        for index, item in enumerate(inputs)
        if (select := _select_of(item)) is not None
        for position, expression in enumerate(select.expressions)
        if _is_string_literal(expression)
    ]
    if not literals:
        return
    ctes = _visible_ctes(node)
    try:
        types = [[kind for _, kind in _describe(item, ctes, describe)] for item in inputs]
    except WarehouseError:
        return
    for index, position, expression in literals:
        others = [kinds[position] for other, kinds in enumerate(types) if other != index and kinds[position:]]
        target = next((_LITERAL_TARGETS[kind] for kind in others if kind in _LITERAL_TARGETS), None)
        if target is None:
            continue
        literal = expression.this if isinstance(expression, exp.Alias) else expression
        literal.replace(exp.cast(literal.copy(), exp.DataType.build(target, dialect="duckdb")))


def _select_of(item: exp.Expression) -> exp.Select | None:
    while isinstance(item, exp.Subquery):
        item = item.this
    return item if isinstance(item, exp.Select) else None


def _is_string_literal(expression: exp.Expression) -> bool:
    value = expression.this if isinstance(expression, exp.Alias) else expression
    return isinstance(value, exp.Literal) and value.is_string


def _columns(side: exp.Expression, ctes: list[exp.CTE], describe: Describe) -> list[str]:
    return [name for name, _ in _describe(side, ctes, describe)]


def _describe(side: exp.Expression, ctes: list[exp.CTE], describe: Describe) -> Sequence[tuple[str, str]]:
    query = side.copy()
    while isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query):
        query = query.this
    if ctes:
        own = query.args.get("with_")
        with_ = exp.With(expressions=[cte.copy() for cte in ctes] + (list(own.expressions) if own else []))
        query.set("with_", with_)
    placeholders = frozenset(p.name for p in query.find_all(exp.Placeholder) if p.name)
    return describe(query.sql(dialect="duckdb", copy=not is_tree(query)), placeholders)


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
