"""``DATE_BUCKET`` / ``DATETIME_BUCKET`` / ``TIMESTAMP_BUCKET`` as DuckDB macros over ``time_bucket``.

BigQuery's argument order is (value, width[, origin]); DuckDB's ``time_bucket`` is (width, value[,
origin]). BigQuery's default origin is 1950-01-01 00:00:00 (a TIMESTAMP's in UTC); DuckDB's
differs (2000-01-03), so the default is always passed. Each keeps its argument's type, as
BigQuery does (``DATE_BUCKET`` of a DATETIME is a DATETIME, ``DATETIME_BUCKET`` of a TIMESTAMP a
TIMESTAMP).
"""

from __future__ import annotations


def _bucket_macro(name: str, base: str) -> str:
    """``name(v, w[, origin])``: ``v`` and ``origin`` share one type, the widest of ``base``, ``v``
    and ``origin`` (a list literal unifies them, so a string literal takes ``base``, a TIMESTAMP
    stays a TIMESTAMP); the default origin is that type's reading of 1950-01-01 00:00:00 UTC."""
    value = f"[NULL::{base}, v][2]"
    return (
        f"CREATE OR REPLACE MACRO {name}(v, w) AS time_bucket(w, {value}, [{value}, '{_ORIGIN}'][2]), "
        f"(v, w, origin) AS time_bucket(w, [NULL::{base}, v, origin][2], [NULL::{base}, v, origin][3])"
    )


_ORIGIN = "1950-01-01 00:00:00+00"

MACROS = (
    _bucket_macro("date_bucket", "DATE"),
    _bucket_macro("datetime_bucket", "TIMESTAMP"),
    # A string literal is read as a DATETIME here (BigQuery: a TIMESTAMP, rarely bucketed so).
    _bucket_macro("timestamp_bucket", "TIMESTAMP"),
)
