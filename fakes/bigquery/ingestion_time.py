"""Ingestion-time partitioning: the ``_PARTITIONTIME`` / ``_PARTITIONDATE`` pseudo-columns.

A table with ``timePartitioning`` and no ``field`` is partitioned by when its rows arrived. The
engine stamps every row with the injected clock's time as it is written (``insertAll``, the
fake's ``insert_rows``, load jobs, DML ``INSERT`` / ``MERGE``) in a hidden storage column; the
pseudo-columns are that time truncated to the partition (``_PARTITIONTIME``: a TIMESTAMP at the
partition's start, UTC; ``_PARTITIONDATE``: its DATE).

BigQuery's pseudo-columns are readable and filterable but never part of ``SELECT *``. The fake
gives each such table a second DuckDB view, named after the table id plus ``$pt`` (``$`` never
occurs in a BigQuery id), with the pseudo-columns beside the user columns; a statement that
names a pseudo-column reads that view instead, and its unqualified ``*`` gets
``EXCEPT (_PARTITIONTIME, _PARTITIONDATE)``. Only reads see them: an UPDATE or DELETE that
filters its own target on a pseudo-column is not supported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from fakes.bigquery.sql import ParsedStatement, StatementKind, TableRef
from fakes.bigquery.types import quote_ident
from harness.schema.spec import TableSpec

PSEUDO_COLUMNS = ("_PARTITIONTIME", "_PARTITIONDATE")
SUFFIX = "$pt"


def applies(spec: TableSpec) -> bool:
    """Whether the table is ingestion-time partitioned (``timePartitioning`` without ``field``)."""
    return spec.time_partitioning is not None and spec.time_partitioning.field is None


def pseudo_ref(ref: TableRef) -> TableRef:
    """The id under which the view with the pseudo-columns is stored."""
    return TableRef(ref.project, ref.dataset, ref.table + SUFFIX)


def view_sql(spec: TableSpec, storage: str, ingest_column: str) -> str:
    """The SELECT of the pseudo-column view: the user columns, then the two pseudo-columns."""
    assert spec.time_partitioning is not None
    unit = spec.time_partitioning.type.value.lower()
    arrived = f"timezone('UTC', {quote_ident(ingest_column)})"  # the UTC wall time, whatever the session zone
    columns = [quote_ident(f.name) for f in spec.schema]
    columns.append(f"timezone('UTC', date_trunc('{unit}', {arrived})) AS {PSEUDO_COLUMNS[0]}")
    columns.append(f"CAST({arrived} AS DATE) AS {PSEUDO_COLUMNS[1]}")
    return f"SELECT {', '.join(columns)} FROM {storage}"


def stamp_sql(storage: str, ingest_column: str) -> str:
    """Stamp the rows a DML statement wrote with the clock's time (one parameter)."""
    column = quote_ident(ingest_column)
    return f"UPDATE {storage} SET {column} = CAST(? AS TIMESTAMPTZ) WHERE {column} IS NULL"


def names_pseudo_columns(tree: exp.Expression) -> bool:
    """Whether the statement names a pseudo-column anywhere (only then can :func:`rewrite` change it)."""
    names = {name.lower() for name in PSEUDO_COLUMNS}
    return any(col.name.lower() in names for col in tree.find_all(exp.Column))


def rewrite(statement: ParsedStatement, ingested: Callable[[TableRef], bool]) -> ParsedStatement:
    """Point a statement that names a pseudo-column at the pseudo-column views of the
    ingestion-time tables it reads. Other statements are returned unchanged."""
    if not names_pseudo_columns(statement.tree):
        return statement
    tree = statement.tree.copy()
    target = statement.target
    readers: dict[int, tuple[exp.Select, set[str]]] = {}
    changed = False
    for node in tree.find_all(exp.Table):
        ref = node.meta.get("bq_ref")
        if ref is None or (ref == target and statement.kind is not StatementKind.SELECT) or not ingested(ref):
            continue
        node.meta["bq_ref"] = pseudo_ref(ref)
        if not node.args.get("alias"):
            node.set("alias", exp.TableAlias(this=exp.to_identifier(ref.table, quoted=True)))
        changed = True
        select = node.find_ancestor(exp.Select)
        if select is not None:
            readers.setdefault(id(select), (select, set()))[1].add(node.alias_or_name.lower())
    if not changed:
        return statement
    for select, aliases in readers.values():  # the SELECTs that read a pseudo-column view directly
        for item in select.expressions:
            star = item if isinstance(item, exp.Star) else None
            if (
                isinstance(item, exp.Column)
                and isinstance(item.this, exp.Star)
                and item.table.lower() in aliases
            ):
                star = item.this  # `t.*`
            if star is not None:
                hidden = [exp.column(name) for name in PSEUDO_COLUMNS]
                star.set("except_", [*(star.args.get("except_") or []), *hidden])
    # The translation cache is keyed by text: the rewritten statement must not share the original's key.
    return replace(statement, tree=tree, sql=statement.sql + "\n-- reads the ingestion-time pseudo-columns")
