"""What one statement may cost the emulator's process: memory and result size.

BigQuery refuses a query that needs more than its slots' memory ("Resources exceeded during query
execution") and a result it will not return ("Response too large to return"); the fake must too,
or one query grows the process until the machine gives out (a cross join that explodes once took
17.6 GB and stalled every other client). Two bounds, both configurable:

* ``memory_limit`` is DuckDB's own (``SET memory_limit``), for the whole engine; spilling to disk
  is off, so a statement over it fails with DuckDB's out-of-memory error, which
  :func:`resources_exceeded` turns into BigQuery's. DuckDB's default is 80% of the machine.
* ``max_result_bytes`` bounds what a SELECT hands back to Python, measured as the Python objects
  its rows become: the result is streamed in chunks (:func:`fetch_bounded`) and refused as soon
  as its estimated size passes the bound, so no oversized result is ever held. BigQuery's own
  bound is 10 GB compressed; the fake's is far lower because every row becomes Python objects.

Not bounded by DuckDB's limit: one huge value (a ``GENERATE_ARRAY`` of tens of millions of
elements) is allocated outside DuckDB's buffer manager.

``HARNESS_BIGQUERY_MEMORY_LIMIT`` (DuckDB's syntax, e.g. ``2GB``) and
``HARNESS_BIGQUERY_MAX_RESULT_BYTES`` override the defaults for every engine of the process.
``HARNESS_BIGQUERY_THREADS`` caps DuckDB's worker threads (its default: one per core): a process
that runs many tiny statements, such as the conformance runner's workers, spends less scheduling
them on one thread, while a large GROUP BY wants them all.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from fakes.bigquery.exceptions import ResourcesExceeded, ResponseTooLarge

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_MAX_RESULT_BYTES = 256 * 1024 * 1024
FETCH_CHUNK_ROWS = 2048

_UNITS = {"B": 1, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "KB": 10**3, "MB": 10**6}
_UNITS |= {"GB": 10**9, "TB": 10**12, "BYTES": 1}
_OOM = re.compile(
    r"failed to allocate data of size (?P<want>[\d.]+ ?\w+) "
    r"\((?P<used>[\d.]+ ?\w+)/(?P<limit>[\d.]+ ?\w+) used\)"
)


@dataclass(frozen=True)
class RuntimeLimits:
    """The bounds of one engine (see the module's docstring)."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    threads: int | None = None
    """DuckDB's worker threads; None keeps DuckDB's default."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeLimits:
        env = os.environ if environ is None else environ
        return cls(
            memory_limit=env.get("HARNESS_BIGQUERY_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
            max_result_bytes=int(env.get("HARNESS_BIGQUERY_MAX_RESULT_BYTES") or DEFAULT_MAX_RESULT_BYTES),
            threads=int(env["HARNESS_BIGQUERY_THREADS"]) if env.get("HARNESS_BIGQUERY_THREADS") else None,
        )

    def apply(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Set DuckDB's memory limit (one per database: every cursor shares it), with no spilling,
        and its threads (DuckDB's default when not given)."""
        limit = self.memory_limit.replace("'", "")
        conn.execute(f"SET memory_limit = '{limit}'")
        conn.execute("SET temp_directory = ''")
        # Always set (or reset): a kept database (fakes.bigquery.databases) has its last engine's.
        if self.threads is not None:
            conn.execute(f"SET threads = {int(self.threads)}")
        else:
            conn.execute("RESET threads")


def resources_exceeded(exc: duckdb.Error) -> ResourcesExceeded | None:
    """BigQuery's error for DuckDB's out-of-memory failure (``None`` for any other error), with
    the peak as DuckDB measured it: what was in use plus what was asked for, over the limit."""
    if not isinstance(exc, duckdb.OutOfMemoryException):
        return None
    match = _OOM.search(str(exc))
    peak = 101
    if match is not None:
        want, used, limit = (_bytes(match.group(name)) for name in ("want", "used", "limit"))
        if limit:
            peak = max(101, round((used + want) * 100 / limit))
    return ResourcesExceeded(peak=peak)


def fetch_bounded(cursor: duckdb.DuckDBPyConnection, max_bytes: int) -> list[tuple[Any, ...]]:
    """Every row of the cursor's streamed result, refused with BigQuery's ``responseTooLarge``
    once its size passes ``max_bytes``. The size per row is measured on the first chunk and
    extrapolated: cheap, and rows of one result are alike enough for a bound."""
    rows: list[tuple[Any, ...]] = []
    per_row = 0
    while True:
        chunk = cursor.fetchmany(FETCH_CHUNK_ROWS)
        if not chunk:
            return rows
        if not per_row:
            per_row = max(1, _size_of(chunk) // len(chunk))
        rows.extend(chunk)
        if len(rows) * per_row > max_bytes:
            raise ResponseTooLarge()
        if len(chunk) < FETCH_CHUNK_ROWS:  # DuckDB fills a chunk unless the result has ended
            return rows


def _size_of(rows: Sequence[tuple[Any, ...]]) -> int:
    """The rows' size as Python objects (what holding them costs the process)."""
    return sum(sys.getsizeof(row) + sum(_value_size(value) for value in row) for row in rows)


def _value_size(value: Any) -> int:
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(_value_size(item) for item in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(_value_size(item) for item in value.values())
    return sys.getsizeof(value)


def _bytes(text: str) -> float:
    number, _, unit = text.strip().partition(" ")
    if not unit:
        split = re.match(r"([\d.]+)(\D+)", text.strip())
        if split is None:
            return float(text)
        number, unit = split.groups()
    return float(number) * _UNITS.get(unit.upper(), 1)
