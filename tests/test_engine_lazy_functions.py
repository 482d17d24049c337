"""The engine's macros and Python functions come when a statement names one
(fakes/bigquery/lazy_functions.py): an engine whose statements name none has none (creating them
all costs more than the rest of an engine, and DuckDB imports numpy for the first Python
function), and one that does runs them however it reaches them: a query, a macro needing others,
a set operation's columns, a view read from disk, after a rolled-back statement, on a kept
database lent again."""

from __future__ import annotations

import gc
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fakes.bigquery import keysets, lazy_functions, string_conversions
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import DivisionByZero
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec

PROJECT = "p"
CONVERT = "SELECT SAFE_CONVERT_BYTES_TO_STRING(b'ok') AS s"
FUNCTION_NAMES = "SELECT function_name FROM duckdb_functions()"
BUILTIN = {name for (name,) in duckdb.connect().execute(FUNCTION_NAMES).fetchall()}


def _engine(path: Path | None = None) -> BigQueryEngine:
    engine = BigQueryEngine(ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), path)
    if not engine.list_datasets(PROJECT):
        engine.create_dataset(PROJECT, DatasetSpec("ds"))
    return engine


def _created(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in conn.execute(FUNCTION_NAMES).fetchall()} - BUILTIN


def test_statements_naming_no_bigquery_function_create_none(tmp_path: Path) -> None:
    with closing(_engine(tmp_path)) as engine:  # a database of its own: a kept one may have some already
        engine.query(PROJECT, "CREATE TABLE ds.t (n INT64, s STRING)")
        engine.query(PROJECT, "INSERT INTO ds.t (n, s) VALUES (1, 'a'), (2, 'b')")
        sql = "SELECT SUM(n) AS total, STRING_AGG(s ORDER BY s) AS names FROM ds.t"
        assert engine.query(PROJECT, sql).rows == [{"total": 3, "names": "a,b"}]
        assert _created(engine._conn) == set()


def test_a_statement_naming_one_registers_its_module_and_it_outlives_a_rollback(tmp_path: Path) -> None:
    with closing(_engine(tmp_path)) as engine:
        with pytest.raises(DivisionByZero):  # CTAS runs in a transaction, rolled back on the error
            engine.query(PROJECT, f"CREATE TABLE ds.t AS {CONVERT}, 1 / 0 AS boom")
        assert _created(engine._conn) == set(string_conversions.FUNCTIONS)
        assert engine.query(PROJECT, CONVERT).rows == [{"s": "ok"}]
        length = "SELECT KEYS.KEYSET_LENGTH(KEYS.NEW_KEYSET('AEAD_AES_GCM_256')) AS n"
        assert engine.query(PROJECT, length).rows == [{"n": 1}]
        assert _created(engine._conn) == {*string_conversions.FUNCTIONS, *keysets.FUNCTIONS}


def test_a_function_made_by_its_register_call_outlives_the_call(tmp_path: Path) -> None:
    """``STDDEV`` of a NUMERIC calls a lambda ``register`` made: the database holds it after."""
    with closing(_engine(tmp_path)) as engine:
        stddev = "SELECT STDDEV(CAST(x AS NUMERIC)) AS s FROM UNNEST(['1', '3']) AS x"
        first = engine.query(PROJECT, stddev).rows
        gc.collect()
        garbage = [lambda: None for _ in range(1000)]  # reuse what a dropped lambda freed
        assert engine.query(PROJECT, stddev).rows == first == [{"s": pytest.approx(2**0.5)}]
        del garbage


def test_a_kept_database_lent_again_keeps_its_functions() -> None:
    first = _engine()
    first.query(PROJECT, CONVERT)
    base = first._base
    first.close()
    with closing(_engine()) as second:
        assert second._base is base
        assert second.query(PROJECT, CONVERT).rows == [{"s": "ok"}]


def test_a_set_operations_columns_are_described_with_its_functions(tmp_path: Path) -> None:
    with closing(_engine(tmp_path)) as engine:
        engine.query(PROJECT, "CREATE TABLE ds.t (b BYTES)")
        engine.query(PROJECT, "INSERT INTO ds.t (b) VALUES (b'x')")
        sql = (  # the sides' columns, matched by name, are described while translating
            "SELECT 1 AS n, SAFE_CONVERT_BYTES_TO_STRING(b) AS s FROM ds.t "
            "UNION ALL CORRESPONDING SELECT 'y' AS s, 2 AS n"
        )
        assert engine.query(PROJECT, sql).rows == [{"n": 1, "s": "x"}, {"n": 2, "s": "y"}]


def test_a_view_reopened_from_disk_registers_what_its_query_names(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.query(PROJECT, f"CREATE VIEW ds.v AS {CONVERT}")
    engine.close()
    with closing(_engine(tmp_path)) as reopened:
        assert _created(reopened._conn) == set()
        assert reopened.query(PROJECT, "SELECT s FROM ds.v").rows == [{"s": "ok"}]


def test_a_macro_comes_after_the_macros_it_needs(tmp_path: Path) -> None:
    with closing(_engine(tmp_path)) as engine:
        sql = "SELECT CAST(JUSTIFY_INTERVAL(INTERVAL '29 49:00:00' DAY TO SECOND) AS STRING) AS i"
        assert engine.query(PROJECT, sql).rows == [{"i": "0-1 1 1:0:0"}]
        assert {"justify_interval", "justify_days", "justify_hours", "bq_make_interval"} <= _created(
            engine._conn
        )


def test_every_macro_and_python_function_of_the_engine_is_one_a_statement_can_create() -> None:
    """What each name's definition creates is that name (a module's Python functions, its
    ``FUNCTIONS``), each after what it needs, so no function is left out of the names a
    statement is scanned for."""
    base = duckdb.connect()
    lazy_functions.ensure(base, " ".join(sorted(lazy_functions._DEFINITIONS)).upper())
    assert _created(base) == set(lazy_functions._DEFINITIONS)
