"""The engine's DuckDB macros and Python functions, created on a database when a statement first
names one.

Every function the rewrites call is one of these (about a hundred macros, forty Python functions),
and creating them all costs more than the rest of building an engine (about 50 ms) while a
statement uses a few; registering the first Python function of a process also makes DuckDB import
numpy (about 60 ms), and most statements, a whole fake-tier ``harness run`` of
``full_onboarding`` among them, call none (KEYS / AEAD, BIGNUMERIC arithmetic, NUMERIC averages
and exact statistics, HLL merges over a window, ``SAFE_CONVERT_BYTES_TO_STRING``). So a database
starts bare, and :func:`ensure` creates what DuckDB SQL names before it is bound: a macro after
the macros and functions its body names, a module's Python functions all at once. Only the
engine's translations call them, and every translation is ensured before it runs
(:class:`fakes.bigquery.engine.BigQueryEngine`).

They are created on the database's base connection, as they were when a database was prepared
up front: no statement runs there, so none is in a transaction (DuckDB's catalog is
transactional: a function created inside a statement's transaction would go with its
``ROLLBACK``, while one committed from another connection is seen by that transaction and
outlives it), and the base connection holds the Python callables as long as the database lives
(a closed cursor would drop them, leaving DuckDB calling freed objects). What a database has is
kept with its base connection (weakly), so a database the kept pool
(:mod:`fakes.bigquery.databases`) lends again is not given anything twice.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import duckdb

from fakes.bigquery import (
    array_functions,
    bignumeric,
    buckets,
    cast_formats,
    exact_aggregates,
    hll,
    interval_aggregates,
    intervals,
    json_functions,
    keysets,
    math_functions,
    ranges,
    string_conversions,
    string_functions,
    window_aggregates,
)

Create = Callable[[duckdb.DuckDBPyConnection], object]


@dataclass(frozen=True)
class _Definition:
    create: Create
    names: tuple[str, ...]
    """Everything ``create`` makes (a module's Python functions come together)."""
    body: str
    """Where the names it needs are found (a macro's statement)."""


def _macros() -> Iterator[str]:
    for module in (
        intervals,
        interval_aggregates,
        buckets,
        cast_formats,
        window_aggregates,
        ranges,
        bignumeric,
        exact_aggregates,
        json_functions,
    ):
        yield from module.MACROS
    for script in (string_functions.MACROS, array_functions.MACROS, math_functions.MACROS):
        yield from (statement for statement in script.split(";") if statement.strip())


def _definitions() -> dict[str, _Definition]:
    found: dict[str, _Definition] = {}
    for module in (bignumeric, exact_aggregates, hll, keysets, string_conversions):
        together = _Definition(module.register, module.FUNCTIONS, "")
        found.update(dict.fromkeys(module.FUNCTIONS, together))
    for statement in _macros():
        match = re.match(r"\s*CREATE OR REPLACE MACRO\s+(\w+)", statement)
        assert match is not None, statement
        name = match.group(1).lower()
        found[name] = _Definition(lambda conn, sql=statement: conn.execute(sql), (name,), statement)
    return found


_DEFINITIONS = _definitions()

_FIRST_PARTS = sorted({name.split("_", 1)[0] for name in _DEFINITIONS}, key=len, reverse=True)
_CANDIDATE = re.compile(r"\b(?:" + "|".join(_FIRST_PARTS) + r")\w*", re.IGNORECASE)
"""A word that may be one of the names (they share a few first parts: one scan finds them all)."""
_LITERAL = re.compile(r"'(?:[^']|'')*'")


@lru_cache(maxsize=4096)
def _named(sql: str) -> frozenset[str]:
    """The names ``sql`` holds; kept per text, since every statement is ensured before it runs and
    translations repeat (a scan is about 30 µs)."""
    return frozenset(word for word in map(str.lower, _CANDIDATE.findall(sql)) if word in _DEFINITIONS)


_NEEDS = {name: _named(_LITERAL.sub("", d.body)) - {name} for name, d in _DEFINITIONS.items()}
"""What each name's body names (the words of a string literal, such as an error message, are not
names)."""


def _order() -> dict[str, int]:
    """Each name's place in an order that creates everything after what it needs."""
    order: dict[str, int] = {}
    while len(order) < len(_NEEDS):
        ready = sorted(name for name, needs in _NEEDS.items() if name not in order and needs <= order.keys())
        assert ready, f"macros that need each other: {sorted(_NEEDS.keys() - order.keys())}"
        order.update({name: len(order) + index for index, name in enumerate(ready)})
    return order


_ORDER = _order()

_MADE: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[str]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def ensure(base: duckdb.DuckDBPyConnection, duck_sql: str) -> None:
    """Create on ``base``'s database the macros and Python functions ``duck_sql`` names that it
    lacks, each after those it needs."""
    with _LOCK:
        made = _MADE.setdefault(base, set())
        if len(made) == len(_DEFINITIONS):
            return
        wanted = set(_named(duck_sql) - made)
        todo: set[str] = set()
        while wanted:
            name = wanted.pop()
            todo.add(name)
            wanted |= _NEEDS[name] - made - todo
        for name in sorted(todo, key=_ORDER.__getitem__):
            if name not in made:
                definition = _DEFINITIONS[name]
                definition.create(base)
                made.update(definition.names)
