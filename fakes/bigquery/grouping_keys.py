"""GROUPING SETS / ROLLUP / CUBE keys as BigQuery resolves them.

DuckDB and BigQuery differ on which grouping key an expression is:

* DuckDB matches a select expression such as ``a + 1`` to an equal grouping key ``a + 1``, so it is
  NULL in the sets without that key; BigQuery computes it from the grouped column ``a`` when every
  column it reads is itself a grouping key (``GROUPING SETS (a, a + 1)`` gives ``10, 11`` in set
  ``a``), and matches it to the key only otherwise;
* an integer in ``GROUPING SETS`` is an ordinal for BigQuery (DuckDB: a constant), and
  ``GROUPING(alias)`` names a select column (DuckDB refuses it).

So every key that is not a plain column is written ``CASE WHEN TRUE THEN k END`` (the same value,
which DuckDB never matches to a select expression by accident); ordinals and aliases become that
form of the select expression, and the select expressions that BigQuery matches to a key (ordinals,
aliases, expressions over a non-key column) and ``GROUPING`` arguments take the same form.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_SET_KINDS = (exp.GroupingSets, exp.Rollup, exp.Cube)


@handles(exp.Select)
def rewrite(node: exp.Expression) -> exp.Expression:
    """Fix the keys of a SELECT with grouping sets; resolve ``GROUPING(alias)`` in any SELECT."""
    if not isinstance(node, exp.Select) or not node.args.get("group"):
        return node
    aliases = _aliases(node)
    if any(isinstance(item, _SET_KINDS) for item in node.args["group"].expressions):
        _rewrite_keys(node, aliases)
    else:
        for grouping in _groupings(node):
            grouping.set("expressions", [_resolve_alias(arg, aliases) for arg in grouping.expressions])
    return node


def _rewrite_keys(select: exp.Select, aliases: dict[str, exp.Expression]) -> None:
    items = select.expressions
    leaves = list(_leaves(select.args["group"]))
    column_keys: set[str] = set()
    referenced: set[int] = set()  # select items a key names by ordinal or alias
    resolved: list[tuple[exp.Expression, exp.Expression]] = []
    for leaf in leaves:
        target = leaf
        position = _ordinal(leaf, len(items))
        if position is not None:
            referenced.add(position)
            target = items[position].unalias()
        elif isinstance(leaf, exp.Column) and not leaf.table and leaf.name.lower() in aliases:
            target = aliases[leaf.name.lower()]
            referenced.update(
                index for index, item in enumerate(items) if item.alias.lower() == leaf.name.lower()
            )
        if isinstance(target, exp.Column):
            column_keys.add(target.name.lower())
        resolved.append((leaf, target))
    keys = [target for _, target in resolved if not isinstance(target, exp.Column)]
    for leaf, target in resolved:
        replacement = target.copy() if isinstance(target, exp.Column) else _wrapped(target)
        leaf.replace(replacement)
    for index, item in enumerate(items):
        value = item.unalias()
        if isinstance(value, exp.Column) or not any(value == key for key in keys):
            continue
        if index in referenced or not _reads_only(value, column_keys):
            _replace_value(item, _wrapped(value))
    _wrap_matches(select, keys, column_keys)
    for grouping in _groupings(select):
        arguments = []
        for given in grouping.expressions:
            arg = _resolve_alias(given, aliases)
            arguments.append(arg if isinstance(arg, exp.Column) else _wrapped(arg))
        grouping.set("expressions", arguments)


def _wrap_matches(select: exp.Select, keys: list[exp.Expression], column_keys: set[str]) -> None:
    """In HAVING, QUALIFY and ORDER BY, an expression equal to a key that BigQuery matches to it."""
    found: list[exp.Expression] = []
    for clause in ("having", "qualify", "order"):
        if select.args.get(clause) is None:
            continue
        for node in select.args[clause].bfs():
            if (
                not isinstance(node, exp.Column)
                and not any(_within(node, f) for f in found)
                and any(node == key for key in keys)
                and not _reads_only(node, column_keys)
                and not isinstance(node.parent, exp.Grouping)
            ):
                found.append(node)
    for node in found:
        node.replace(_wrapped(node))


def _within(node: exp.Expression, ancestor: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _leaves(group: exp.Group):
    """The key expressions of a GROUP BY, inside grouping sets, tuples, ROLLUP and CUBE."""
    for item in group.expressions:
        yield from _leaves_of(item)


def _leaves_of(item: exp.Expression):
    if isinstance(item, (*_SET_KINDS, exp.Tuple)):
        for inner in item.expressions:
            yield from _leaves_of(inner)
    elif isinstance(item, exp.Paren):
        yield from _leaves_of(item.this)
    else:
        yield item


def _ordinal(leaf: exp.Expression, count: int) -> int | None:
    if isinstance(leaf, exp.Literal) and leaf.is_int and 1 <= int(leaf.this) <= count:
        return int(leaf.this) - 1
    return None


def _aliases(select: exp.Select) -> dict[str, exp.Expression]:
    """Select aliases whose expression is not a column of the same name."""
    found: dict[str, exp.Expression] = {}
    for item in select.expressions:
        if isinstance(item, exp.Alias):
            value = item.this
            if not (isinstance(value, exp.Column) and value.name.lower() == item.alias.lower()):
                found[item.alias.lower()] = value
    return found


def _resolve_alias(arg: exp.Expression, aliases: dict[str, exp.Expression]) -> exp.Expression:
    if isinstance(arg, exp.Column) and not arg.table and arg.name.lower() in aliases:
        return aliases[arg.name.lower()].copy()
    return arg


def _groupings(select: exp.Select) -> list[exp.Grouping]:
    """The ``GROUPING(...)`` calls of this SELECT (not of its subqueries)."""
    return [g for g in select.find_all(exp.Grouping) if g.parent_select is select]


def _reads_only(value: exp.Expression, column_keys: set[str]) -> bool:
    columns = list(value.find_all(exp.Column))
    return bool(columns) and all(column.name.lower() in column_keys for column in columns)


def _wrapped(value: exp.Expression) -> exp.Expression:
    if isinstance(value, exp.Case) and value.args.get("ifs") and value.args["ifs"][0].this == exp.true():
        return value.copy()
    return exp.Case(ifs=[exp.If(this=exp.true(), true=value.copy())])


def _replace_value(item: exp.Expression, value: exp.Expression) -> None:
    if isinstance(item, exp.Alias):
        item.set("this", value)
    else:
        item.replace(exp.alias_(value, item.output_name) if item.output_name else value)
