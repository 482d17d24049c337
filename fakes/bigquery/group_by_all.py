"""``GROUP BY ALL`` with BigQuery's keys, written out for DuckDB.

BigQuery infers the keys from the SELECT items, leaving out those with an aggregate or a window
function and those that read no column (constants, parameters); with no key left the query is one
group. DuckDB's ``GROUP BY ALL`` keeps constants as keys (``SELECT 'a' ... GROUP BY ALL`` gives a
row per input row there) and refuses ``QUALIFY`` beside it, so in those cases the keys are written
explicitly (a column in a subquery counts: ``(SELECT t.x)`` is a key).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.Select)
def rewrite(node: exp.Expression) -> exp.Expression:
    """A SELECT's ``GROUP BY ALL`` as the list of keys BigQuery infers."""
    if not isinstance(node, exp.Select):
        return node
    group = node.args.get("group")
    if group is None or not group.args.get("all") or group.expressions:
        return node
    if any(isinstance(item.unalias(), exp.Star) or _has(item, exp.Star) for item in node.expressions):
        return node
    candidates = [i for i in node.expressions if not _has(i, exp.AggFunc) and not _has(i, exp.Window)]
    keys = [item.unalias().copy() for item in candidates if item.find(exp.Column)]
    if len(keys) == len(candidates) and not node.args.get("qualify"):
        return node  # DuckDB infers the same keys
    node.set("group", exp.Group(expressions=keys) if keys else exp.Group(expressions=[exp.Tuple()]))
    return node


def _has(item: exp.Expression, kind: type[exp.Expression]) -> bool:
    """Whether ``item`` holds a ``kind`` node outside its subqueries."""
    stack = [item]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        stack.extend(child for child in node.iter_expressions() if not isinstance(child, exp.Query))
    return False
