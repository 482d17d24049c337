"""Statements about objects beside the tables: row access policies (kept) and models (refused).

``CREATE [OR REPLACE] ROW ACCESS POLICY [IF NOT EXISTS] p ON t [GRANT TO (...)] FILTER USING (...)``,
``DROP ROW ACCESS POLICY [IF EXISTS] p ON t`` and ``DROP ALL ROW ACCESS POLICIES ON t`` write the
store of :mod:`fakes.bigquery.row_access`. ``CREATE MODEL`` (BigQuery ML) is refused by name: the
emulator trains nothing, and a model that silently did not exist would fail later and further away.
sqlglot parses none of these, so they are recognised here, before the statement parser.
"""

from __future__ import annotations

import re

from fakes.bigquery.exceptions import RowAccessPolicyNotFound, UnqualifiedTable, UnsupportedByFake
from fakes.bigquery.row_access import PolicyTables, TableKey, store_of
from harness.ports import QueryResult

_NAME = r"(`[^`]+`|[\w.-]+(?:\.`[^`]+`)*)"
_CREATE = re.compile(
    r"\s*CREATE\s+(OR\s+REPLACE\s+)?ROW\s+ACCESS\s+POLICY\s+(IF\s+NOT\s+EXISTS\s+)?"
    rf"{_NAME}\s+ON\s+{_NAME}\s+(?:GRANT\s+TO\s*\((.*?)\)\s+)?FILTER\s+USING\s*\((.*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DROP = re.compile(
    rf"\s*DROP\s+ROW\s+ACCESS\s+POLICY\s+(IF\s+EXISTS\s+)?{_NAME}\s+ON\s+{_NAME}\s*;?\s*$", re.IGNORECASE
)
_DROP_ALL = re.compile(rf"\s*DROP\s+ALL\s+ROW\s+ACCESS\s+POLICIES\s+ON\s+{_NAME}\s*;?\s*$", re.IGNORECASE)
_HEAD = re.compile(
    r"\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:ROW\s+ACCESS\s+POLICY|MODEL)|DROP\s+(?:ALL\s+)?ROW\s+ACCESS)\b",
    re.IGNORECASE,
)
_MODEL = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?MODEL\b", re.IGNORECASE)
_GRANTEE = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def handles(sql: str) -> bool:
    """Whether ``sql`` is one of this module's statements (a cheap look at its first words)."""
    return _HEAD.match(sql) is not None


def run(engine: PolicyTables, project: str, sql: str, default_dataset: str | None) -> QueryResult:
    """Run the statement; one this module recognises but cannot read is refused as unsupported."""
    if _MODEL.match(sql):
        raise UnsupportedByFake(
            "The emulator does not support CREATE MODEL: BigQuery ML models cannot be created",
            reason="invalid",
        )
    policies = store_of(engine)
    if create := _CREATE.match(sql):
        replace_existing, if_not_exists, name, table, grantees, predicate = create.groups()
        key = _table_key(project, table, default_dataset)
        policy_id = _unquote(name)
        if if_not_exists and any(p.policy_id == policy_id for p in policies.list(key)):
            return QueryResult(rows=[], statement_type="CREATE_ROW_ACCESS_POLICY")
        found = tuple(a or b for a, b in _GRANTEE.findall(grantees or ""))
        policies.create(key, policy_id, predicate.strip(), found, replace_existing=bool(replace_existing))
        return QueryResult(rows=[], statement_type="CREATE_ROW_ACCESS_POLICY")
    if drop := _DROP.match(sql):
        if_exists, name, table = drop.groups()
        try:
            policies.delete(_table_key(project, table, default_dataset), _unquote(name))
        except RowAccessPolicyNotFound:
            if not if_exists:
                raise
        return QueryResult(rows=[], statement_type="DROP_ROW_ACCESS_POLICY")
    if drop_all := _DROP_ALL.match(sql):
        policies.delete_all(_table_key(project, drop_all.group(1), default_dataset))
        return QueryResult(rows=[], statement_type="DROP_ROW_ACCESS_POLICY")
    raise UnsupportedByFake("The emulator cannot read this row access policy statement", reason="invalid")


def _table_key(project: str, name: str, default_dataset: str | None) -> TableKey:
    parts = [part for part in name.replace("`", "").split(".") if part]
    if len(parts) == 1:
        if default_dataset is None:
            raise UnqualifiedTable(table=parts[0])
        dataset_project, _, dataset = default_dataset.rpartition(".")
        return (dataset_project or project, dataset, parts[0])
    if len(parts) == 2:
        return (project, parts[0], parts[1])
    return (".".join(parts[:-2]), parts[-2], parts[-1])


def _unquote(name: str) -> str:
    return name.strip("`")
