"""GoogleSQL collation (``COLLATE(s, 'und:ci')``, ``ORDER BY s COLLATE 'en_US:ci'``) on DuckDB's
ICU collations.

A GoogleSQL collation specification is ``'language_tag[:ci|:cs]'``, ``'binary'`` or ``''``
(no collation). DuckDB names ICU collations by locale (``en_us``) and adds ``.nocase`` for case
insensitivity; it has no root (``und``) locale, whose rules ICU's ``en`` shares (English adds no
tailoring), and collation travels with the value into comparisons, ORDER BY, GROUP BY, DISTINCT,
MIN / MAX and joins, as GoogleSQL's does.

``CAST(x AS STRING COLLATE '...')`` is the same as ``COLLATE(CAST(...))``.

The collation-aware string functions (``REPLACE``, ``STRPOS``, ``LIKE`` ...) take no collated
argument in DuckDB; under ``:ci`` they compare case-folded text without ignorable characters.

A STRING column declared with a collation (``TableFieldSchema.collation``) is stored as a DuckDB
column with that collation (:func:`column_collation_sql`), so it reaches the same operations.

In ``CASE x WHEN a WHEN b ...`` a collation on any of ``x``, ``a``, ``b`` applies to every
comparison (:func:`case_value_collation`).

Not covered: other propagation from one operand to others; conflicts between a column's
collation and an explicit one; collation on ARRAY elements or STRUCT fields (DuckDB's lists and
structs keep none); ``PERCENTILE_DISC`` ordering by the collation (DuckDB's ``quantile_disc``
orders binary).
"""

from __future__ import annotations

import re

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import CollationConflict, CollationNotLiteral
from harness.schema.spec import FieldMode, FieldSpec, FieldType

_SPEC = re.compile(r"^(?P<tag>[A-Za-z]{2,8}(?:[_-][A-Za-z0-9]{2,8})*)(?::(?P<attr>ci|cs))?$", re.I)
_ROOT = {"und", "unicode"}
_GIVEN = "bq_collation_spec"
"""Meta key: the GoogleSQL collation specification an expression was given explicitly."""


@handles(exp.Cast, exp.Collate)
def collate_like_bigquery(node: exp.Expression) -> exp.Expression:
    """``Collate`` with GoogleSQL's specification string as DuckDB's collation name; ``'binary'``
    and ``''`` drop any collation the value had."""
    if isinstance(node, exp.Cast):
        return _cast_with_collation(node)
    if not isinstance(node, exp.Collate) or node.meta.get("bq_collation"):
        return node
    spec = node.expression
    if not (isinstance(spec, exp.Literal) and spec.is_string):
        raise CollationNotLiteral()
    name = duckdb_collation(spec.name)
    value = node.this
    while isinstance(value, exp.Collate):
        value = value.this
    if name is None:
        if spec.name.strip():
            value.meta[_GIVEN] = spec.name.strip()
        return value
    if isinstance(value, exp.Null):
        value = exp.cast(value, exp.DataType.build("VARCHAR"))
    collated = exp.Collate(this=value, expression=exp.var(name))
    collated.meta["bq_collation"] = True
    collated.meta[_GIVEN] = spec.name.strip()
    return collated


@handles(exp.Case)
def case_value_collation(node: exp.Expression) -> exp.Expression:
    """``CASE x WHEN COLLATE(a, 'und:ci') ...``: the collation a WHEN value (or ``x``) carries
    governs every ``x = value`` comparison, so ``x`` takes it when it has none of its own."""
    if not isinstance(node, exp.Case) or node.this is None:
        return node
    values = [node.this, *(branch.this for branch in node.args.get("ifs") or [])]
    collated = [v for v in values if isinstance(v, exp.Collate) and v.meta.get("bq_collation")]
    if not collated or isinstance(node.this, exp.Collate):
        return node
    value = exp.Collate(this=node.this, expression=collated[0].expression.copy())
    value.meta["bq_collation"] = True
    node.set("this", value)
    return node


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In)


@handles(*_COMPARISONS)
def collation_conflicts(node: exp.Expression) -> exp.Expression:
    """Two different explicit collations meeting in a comparison or ``IN`` (``'binary'`` beside
    ``'und:ci'``) are an error in GoogleSQL; only collations given directly on the operands (or
    on an ``IN`` subquery's column or ``UNNEST`` array's elements) are seen."""
    if not isinstance(node, _COMPARISONS):
        return node
    operands = [node.this, node.args.get("expression"), *node.expressions]
    operands += [node.args.get("query"), node.args.get("unnest")]
    specs = sorted({spec for operand in operands for spec in _explicit_collations(operand)})
    if len(specs) > 1:
        raise CollationConflict(first=specs[0], second=specs[1])
    return node


def _explicit_collations(operand: exp.Expression | None) -> list[str]:
    if operand is None:
        return []
    if operand.meta.get(_GIVEN):
        return [operand.meta[_GIVEN]]
    if isinstance(operand, exp.Subquery):
        select = operand.unnest()
        if isinstance(select, exp.Select) and len(select.expressions) == 1:
            return _explicit_collations(select.expressions[0].unalias())
    if isinstance(operand, exp.Unnest):
        arrays = [e for e in operand.expressions if isinstance(e, exp.Array)]
        return [
            spec
            for array in arrays
            for element in array.expressions
            for spec in _explicit_collations(element)
        ]
    return []


def _cast_with_collation(node: exp.Cast) -> exp.Expression:
    """``CAST(x AS STRING COLLATE 'und:ci')`` is ``COLLATE(CAST(x AS STRING), 'und:ci')``; DuckDB
    takes no collation in a cast's type. Inside ARRAY / STRUCT types the collation is dropped
    (DuckDB keeps none on elements)."""
    for field_collation in list(node.to.find_all(exp.CollateColumnConstraint)):
        field_collation.parent.pop()  # a STRUCT field's ``STRING COLLATE '...'``
    collations = [t for t in node.to.find_all(exp.DataType) if t.args.get("collate") is not None]
    if not collations:
        return node
    outer = node.to.args.get("collate")
    for kind in collations:
        kind.set("collate", None)
    if outer is None:
        return node
    return collate_like_bigquery(exp.Collate(this=node, expression=outer))


def duckdb_collation(spec: str) -> str | None:
    """DuckDB's collation for a GoogleSQL collation specification (``None``: binary order)."""
    text = spec.strip()
    if text.lower() in ("", "binary"):
        return None
    match = _SPEC.match(text)
    if match is None:
        # DuckDB reports the unknown name; GoogleSQL refuses it too.
        return text.replace(":", "_")
    tag = match["tag"].lower().replace("-", "_")
    case_insensitive = (match["attr"] or "").lower() == "ci"
    if tag in _ROOT:
        if tag == "unicode" and not case_insensitive:
            return None
        tag = "en_us"
    return f"{tag}.nocase" if case_insensitive else tag


def column_collation_sql(spec: FieldSpec) -> str:
    """The ``COLLATE ...`` suffix of a DuckDB column for a collated scalar STRING field (``''``
    when it has none: binary order, or a REPEATED / RECORD field, whose values DuckDB cannot
    collate)."""
    if spec.collation is None or spec.type is not FieldType.STRING or spec.mode is FieldMode.REPEATED:
        return ""
    name = duckdb_collation(spec.collation)
    return f" COLLATE {name}" if name else ""


_OPERANDS: dict[type[exp.Expression], tuple[str, str]] = {
    exp.StartsWith: ("this", "expression"),
    exp.EndsWith: ("this", "expression"),
    exp.StrPosition: ("this", "substr"),
    exp.Like: ("this", "expression"),
    exp.Replace: ("this", "expression"),
    exp.Split: ("this", "expression"),
}


@handles(*_OPERANDS)
def collated_string_functions(node: exp.Expression) -> exp.Expression:
    """``STARTS_WITH`` / ``ENDS_WITH`` / ``STRPOS`` / ``LIKE`` / ``REPLACE`` / ``SPLIT`` of a
    collated STRING: DuckDB refuses collated arguments there, so the collation comes off, and
    under a case-insensitive one both operands are compared case-folded without the characters
    Unicode collation ignores (format characters, such as U+070F)."""
    operands = _OPERANDS.get(type(node))
    if operands is None or isinstance(node.args.get("expression"), exp.Any | exp.All):
        return node  # quantified LIKE: see uncollated()
    names = []
    for key in operands:
        arg = node.args.get(key)
        if isinstance(arg, exp.Collate) and arg.meta.get("bq_collation"):
            names.append(arg.expression.name)
            node.set(key, arg.this)
    if not any(name.endswith(".nocase") for name in names):
        return node
    this, other = (node.args[key] for key in operands)
    if isinstance(node, exp.Replace | exp.Split):
        pattern = exp.DPipe(
            this=exp.Literal.string("(?i)"),
            expression=exp.Anonymous(this="regexp_escape", expressions=[_without_ignorables(other)]),
        )
        text = _without_ignorables(this)
        if isinstance(node, exp.Split):
            return exp.Anonymous(this="regexp_split_to_array", expressions=[text, pattern])
        replacement = node.args.get("replacement")
        return exp.Anonymous(
            this="regexp_replace",
            expressions=[text, pattern, replacement, exp.Literal.string("g")],
        )
    node.set(operands[0], _folded(this))
    node.set(operands[1], _folded(other))
    return node


def uncollated(node: exp.Expression) -> bool:
    """Take every GoogleSQL collation under ``node`` off (in place) and say whether one was case
    insensitive: a quantified ``LIKE`` compares its value and all its patterns under the
    collation any of them carries (:mod:`fakes.bigquery.quantified_like`)."""
    names = []
    for collate in list(node.find_all(exp.Collate)):
        if collate is not node and collate.meta.get("bq_collation"):
            names.append(collate.expression.name)
            collate.replace(collate.this)
    return any(name.endswith(".nocase") for name in names)


def folded_sql(value: str) -> str:
    """DuckDB SQL comparing ``value`` as a case-insensitive collation does (see :func:`_folded`)."""
    return f"lower(regexp_replace({value}, '\\p{{Cf}}', '', 'g'))"


def _without_ignorables(value: exp.Expression) -> exp.Expression:
    return exp.Anonymous(
        this="regexp_replace",
        expressions=[value, exp.Literal.string(r"\p{Cf}"), exp.Literal.string(""), exp.Literal.string("g")],
    )


def _folded(value: exp.Expression) -> exp.Expression:
    return exp.Lower(this=_without_ignorables(value))
