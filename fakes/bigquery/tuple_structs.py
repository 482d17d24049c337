"""A parenthesized list selected as a value, ``SELECT (1, 'a') AS x``, is a STRUCT in GoogleSQL
(the tuple syntax of the STRUCT constructor). sqlglot keeps it a tuple, which DuckDB returns as an
unnamed row the fake typed as STRING; here it becomes the STRUCT it is, its fields anonymous
(``_0``, ``_1``... as the fake stores unnamed fields) even where they are columns. Tuples elsewhere (``(a, b)
IN ((1, 2))``, ``UNNEST([(1, 2)])``) are left to the rewrites that read them.

A STRUCT type with anonymous fields (``CAST(NULL AS STRUCT<INT64, INT64>)``) names them the same
way, since DuckDB's STRUCT type needs field names.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles


@handles(exp.Select)
def selected_tuples_are_structs(node: exp.Expression) -> exp.Expression:
    """``SELECT (x, y)`` → ``SELECT STRUCT(x AS _0, y AS _1)``."""
    if not isinstance(node, exp.Select):
        return node
    for projection in node.expressions:
        value = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Tuple):
            fields = [
                exp.PropertyEQ(this=exp.to_identifier(f"_{i}"), expression=e.copy())
                for i, e in enumerate(value.expressions)
            ]
            value.replace(exp.Struct(expressions=fields))
    return node


@handles(exp.DataType)
def anonymous_struct_fields_are_named(node: exp.Expression) -> exp.Expression:
    """``STRUCT<INT64, STRING>`` (a type with anonymous fields, as in ``CAST(NULL AS ...)``):
    DuckDB needs a name per field, so they get the names the fake gives unnamed fields."""
    if not (isinstance(node, exp.DataType) and node.this == exp.DataType.Type.STRUCT):
        return node
    if not any(isinstance(field, exp.DataType) for field in node.expressions):
        return node
    fields = [
        exp.ColumnDef(this=exp.to_identifier(f"_{i}"), kind=field)
        if isinstance(field, exp.DataType)
        else field
        for i, field in enumerate(node.expressions)
    ]
    node.set("expressions", fields)
    return node
