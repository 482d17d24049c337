"""``UPDATE t SET ... FROM s WHERE ...``: each row of ``t`` may match at most one joined row.

BigQuery refuses the statement when a target row matches several rows of the ``FROM`` join
(which value would it take?); DuckDB takes any one of them and counts the row several times.
Before such an UPDATE runs, a query over the same join looks for a target row matched twice.
"""

from __future__ import annotations

import functools
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from fakes.bigquery.exceptions import UpdateMatchesManyRows


def check_update_join(conn: duckdb.DuckDBPyConnection, duck_sql: str, params: dict[str, Any]) -> None:
    """Raise :class:`UpdateMatchesManyRows` when the translated UPDATE ``duck_sql`` joins a
    target row with more than one ``FROM`` row; nothing for any other statement."""
    probe = _probe(duck_sql)
    if probe is None:
        return
    used = {name: value for name, value in params.items() if f"${name}" in probe}
    if conn.execute(probe, used).fetchone() is not None:
        raise UpdateMatchesManyRows()


@functools.lru_cache(maxsize=256)
def _probe(duck_sql: str) -> str | None:
    """The probe query for a translated UPDATE, or None: a pure function of the text, kept for
    the same statement run again (parsing it costs more than running a small UPDATE)."""
    if "FROM" not in duck_sql.upper():
        return None
    try:
        tree = sqlglot.parse_one(duck_sql, read="duckdb")
    except ParseError:
        return None
    source = tree.args.get("from_") if isinstance(tree, exp.Update) else None
    target = tree.this if isinstance(tree, exp.Update) else None
    if source is None or not isinstance(target, exp.Table):
        return None
    name = target.alias_or_name
    select = exp.Select(
        expressions=[exp.Literal.number(1)],
        from_=exp.From(this=target.copy()),
        joins=[exp.Join(this=source.this.copy())],
        where=tree.args["where"].copy() if tree.args.get("where") else None,
        group=exp.Group(expressions=[exp.column("rowid", table=exp.to_identifier(name, quoted=True))]),
        having=exp.Having(this=exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))),
        limit=exp.Limit(expression=exp.Literal.number(1)),
    )
    return select.sql(dialect="duckdb")


def clear_probes() -> None:
    """Forget the probes built (their texts name the datasets they read)."""
    _probe.cache_clear()
