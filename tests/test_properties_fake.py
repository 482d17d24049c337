"""Property-based checks of the BigQuery fake.

The issue, in one line each:

1. every one of the 15 meta tables (and any table ``table_specs(valid=True)`` makes, every
   BigQuery type included) round-trips rows from ``rows(spec)`` through the fake unchanged, inserted
   by DML or by streaming;
2. generated table configs are accepted by :mod:`harness.schema.rules` exactly when BigQuery would
   accept them (an oracle written here, plainly, from BigQuery's documented rules), and a rejected
   one creates nothing;
3. streamed rows refuse UPDATE/DELETE/MERGE until the injected clock passes 30 minutes; DML rows
   never do;
4. expired partitions disappear: a partition expires ``expirationMs`` after its upper boundary.

The stateful model (stream, DML, advance, DELETE, UPDATE, count) is in ``test_stateful_fake.py``.
Function-scoped fixtures do not mix with ``@given``, so every example takes a clean warehouse and
a fresh clock from :func:`fresh_warehouse` (one shared DuckDB engine, reset between examples).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from real_errors import assert_real_error

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.ports import InsertMode, InvalidRequestError, NotFoundError, StreamingBufferError
from harness.schema import rules
from harness.schema.loader import load_config
from harness.schema.spec import (
    FieldMode,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)
from harness.schema.strategies import rows, table_specs

PROJECT = "test-project"
DATASET = "ds"
START = datetime(2025, 1, 1, tzinfo=UTC)
CONFIG = load_config()
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@cache
def _shared_engine() -> BigQueryEngine:
    """One DuckDB engine for the whole module: a new one per example costs more than the example."""
    return BigQueryEngine(ManualClock(START))


@contextmanager
def fresh_warehouse() -> Iterator[tuple[FakeWarehouse, ManualClock]]:
    """An empty fake with dataset ``ds`` and its own clock at 2025-01-01T00:00Z.

    The shared engine is reset (moto-style) and given the new clock: every example starts clean.
    """
    engine = _shared_engine()
    engine.reset()
    clock = ManualClock(START)
    engine.clock = clock
    warehouse = FakeWarehouse(engine, PROJECT)
    warehouse.create_dataset(DATASET)
    yield warehouse, clock


def scaled(fraction: float) -> settings:
    """A share of the active profile's examples (50 by default, 1000 nightly), at least 5."""
    return settings(max_examples=max(5, int(settings.default.max_examples * fraction)))


# ------------------------------------------------------------------------------ comparing rows


def canonical(value: Any) -> Any:
    """A hashable form that keeps the Python type: ``True`` is not ``1``, ``1`` is not ``1.0``.

    Decimals compare by exact value (``Fraction``), so ``Decimal("1.50") == Decimal("1.5")`` but
    no rounding is forgiven; datetimes by ISO text, so a naive DATETIME never equals an aware
    TIMESTAMP and the microseconds and UTC offset must survive.
    """
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, Decimal):
        return ("decimal", Fraction(value))
    if isinstance(value, datetime):  # before date: datetime is a date
        return ("datetime", value.isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, time):
        return ("time", value.isoformat())
    if isinstance(value, bytes):
        return ("bytes", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Mapping):
        return ("dict", tuple(sorted((key, canonical(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("list", tuple(canonical(item) for item in value))
    raise TypeError(f"unexpected value in a row: {value!r} ({type(value).__name__})")


def assert_same_rows(actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> None:
    """Equal as multisets of rows (BigQuery guarantees no order), every value exactly."""
    got, want = Counter(map(canonical, actual)), Counter(map(canonical, expected))
    if got != want:
        by_key = {canonical(r): r for r in [*actual, *expected]}
        missing = [by_key[k] for k in (want - got).elements()]
        unexpected = [by_key[k] for k in (got - want).elements()]
        pytest.fail(
            f"rows differ\n  written, not read back: {missing}\n  read back, not written: {unexpected}"
        )


def select_all(warehouse: FakeWarehouse, spec: TableSpec) -> list[dict[str, Any]]:
    """``SELECT *``, with a filter that satisfies ``requirePartitionFilter`` when it is set."""
    partitioning = spec.time_partitioning
    if spec.require_partition_filter and partitioning is not None:
        # An ingestion-time table is filtered on its pseudo-column, which SELECT * never returns.
        column = f"`{partitioning.field}`" if partitioning.field is not None else "_PARTITIONTIME"
        where = f" WHERE {column} IS NULL OR {column} IS NOT NULL"
    else:
        where = ""
    result = warehouse.query(f"SELECT * FROM `{DATASET}.{spec.table_id}`{where}")
    for row in result.rows:
        assert list(row) == list(spec.column_names)
    return result.rows


# ----------------------------------------------------------------------- partition expiration


def partition_end(value: date | datetime, unit: PartitionType) -> datetime:
    """The partition's upper boundary (exclusive), in UTC. DATETIME and DATE values read as UTC."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if unit is PartitionType.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if unit is PartitionType.DAY:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if unit is PartitionType.MONTH:
        days = calendar.monthrange(moment.year, moment.month)[1]
        return datetime(moment.year, moment.month, 1, tzinfo=UTC) + timedelta(days=days)
    return datetime(moment.year + 1, 1, 1, tzinfo=UTC)


def still_there(spec: TableSpec, row: Mapping[str, Any], now: datetime, ingested: datetime) -> bool:
    """Whether BigQuery still holds the row's partition: its end + expirationMs is after now."""
    partitioning = spec.time_partitioning
    if partitioning is None or partitioning.expiration_ms is None:
        return True
    value = row[partitioning.field] if partitioning.field is not None else ingested
    assert value is not None, "only REQUIRED partition columns are used with an expiration here"
    return partition_end(value, partitioning.type) + timedelta(milliseconds=partitioning.expiration_ms) > now


# ------------------------------------------------------------------------------- 1. round trip


@pytest.mark.parametrize("spec", CONFIG.tables, ids=CONFIG.table_names)
@scaled(0.1)
@given(data=st.data())
def test_meta_table_rows_round_trip_unchanged(spec: TableSpec, data: st.DataObject) -> None:
    batch = data.draw(st.lists(rows(spec), max_size=6), label="rows")
    mode = data.draw(st.sampled_from(InsertMode), label="mode")
    with fresh_warehouse() as (warehouse, clock):
        warehouse.create_table(DATASET, spec)
        assert warehouse.insert_rows(DATASET, spec.table_id, batch, mode=mode) == len(batch)
        # org_idempotency_keys has a 24 h partition expiration: rows dated long before the clock
        # are gone at once, exactly as in BigQuery.
        expected = [row for row in batch if still_there(spec, row, clock.now(), clock.now())]
        assert_same_rows(select_all(warehouse, spec), expected)
        assert warehouse.get_table(DATASET, spec.table_id).num_rows == len(expected)


def _types_in(fields: Sequence[FieldSpec]) -> Iterator[tuple[FieldType, FieldMode]]:
    for f in fields:
        yield f.type, f.mode
        yield from _types_in(f.fields)


@scaled(1)
@given(spec=table_specs(valid=True), data=st.data())
def test_rows_of_any_valid_table_round_trip_unchanged(spec: TableSpec, data: st.DataObject) -> None:
    # Expiration is property 4's business (with REQUIRED columns): whether BigQuery ever expires
    # the __NULL__ partition is not documented, and a NULLABLE column would need that answer.
    if spec.time_partitioning is not None:
        spec = replace(spec, time_partitioning=replace(spec.time_partitioning, expiration_ms=None))
    batch = data.draw(st.lists(rows(spec), max_size=6), label="rows")
    mode = data.draw(st.sampled_from(InsertMode), label="mode")
    with fresh_warehouse() as (warehouse, _):
        warehouse.create_table(DATASET, spec)
        assert warehouse.insert_rows(DATASET, spec.table_id, batch, mode=mode) == len(batch)
        assert_same_rows(select_all(warehouse, spec), batch)


def test_random_tables_cover_every_type_and_mode() -> None:
    """The generic round trip above is only as good as the shapes it sees: make sure it sees all."""
    seen: set[tuple[FieldType, FieldMode]] = set()

    @settings(max_examples=30, database=None, derandomize=True)
    @given(spec=table_specs(valid=True))
    def collect(spec: TableSpec) -> None:
        seen.update(_types_in(spec.schema))

    collect()
    types = {t for t, _ in seen}
    assert set(FieldType) - {FieldType.INTERVAL, FieldType.RANGE} <= types
    assert {m for _, m in seen} == set(FieldMode)
    assert (FieldType.RECORD, FieldMode.REPEATED) in seen


# Minimal cases the properties above found in the fake, kept as plain regression tests: Decimal's
# default 28-digit context rounded NUMERIC/BIGNUMERIC values (abs, normalize, quantize), and a
# Python str in a JSON column was taken for JSON text instead of a JSON string.
WIDE = TableSpec(
    "wide",
    (
        FieldSpec("k", FieldType.INTEGER, FieldMode.REQUIRED),
        FieldSpec("n", FieldType.NUMERIC),
        FieldSpec("bn", FieldType.BIGNUMERIC),
        FieldSpec("j", FieldType.JSON),
    ),
)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        # 29 significant digits: more than decimal's default 28-digit context.
        ("n", Decimal("12345678901234567890.123456789")),
        ("n", Decimal("99999999999999999999999999999.999999999")),  # NUMERIC's largest value
        ("n", Decimal("-99999999999999999999999999999.999999999")),
        ("bn", Decimal("12345678901234567890123456789012345678.12345678901234567890123456789012345678")),
        ("bn", Decimal("1.00000000000000000000000000000000000001")),
        # A JSON string document, as google-cloud-bigquery's insert_rows sends it (json.dumps).
        ("j", "str"),
        ("j", "1"),
        ("j", ""),
    ],
    ids=[
        *("numeric-29-digits", "numeric-max", "numeric-min", "bignumeric-76-digits", "bignumeric-scale-38"),
        *("json-string", "json-string-of-digits", "json-empty-string"),
    ],
)
@pytest.mark.parametrize("mode", InsertMode)
def test_round_trip_regressions(column: str, value: Any, mode: InsertMode) -> None:
    row = {"k": 1, "n": None, "bn": None, "j": None, column: value}
    with fresh_warehouse() as (warehouse, _):
        warehouse.create_table(DATASET, WIDE)
        warehouse.insert_rows(DATASET, "wide", [row], mode=mode)
        assert_same_rows(select_all(warehouse, WIDE), [row])


def test_tabledata_list_returns_the_rows() -> None:
    """``list_rows`` (tabledata.list, what the REST emulator serves) is the only way to read a table
    that is ingestion-time partitioned with requirePartitionFilter; it must work for any table."""
    spec = TableSpec("t", (FieldSpec("a", FieldType.INTEGER), FieldSpec("b", FieldType.STRING)))
    with fresh_warehouse() as (warehouse, _):
        warehouse.create_table(DATASET, spec)
        warehouse.insert_rows(DATASET, "t", [{"a": 1, "b": "x"}, {"a": 2, "b": None}])
        assert warehouse.engine.list_rows(PROJECT, DATASET, "t") == (
            [{"a": 1, "b": "x"}, {"a": 2, "b": None}],
            2,
        )


def test_ingestion_time_pseudo_column() -> None:
    """BigQuery's own 'without a filter over column(s) ... _PARTITIONTIME' error names this filter."""
    spec = TableSpec(
        "ingested",
        (FieldSpec("a", FieldType.INTEGER),),
        time_partitioning=TimePartitioning(PartitionType.DAY),
        require_partition_filter=True,
    )
    with fresh_warehouse() as (warehouse, _):
        warehouse.create_table(DATASET, spec)
        warehouse.insert_rows(DATASET, "ingested", [{"a": 1}])
        found = warehouse.query("SELECT a FROM ds.ingested WHERE _PARTITIONTIME IS NOT NULL").rows
        assert found == [{"a": 1}]


# ------------------------------------------------------------------------- 2. rules agreement

#: The oracle's own copy of BigQuery's lists, from the docs ("Partitioned tables", "Clustered tables").
ORACLE_PARTITION_TYPES = {FieldType.DATE, FieldType.TIMESTAMP, FieldType.DATETIME}
ORACLE_CLUSTER_TYPES = {
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.NUMERIC,
    FieldType.BIGNUMERIC,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.TIMESTAMP,
    FieldType.GEOGRAPHY,
    FieldType.RANGE,
}


def bigquery_accepts(spec: TableSpec) -> bool:
    """A small model of what ``tables.insert`` accepts, independent of ``harness.schema.rules``.

    Only partitioning and clustering are modelled: names and schemas from ``table_specs`` are
    always valid (``test_schema_strategies`` checks that).
    """
    top_level = {f.name.lower(): f for f in spec.schema}  # column names are case-insensitive
    partitioning = spec.time_partitioning
    if partitioning is not None and partitioning.field is not None:
        column = top_level.get(partitioning.field.lower())  # "a.b" is never a top-level name
        if column is None:
            return False
        if column.type not in ORACLE_PARTITION_TYPES or column.mode is FieldMode.REPEATED:
            return False
        if column.type is FieldType.DATE and partitioning.type is PartitionType.HOUR:
            return False
    if (
        partitioning is not None
        and partitioning.expiration_ms is not None
        and partitioning.expiration_ms <= 0
    ):
        return False
    names = [name.lower() for name in spec.clustering_fields]
    if len(names) > 4 or len(set(names)) != len(names):
        return False
    for name in names:
        column = top_level.get(name)
        if column is None or column.mode is FieldMode.REPEATED or column.type not in ORACLE_CLUSTER_TYPES:
            return False
    return True


@st.composite
def duplicated_clustering(draw: st.DrawFn) -> TableSpec:
    """A valid spec with one clustering column named twice (``table_specs`` never does this)."""
    spec = draw(table_specs(valid=True).filter(lambda s: 1 <= len(s.clustering_fields) <= 3))
    twice = draw(st.sampled_from(spec.clustering_fields))
    twice = draw(st.sampled_from([twice, twice.upper(), twice.lower()]))
    position = draw(st.integers(0, len(spec.clustering_fields)))
    fields = list(spec.clustering_fields)
    fields.insert(position, twice)
    return replace(spec, clustering_fields=tuple(fields))


@scaled(1)
@given(data=st.data())
def test_rules_accept_exactly_what_bigquery_accepts(data: st.DataObject) -> None:
    intent = data.draw(st.sampled_from([None, True, False, "duplicate"]), label="intent")
    if intent == "duplicate":
        spec = data.draw(duplicated_clustering(), label="spec")
    else:
        spec = data.draw(table_specs(valid=intent), label="spec")
    if intent in (True, False):
        assert bigquery_accepts(spec) is intent, "table_specs' construction and the oracle disagree"
    assert_rules_and_fake_agree_with_oracle(spec)


def _table(
    *columns: FieldSpec, partition: TimePartitioning | None = None, cluster: tuple[str, ...] = ()
) -> TableSpec:
    return TableSpec("t", columns, time_partitioning=partition, clustering_fields=cluster)


_S = [FieldSpec(f"s{i}", FieldType.STRING) for i in range(6)]
_TS = FieldSpec("ts", FieldType.TIMESTAMP)
_D = FieldSpec("d", FieldType.DATE)
_NESTED = FieldSpec("r", FieldType.RECORD, fields=(_TS, _S[0]))
BOUNDARY_SPECS = {
    "4 clustering fields": _table(*_S[:4], cluster=tuple(f.name for f in _S[:4])),
    "5 clustering fields": _table(*_S[:5], cluster=tuple(f.name for f in _S[:5])),
    "DATE by DAY": _table(_D, partition=TimePartitioning(PartitionType.DAY, "d")),
    "DATE by HOUR": _table(_D, partition=TimePartitioning(PartitionType.HOUR, "d")),
    "TIMESTAMP by HOUR": _table(_TS, partition=TimePartitioning(PartitionType.HOUR, "ts")),
    "REPEATED TIMESTAMP": _table(
        replace(_TS, mode=FieldMode.REPEATED), partition=TimePartitioning(PartitionType.DAY, "ts")
    ),
    "nested partition field": _table(_NESTED, partition=TimePartitioning(PartitionType.DAY, "r.ts")),
    "nested clustering field": _table(_NESTED, cluster=("r.s0",)),
    "duplicate clustering field, other case": _table(_S[0], _S[1], cluster=("s0", "s1", "S0")),
    "REPEATED clustering field": _table(replace(_S[0], mode=FieldMode.REPEATED), cluster=("s0",)),
    **{
        f"clustering on {t.value}": _table(FieldSpec("c", t), cluster=("c",))
        for t in FieldType
        if t not in (FieldType.RECORD, FieldType.INTERVAL, FieldType.RANGE)
    },
    "clustering on RANGE<DATE>": _table(
        FieldSpec("c", FieldType.RANGE, range_element=FieldType.DATE), cluster=("c",)
    ),
    "clustering on RECORD": _table(FieldSpec("c", FieldType.RECORD, fields=(_S[0],)), cluster=("c",)),
}


@pytest.mark.parametrize("spec", BOUNDARY_SPECS.values(), ids=BOUNDARY_SPECS.keys())
def test_rules_and_fake_agree_on_the_edges(spec: TableSpec) -> None:
    """The random search rarely lands exactly on a limit; these do, and go through the same check."""
    assert_rules_and_fake_agree_with_oracle(spec)


def assert_rules_and_fake_agree_with_oracle(spec: TableSpec) -> None:
    """Rules accept iff the oracle does; the fake creates an accepted table and nothing else."""
    verdict = bigquery_accepts(spec)
    violations = rules.validate_table(spec)
    assert (not violations) is verdict, f"oracle accepts: {verdict}; violations: {violations}"

    with fresh_warehouse() as (warehouse, _):
        before = warehouse.list_tables(DATASET)
        if verdict:
            info = warehouse.create_table(DATASET, spec)
            assert info.spec == spec
            assert info.num_rows == 0
            assert warehouse.get_table(DATASET, spec.table_id).spec == spec
            assert [t.table_id for t in warehouse.list_tables(DATASET)] == [spec.table_id]
            return
        with pytest.raises(InvalidRequestError) as refused:
            warehouse.create_table(DATASET, spec)
        assert_real_error(refused.value, bq.RULE_ERRORS[violations[0].code])
        assert refused.value.violation == violations[0]  # the fake reports the rules' first violation
        assert warehouse.list_tables(DATASET) == before == []
        with pytest.raises(NotFoundError):
            warehouse.get_table(DATASET, spec.table_id)
        with pytest.raises(NotFoundError):
            warehouse.query(f"SELECT 1 FROM `{DATASET}.{spec.table_id}`")
        # Nothing half-made either: the same id is free for a valid table afterwards.
        warehouse.create_table(DATASET, TableSpec(spec.table_id, (FieldSpec("x", FieldType.STRING),)))


def test_table_ids_are_case_sensitive() -> None:
    """BigQuery table names are case-sensitive ("Table naming"): ``t`` and ``T`` may coexist."""
    schema = (FieldSpec("x", FieldType.STRING),)
    with fresh_warehouse() as (warehouse, _):
        warehouse.create_table(DATASET, TableSpec("t", schema))
        warehouse.create_table(DATASET, TableSpec("T", schema))
        assert sorted(t.table_id for t in warehouse.list_tables(DATASET)) == ["T", "t"]


# --------------------------------------------------------------------------- 3. streaming buffer

BUFFERED = TableSpec(
    "t",
    (
        FieldSpec("org_slug", FieldType.STRING, FieldMode.REQUIRED),
        FieldSpec("value", FieldType.INTEGER),
        FieldSpec("note", FieldType.STRING),
        FieldSpec("created_at", FieldType.TIMESTAMP),
        FieldSpec("tags", FieldType.STRING, FieldMode.REPEATED),
    ),
    clustering_fields=("org_slug",),
)
ONE_ROW = {"org_slug": "", "value": 1, "note": None, "created_at": None, "tags": []}
BUFFER_MESSAGE = (
    "UPDATE or DELETE statement over table test-project.ds.t would affect rows in the streaming "
    "buffer, which is not supported"
)
STATEMENTS = {
    "UPDATE": "UPDATE `ds.t` SET note = @note WHERE org_slug = @slug",
    "DELETE": "DELETE FROM `ds.t` WHERE org_slug = @slug",
    "MERGE UPDATE": (
        "MERGE `ds.t` T USING (SELECT @slug AS slug) S ON T.org_slug = S.slug "
        "WHEN MATCHED THEN UPDATE SET note = @note"
    ),
    "MERGE DELETE": (
        "MERGE `ds.t` T USING (SELECT @slug AS slug) S ON T.org_slug = S.slug WHEN MATCHED THEN DELETE"
    ),
}


def _apply(statement: str, found: list[dict[str, Any]], slug: str, note_text: str) -> list[dict[str, Any]]:
    """What a successful statement leaves in a table that held ``found``."""
    if statement.endswith("DELETE"):
        return [row for row in found if row["org_slug"] != slug]
    return [{**row, "note": note_text} if row["org_slug"] == slug else row for row in found]


@scaled(0.6)
@given(
    streamed=st.lists(rows(BUFFERED), min_size=1, max_size=4),
    dml=st.lists(rows(BUFFERED), min_size=1, max_size=3),
    wait=st.one_of(st.integers(0, 3599), st.sampled_from([1799, 1800])),
    statement=st.sampled_from(sorted(STATEMENTS)),
    note_text=st.text(max_size=5),
)
@example(streamed=[ONE_ROW], dml=[ONE_ROW], wait=30 * 60 - 1, statement="DELETE", note_text="")
@example(streamed=[ONE_ROW], dml=[ONE_ROW], wait=30 * 60, statement="UPDATE", note_text="")
def test_streamed_rows_refuse_dml_until_30_minutes_pass(
    streamed: list[dict[str, Any]], dml: list[dict[str, Any]], wait: int, statement: str, note_text: str
) -> None:
    streamed = [{**row, "org_slug": "streamed"} for row in streamed]
    dml = [{**row, "org_slug": "dml"} for row in dml]
    sql = STATEMENTS[statement]
    with fresh_warehouse() as (warehouse, clock):
        warehouse.create_table(DATASET, BUFFERED)
        warehouse.insert_rows(DATASET, "t", streamed, mode=InsertMode.STREAMING)
        warehouse.insert_rows(DATASET, "t", dml, mode=InsertMode.DML)
        clock.advance(timedelta(seconds=wait))

        # Rows inserted by DML are never blocked, however fresh the streamed rows are.
        params = {"slug": "dml", "note": note_text}
        assert warehouse.execute(sql, params) == len(dml)
        content = _apply(statement, [*streamed, *dml], "dml", note_text)

        params = {"slug": "streamed", "note": note_text}
        if wait < 30 * 60:
            with pytest.raises(StreamingBufferError) as refused:
                warehouse.execute(sql, params)
            assert_real_error(refused.value, bq.StreamingBufferRefusal, BUFFER_MESSAGE)
        else:
            assert warehouse.execute(sql, params) == len(streamed)
            content = _apply(statement, content, "streamed", note_text)
        # Refused: nothing changed (the DML rows' change stands). Accepted: exactly the streamed rows.
        assert_same_rows(select_all(warehouse, BUFFERED), content)


# ------------------------------------------------------------------------ 4. partition expiry


@st.composite
def expiring_tables(draw: st.DrawFn) -> TableSpec:
    column_type = draw(st.sampled_from([FieldType.DATE, FieldType.TIMESTAMP, FieldType.DATETIME]))
    units = list(PartitionType)
    if column_type is FieldType.DATE:
        units.remove(PartitionType.HOUR)
    expiration = draw(
        st.one_of(
            st.integers(1, 5).map(lambda days: days * DAY_MS),
            st.integers(1, 120).map(lambda hours: hours * HOUR_MS),
            st.integers(1, 5 * DAY_MS),
        )
    )
    return TableSpec(
        "t",
        (
            FieldSpec("id", FieldType.INTEGER, FieldMode.REQUIRED),
            FieldSpec("p", column_type, FieldMode.REQUIRED),
        ),
        time_partitioning=TimePartitioning(draw(st.sampled_from(units)), "p", expiration),
    )


def _partition_values(column_type: FieldType) -> st.SearchStrategy[date | datetime]:
    """Values from ten days before the clock's start to two days after it."""
    low, high = datetime(2024, 12, 22), datetime(2025, 1, 3)
    if column_type is FieldType.DATE:
        return st.dates(low.date(), high.date())
    if column_type is FieldType.DATETIME:
        return st.datetimes(low, high)
    return st.datetimes(low, high, timezones=st.just(UTC))


@scaled(0.6)
@given(spec=expiring_tables(), data=st.data())
def test_expired_partitions_disappear(spec: TableSpec, data: st.DataObject) -> None:
    partitioning = spec.time_partitioning
    assert partitioning is not None and partitioning.expiration_ms is not None
    values = data.draw(st.lists(_partition_values(spec.schema[1].type), min_size=1, max_size=8), label="p")
    batch = [{"id": i, "p": value} for i, value in enumerate(values)]
    expiry = timedelta(milliseconds=partitioning.expiration_ms)
    boundaries = sorted({partition_end(v, partitioning.type) + expiry for v in values})
    mode = data.draw(st.sampled_from(InsertMode), label="mode")
    with fresh_warehouse() as (warehouse, clock):
        warehouse.create_table(DATASET, spec)
        warehouse.insert_rows(DATASET, "t", batch, mode=mode)
        for _ in range(data.draw(st.integers(1, 2), label="steps")):
            # Either a plain wait, or straight to a row's expiry moment, just before or just after.
            if data.draw(st.booleans(), label="to a boundary"):
                target = data.draw(st.sampled_from(boundaries), label="boundary") + data.draw(
                    st.sampled_from([timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1)])
                )
                clock.set(max(target, clock.now()))
            else:
                clock.advance(timedelta(seconds=data.draw(st.integers(0, 8 * 86_400), label="wait")))
            now = clock.now()
            expected = [row for row in batch if still_there(spec, row, now, START)]
            note(f"now={now.isoformat()} expected ids={[r['id'] for r in expected]}")
            if data.draw(st.booleans(), label="metadata first"):
                assert warehouse.get_table(DATASET, "t").num_rows == len(expected)
                assert_same_rows(warehouse.query("SELECT * FROM ds.t").rows, expected)
            else:
                assert_same_rows(warehouse.query("SELECT * FROM ds.t").rows, expected)
                assert warehouse.get_table(DATASET, "t").num_rows == len(expected)


def test_daily_partition_with_six_hour_expiration_expires_at_six_the_next_day() -> None:
    """The worked example: a DAY partition for 2025-01-01 with expirationMs = 6 h ends 2025-01-02
    00:00 UTC and is gone from 2025-01-02 06:00 UTC."""
    spec = TableSpec(
        "t",
        (FieldSpec("id", FieldType.INTEGER), FieldSpec("p", FieldType.DATE, FieldMode.REQUIRED)),
        time_partitioning=TimePartitioning(PartitionType.DAY, "p", 6 * HOUR_MS),
    )
    with fresh_warehouse() as (warehouse, clock):
        warehouse.create_table(DATASET, spec)
        warehouse.insert_rows(DATASET, "t", [{"id": 1, "p": date(2025, 1, 1)}])
        clock.set(datetime(2025, 1, 2, 5, 59, 59, 999_999, tzinfo=UTC))
        assert warehouse.get_table(DATASET, "t").num_rows == 1
        clock.set(datetime(2025, 1, 2, 6, tzinfo=UTC))
        assert warehouse.get_table(DATASET, "t").num_rows == 0
        assert warehouse.query("SELECT * FROM ds.t").rows == []
