"""``UPDATE ... SET`` targets DuckDB refuses: struct fields, table-qualified columns, ``DEFAULT``.

BigQuery sets one field of a STRUCT column in place (``SET s.a = 1, s.b.c = 2``); DuckDB's
``UPDATE`` only takes whole columns ("Qualified column names in UPDATE .. SET not supported"), so
the assignments to one column become one ``s = STRUCT_UPDATE(s, a := 1, b := STRUCT_UPDATE(s.b,
c := 2))``. Setting a field of a NULL struct is BigQuery's error "Cannot set field of NULL STRUCT".
``SET t.col = ...`` with the target's name is the column; ``SET col = DEFAULT`` is NULL (the fake
keeps no column defaults).
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

NULL_STRUCT_MESSAGE = "Cannot set field of NULL STRUCT"


@handles(exp.Update)
def update_struct_fields(node: exp.Expression) -> exp.Expression:
    """The UPDATE with its SET list in the form DuckDB takes."""
    if not isinstance(node, exp.Update) or not node.expressions:
        return node
    target = node.this
    names = {target.alias_or_name.lower(), target.name.lower()} if isinstance(target, exp.Table) else set()
    plain: list[exp.Expression] = []
    fields: dict[str, list[tuple[list[str], exp.Expression]]] = {}
    roots: dict[str, str] = {}
    changed = False
    for assignment in node.expressions:
        if not isinstance(assignment, exp.EQ) or not isinstance(assignment.this, exp.Column):
            plain.append(assignment)
            continue
        value = assignment.expression
        if isinstance(value, exp.Column) and not value.table and value.name.upper() == "DEFAULT":
            value = exp.Null()
            changed = True
        parts = [part.name for part in assignment.this.parts]
        if len(parts) > 1 and parts[0].lower() in names:
            parts = parts[1:]
            changed = True
        if len(parts) == 1:
            plain.append(exp.EQ(this=exp.column(parts[0]), expression=value))
            continue
        changed = True
        roots.setdefault(parts[0].lower(), parts[0])
        fields.setdefault(parts[0].lower(), []).append((parts[1:], value))
    if not changed:
        return node
    for key, assignments in fields.items():
        root = exp.column(roots[key])
        plain.append(exp.EQ(this=root.copy(), expression=_updated(root, assignments)))
    node.set("expressions", plain)
    return node


def _updated(base: exp.Expression, assignments: list[tuple[list[str], exp.Expression]]) -> exp.Expression:
    """``base`` with the assigned fields replaced (an error where ``base`` is NULL)."""
    direct: dict[str, exp.Expression] = {}
    nested: dict[str, list[tuple[list[str], exp.Expression]]] = {}
    for path, value in assignments:
        if len(path) == 1:
            direct[path[0]] = value
        else:
            nested.setdefault(path[0], []).append((path[1:], value))
    pairs = [exp.PropertyEQ(this=exp.to_identifier(name), expression=value) for name, value in direct.items()]
    for name, inner in nested.items():
        field = exp.Anonymous(this="STRUCT_EXTRACT", expressions=[base.copy(), exp.Literal.string(name)])
        pairs.append(exp.PropertyEQ(this=exp.to_identifier(name), expression=_updated(field, inner)))
    updated = exp.Anonymous(this="STRUCT_UPDATE", expressions=[base.copy(), *pairs])
    refusal = exp.Anonymous(this="ERROR", expressions=[exp.Literal.string(NULL_STRUCT_MESSAGE)])
    is_null = exp.Is(this=base.copy(), expression=exp.Null())
    return exp.Case(ifs=[exp.If(this=is_null, true=refusal)], default=updated)
