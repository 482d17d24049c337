"""BigQuery's statistical aggregates (CORR, COVAR_*, VAR_*, STDDEV_*) where DuckDB's differ.

BigQuery documents, for each of them: pairs (values) holding a NULL are ignored; too few of them
give NULL (CORR: fewer than two pairs; the ``_SAMP`` forms: fewer than two; the ``_POP`` forms:
none); otherwise a NaN or an infinite input gives NaN. DuckDB returns NaN for CORR of one pair and
0 (or an infinity) for a population variance or covariance over infinite or NaN inputs, so the
call is wrapped: ``CASE WHEN <enough rows> AND <a non-finite input> THEN NaN ELSE <call> END`` and,
for CORR, ``NULL`` below two pairs. Window calls are left alone.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_CHECKED = "bq_stat_checked"

_MINIMUM_ROWS: dict[type[exp.Expression], int] = {
    exp.Corr: 2,
    exp.CovarSamp: 2,
    exp.CovarPop: 1,
    exp.Variance: 2,
    exp.VariancePop: 1,
    exp.Stddev: 2,
    exp.StddevSamp: 2,
    exp.StddevPop: 1,
}


@handles(*_MINIMUM_ROWS)
def statistics_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The NULL and NaN rules above, around one statistical aggregate call."""
    minimum = _MINIMUM_ROWS.get(type(node))
    if minimum is None or node.meta.get(_CHECKED) or isinstance(node.parent, exp.Window):
        return node
    if isinstance(node.this, exp.Distinct):
        return node
    node.meta[_CHECKED] = True
    inputs = [arg for arg in (node.this, node.args.get("expression")) if arg is not None]
    present = exp.and_(*(exp.Not(this=exp.Is(this=arg.copy(), expression=exp.null())) for arg in inputs))
    rows = exp.Count(this=exp.Case(ifs=[exp.If(this=present, true=exp.Literal.number(1))]))
    enough = exp.GTE(this=rows, expression=exp.Literal.number(minimum))
    non_finite = exp.Anonymous(
        this="BOOL_OR",
        expressions=[
            exp.and_(
                present.copy(),
                exp.or_(*(_not_finite(arg) for arg in inputs)),
            )
        ],
    )
    nan = exp.cast(exp.Literal.string("nan"), exp.DataType.build("DOUBLE"))
    ifs = [exp.If(this=exp.and_(enough.copy(), non_finite), true=nan)]
    if isinstance(node, exp.Corr):
        ifs.insert(0, exp.If(this=exp.not_(enough), true=exp.cast(exp.null(), exp.DataType.build("DOUBLE"))))
    return exp.Case(ifs=ifs, default=node)


def _not_finite(value: exp.Expression) -> exp.Expression:
    as_double = exp.TryCast(this=value.copy(), to=exp.DataType.build("DOUBLE"))
    return exp.not_(exp.Anonymous(this="ISFINITE", expressions=[as_double]))
