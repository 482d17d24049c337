"""The engine's Python functions (DuckDB UDFs), registered on a database when a statement first
names one.

Registering the first Python function of a process makes DuckDB import numpy (about 60 ms), and
most statements, a whole fake-tier ``harness run`` of ``full_onboarding`` among them, call none:
KEYS / AEAD, BIGNUMERIC arithmetic, NUMERIC averages and exact statistics, HLL merges over a
window and ``SAFE_CONVERT_BYTES_TO_STRING``. So a database is prepared with its macros only (none of which
calls a Python function), and :func:`ensure` registers a module's functions, all of them at once,
before DuckDB SQL that names one of them is bound.

They are registered on the database's base connection, as they were when it was prepared: no
statement runs there, so none is in a transaction (DuckDB's catalog is transactional: a function
created inside a statement's transaction would go with its ``ROLLBACK``, while one committed from
another connection is seen by that transaction and outlives it), and the base connection holds
the Python callables as long as the database lives (a closed cursor would drop them, leaving DuckDB
calling freed objects). Which modules a database has is kept with its base connection (weakly),
so a database the kept pool (:mod:`fakes.bigquery.databases`) lends again is not registered twice.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable

import duckdb

from fakes.bigquery import bignumeric, exact_aggregates, hll, keysets, string_conversions

Register = Callable[[duckdb.DuckDBPyConnection], None]

_OWNERS: dict[str, Register] = {
    name: module.register
    for module in (bignumeric, exact_aggregates, hll, keysets, string_conversions)
    for name in module.FUNCTIONS
}
"""Each function's name, lower case, to the ``register`` that creates it and its siblings."""

_CANDIDATE = re.compile(
    r"\b(?:" + "|".join(sorted({name.split("_", 1)[0] for name in _OWNERS})) + r")_\w*", re.IGNORECASE
)
"""A word that may be one of the names (they share a few prefixes: one scan finds them all)."""

_ALL = frozenset(_OWNERS.values())

_REGISTERED: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[Register]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def ensure(base: duckdb.DuckDBPyConnection, duck_sql: str) -> None:
    """Register on ``base``'s database the Python functions ``duck_sql`` names that it lacks."""
    with _LOCK:
        done = _REGISTERED.setdefault(base, set())
        if len(done) == len(_ALL):
            return
        needed = {_OWNERS[word] for word in map(str.lower, _CANDIDATE.findall(duck_sql)) if word in _OWNERS}
        for register in needed - done:
            register(base)
            done.add(register)
