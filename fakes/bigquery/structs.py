"""STRUCT values written the short way, which sqlglot does not read as STRUCTs.

* ``[STRUCT(1 AS y, 2 AS x), (3, 4)]``: inside an array whose elements are STRUCTs, a parenthesized
  list ``(3, 4)`` is a STRUCT coerced to the array's element type (its fields named by the first
  STRUCT). sqlglot keeps it a tuple, so DuckDB built a list of mixed types and ``UNNEST`` of it
  did not expose the fields ``y`` and ``x`` as columns.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.Array)
def tuples_in_struct_arrays_are_structs(node: exp.Expression) -> exp.Expression:
    """An array literal mixing STRUCTs and tuples: the tuples become STRUCTs."""
    if not isinstance(node, exp.Array):
        return node
    elements = node.expressions
    if not any(isinstance(e, exp.Struct) for e in elements) or not any(
        isinstance(e, exp.Tuple) for e in elements
    ):
        return node
    for element in elements:
        if isinstance(element, exp.Tuple):
            element.replace(exp.Struct(expressions=[value.copy() for value in element.expressions]))
    if isinstance(node.parent, exp.Unnest):
        # What sqlglot's BigQuery parser sets for an UNNEST of STRUCTs: their fields become columns.
        node.parent.set("explode_array", True)
    return node
