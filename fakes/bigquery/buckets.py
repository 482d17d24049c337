"""``DATE_BUCKET`` / ``DATETIME_BUCKET`` / ``TIMESTAMP_BUCKET`` as DuckDB macros over ``time_bucket``.

BigQuery's argument order is (value, width[, origin]); DuckDB's ``time_bucket`` is (width, value[,
origin]). BigQuery's default origin is 1950-01-01 00:00:00 (a TIMESTAMP's in UTC); DuckDB's
differs (2000-01-03), so the default is always passed.
"""

from __future__ import annotations

from typing import Any

MACROS = (
    "CREATE OR REPLACE MACRO date_bucket(v, w) AS CAST(time_bucket(w, v, DATE '1950-01-01') AS DATE), "
    "(v, w, origin) AS CAST(time_bucket(w, v, origin) AS DATE)",
    "CREATE OR REPLACE MACRO datetime_bucket(v, w) AS time_bucket(w, CAST(v AS TIMESTAMP), "
    "TIMESTAMP '1950-01-01 00:00:00'), (v, w, origin) AS time_bucket(w, CAST(v AS TIMESTAMP), origin)",
    "CREATE OR REPLACE MACRO timestamp_bucket(v, w) AS time_bucket(w, CAST(v AS TIMESTAMPTZ), "
    "TIMESTAMPTZ '1950-01-01 00:00:00+00'), (v, w, origin) AS time_bucket(w, CAST(v AS TIMESTAMPTZ), origin)",
)


def register(conn: Any) -> None:
    """The bucket functions on an engine's DuckDB connection."""
    for statement in MACROS:
        conn.execute(statement)
