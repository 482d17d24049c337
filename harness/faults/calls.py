"""What a call counts as, for aiming faults: the same words for a port call on the fake tier and for
a request on the wire to the emulators, so one scenario aims at the same calls on both.

SQL is read only as far as aiming needs (the statement's first keyword and the tables it names),
with no parser: the domain layer imports none, and a fault aimed at a table it cannot see simply
does not fire.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.faults.backend import Port, PortCall

_KEYWORD = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.DOTALL)
_BACKTICKED = re.compile(r"`([^`]+)`")
_DML = {"INSERT": {"dml", "insert_rows"}, "UPDATE": {"dml"}, "DELETE": {"dml"}, "MERGE": {"dml"}}
_DDL = {"CREATE", "ALTER", "DROP", "TRUNCATE"}


def sql_operations(sql: str) -> frozenset[str]:
    """``query`` for a SELECT (or WITH ...), ``dml`` (+ ``insert_rows`` for an INSERT), ``ddl``."""
    match = _KEYWORD.match(sql)
    keyword = match.group(1).upper() if match else ""
    if keyword in _DML:
        return frozenset(_DML[keyword])
    if keyword in _DDL:
        return frozenset({"ddl"})
    return frozenset({"query"})


def sql_tables(sql: str) -> frozenset[str]:
    """The table ids (last part of each backticked path) a statement names."""
    return frozenset(ref.split(".")[-1] for ref in _BACKTICKED.findall(sql))


def sql_call(sql: str) -> PortCall:
    return PortCall(Port.WAREHOUSE, sql_operations(sql), sql_tables(sql))


def warehouse_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> PortCall | None:
    """A ``Warehouse`` port method call as a :class:`PortCall` (None for what is not a call to
    BigQuery, e.g. ``close``)."""
    values = list(args) + list(kwargs.values())
    if method in ("query", "execute"):
        return sql_call(str(values[0]) if values else "")
    if method == "insert_rows":
        table = args[1] if len(args) > 1 else kwargs.get("table_id")
        mode = str(kwargs.get("mode", "dml")).lower()
        operations = {"insert_rows"} | ({"dml"} if "dml" in mode else set())
        return PortCall(Port.WAREHOUSE, frozenset(operations), _tables([table]))
    if method in ("get_table", "delete_table", "patch_table"):
        return PortCall(Port.WAREHOUSE, frozenset({method}), _tables(values[1:2]))
    if method == "create_table":
        spec = values[1] if len(values) > 1 else None
        return PortCall(Port.WAREHOUSE, frozenset({method}), _tables([getattr(spec, "table_id", None)]))
    if method in ("create_dataset", "get_dataset", "list_datasets", "delete_dataset", "list_tables"):
        return PortCall(Port.WAREHOUSE, frozenset({method}))
    return None


def kms_call(method: str) -> PortCall | None:
    """A ``KeyManager`` port method as a :class:`PortCall` (``primary_version`` reads the key)."""
    operation = {"encrypt": "encrypt", "decrypt": "decrypt", "primary_version": "get_crypto_key"}.get(method)
    return PortCall(Port.KMS, frozenset({operation})) if operation else None


def _tables(names: Iterable[object]) -> frozenset[str]:
    return frozenset(str(name) for name in names if name)


__all__ = ["kms_call", "sql_call", "sql_operations", "sql_tables", "warehouse_call"]
