"""Conversions between STRING and other types where DuckDB's differs from BigQuery's.

* ``CAST('-0x100' AS INT64)`` is -256: BigQuery reads a signed hexadecimal string (DuckDB reads
  ``0x100`` but not a sign before it). String literals are rewritten to their decimal text before
  DuckDB casts them; other strings keep DuckDB's reading.
* ``SAFE_CONVERT_BYTES_TO_STRING(bytes)``: the bytes as UTF-8, each invalid sequence replaced by
  U+FFFD (a Python function on the connection; Python's ``errors="replace"`` replaces the same
  maximal invalid subparts BigQuery's documented example shows).
"""

from __future__ import annotations

import re

import duckdb
from sqlglot import exp

from fakes.bigquery.bottom_up import handles

_SIGNED_HEX = re.compile(r"^\s*([+-])0[xX]([0-9a-fA-F]+)\s*$")


@handles(exp.Cast)
def signed_hex_strings_are_integers(node: exp.Expression) -> exp.Expression:
    """The fix (see functions.FIXES): a signed hexadecimal string literal cast to INT64."""
    if not isinstance(node, exp.Cast) or not node.to.is_type(exp.DataType.Type.BIGINT):
        return node
    value = node.this
    if isinstance(value, exp.Literal) and value.is_string:
        match = _SIGNED_HEX.match(value.name)
        if match is not None:
            number = int(match.group(2), 16) * (-1 if match.group(1) == "-" else 1)
            value.replace(exp.Literal.string(str(number)))
    return node


def _bytes_to_string(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


FUNCTIONS = ("safe_convert_bytes_to_string",)
"""The Python functions :func:`register` creates (:mod:`fakes.bigquery.lazy_functions`)."""


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """``SAFE_CONVERT_BYTES_TO_STRING`` on an engine's DuckDB connection."""
    blob, text = conn.sqltype("BLOB"), conn.sqltype("VARCHAR")
    conn.create_function("safe_convert_bytes_to_string", _bytes_to_string, [blob], text, side_effects=False)  # type: ignore[arg-type]
