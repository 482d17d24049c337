"""Differential property: the in-process fake and the REST emulator behind the real client agree.

Hypothesis generates tables (the 15 meta tables of ``bootstrap.yml`` and random valid specs from
``harness.schema.strategies``) and rows that match them. The same rows go through both
``Warehouse`` implementations, each on its own fresh engine and ``ManualClock``:

* ``FakeWarehouse`` → ``BigQueryEngine`` (the ``fake`` tier);
* ``BigQueryWarehouse`` → google-cloud-bigquery → HTTP → ``fakes.bigquery.rest`` → ``BigQueryEngine``
  (the ``emulator`` tier, and the code path that runs against real BigQuery).

Then a fixed set of statements, shaped by the generated schema, runs on both: ``SELECT *`` in a
total order, COUNT/GROUP BY, WHERE with a named parameter of each column's type, aggregates,
nested (JSON/ARRAY/STRUCT) reads, UPDATE/DELETE inside and after the streaming buffer window
(the clocks move together), and statements that must fail. Every outcome must be identical:
rows as the port returns them (plain Python values, compared with their types), result schema,
statement type and affected rows, or the error's class, status, reason, message and per-row
errors. Generated bad rows must be refused identically in both insert modes.

The engine is the same code on both sides, so a difference is a bug in what lies between: the
REST layer, the value encoding on the wire, the client's conversions or the adapter.

Two narrow exclusions, each at its function with the reason (both are limits of the real client
path that the REST layer cannot undo): in DML mode a NULL RECORD nested in a RECORD is not
generated (``fill_nested_null_records``), and ARRAY<STRUCT> parameters carry one element
(``one_struct_per_array``). Bad values are only generated where the client passes them through
unchanged (``WRONG_VALUES``).
"""

from __future__ import annotations

import socket
import threading
import time as time_module
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import google.auth.credentials
import pytest
import uvicorn
from hypothesis import given, note, settings
from hypothesis import strategies as st
from real_errors import port_class

from fakes.bigquery.engine import STREAMING_BUFFER_TTL, BigQueryEngine
from fakes.bigquery.rest import create_app
from fakes.bigquery.warehouse import FakeWarehouse
from harness.backends.bigquery import BigQueryWarehouse
from harness.clock import ManualClock
from harness.ports import (
    InsertMode,
    InsertRowsError,
    QueryParam,
    QueryResult,
    TableInfo,
    Warehouse,
    WarehouseError,
)
from harness.schema.loader import load_config
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec
from harness.schema.strategies import rows, table_specs, value_for

# The client warns that it does not know GEOGRAPHY when it encodes an insertAll row; expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Unknown type 'GEOGRAPHY':FutureWarning"),
    pytest.mark.slow,  # deselected by --quick: the fake against the REST emulator, property-based
]

PROJECT = "test-project"
DATASET = "ds"
START = datetime(2025, 1, 1, tzinfo=UTC)
CONFIG = load_config()

# ---------------------------------------------------------------------------------- server


class _Swappable:
    """The ASGI app the server hands requests to; each example swaps in an app on a reset engine."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Pair:
    """Two engines (fake side, emulator side) that live for the module and are reset per example:
    a new DuckDB engine per example costs more than the example."""

    fake_engine: BigQueryEngine
    emulated_engine: BigQueryEngine
    holder: _Swappable
    client: Any

    @contextmanager
    def fresh(self) -> Iterator[Sides]:
        fake_clock, emulated_clock = ManualClock(START), ManualClock(START)
        for engine, clock in ((self.fake_engine, fake_clock), (self.emulated_engine, emulated_clock)):
            engine.reset()
            engine.clock = clock
        # A new app per example: no jobs or insertIds remembered from an earlier example.
        self.holder.app = create_app(self.emulated_engine)
        sides = Sides(
            fake=FakeWarehouse(self.fake_engine, PROJECT),
            emulated=BigQueryWarehouse(PROJECT, client=self.client),
            clocks=(fake_clock, emulated_clock),
        )
        sides.same(lambda wh: wh.create_dataset(DATASET).dataset_id)
        yield sides


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    from google.cloud import bigquery

    holder = _Swappable()
    port = _free_port()
    config = uvicorn.Config(holder, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time_module.monotonic() + 10
    while not server.started:
        if time_module.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("emulator did not start")
        time_module.sleep(0.01)
    client = bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": f"http://127.0.0.1:{port}"},
    )
    fake_engine, emulated_engine = BigQueryEngine(ManualClock(START)), BigQueryEngine(ManualClock(START))
    yield Pair(fake_engine, emulated_engine, holder, client)
    client.close()
    server.should_exit = True
    thread.join(timeout=5)
    fake_engine.close()
    emulated_engine.close()


# ------------------------------------------------------------------------------ comparing


def canonical(value: Any) -> Any:
    """A comparable form that keeps the Python type (``True`` is not ``1``, ``1`` is not ``1.0``,
    a naive DATETIME is not an aware TIMESTAMP); decimals compare by exact value."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return (type(value).__name__, value)
    if isinstance(value, Decimal):
        return ("Decimal", Fraction(value))
    if isinstance(value, datetime | date | time):
        return (type(value).__name__, value.isoformat())
    if isinstance(value, Mapping):
        return ("dict", tuple((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return ("list", tuple(canonical(item) for item in value))
    raise TypeError(f"unexpected value from a warehouse: {value!r} ({type(value).__name__})")


def first_difference(left: Any, right: Any, path: str = "") -> tuple[str, Any, Any]:
    """Where two outcomes first differ, for a readable failure."""
    same_shape = isinstance(left, tuple) and isinstance(right, tuple) and len(left) == len(right)
    if same_shape and (not left or not isinstance(left[0], str) or left[0] == right[0]):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return path or "(top)", left, right


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a port call did, in a form two backends can be compared on."""
    try:
        value = call()
    except WarehouseError as exc:
        detail: tuple[Any, ...] = ("error", port_class(exc).__name__, exc.status, exc.reason, exc.message)
        if isinstance(exc, InsertRowsError):
            detail += (sorted((e.index, e.reason, e.location or "", e.message) for e in exc.row_errors),)
        return detail
    if isinstance(value, QueryResult):
        return ("result", canonical(value.rows), value.schema, value.statement_type, value.affected_rows)
    if isinstance(value, TableInfo):
        return ("table", value.spec, value.num_rows, value.streaming_buffer is not None)
    return ("value", canonical(value))


@dataclass
class Sides:
    fake: Warehouse
    emulated: Warehouse
    clocks: tuple[ManualClock, ManualClock]

    def same(self, call: Callable[[Warehouse], Any], label: str = "") -> tuple[Any, ...]:
        """Run ``call`` on both sides and require identical outcomes; returns the outcome."""
        fake = outcome(lambda: call(self.fake))
        emulated = outcome(lambda: call(self.emulated))
        if fake != emulated:
            path, left, right = first_difference(fake, emulated)
            pytest.fail(f"{label}\n  differs at {path}\n  fake:     {left!r}\n  emulator: {right!r}")
        return fake

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        note(f"query: {sql} {dict(params or {})!r}")
        return self.same(lambda wh: wh.query(sql, params), sql)

    def advance(self, delta: timedelta) -> None:
        for clock in self.clocks:
            clock.advance(delta)


# ------------------------------------------------------------------------------ statements


def q(name: str) -> str:
    return "`" + name.replace("`", "\\`") + "`"


_UNORDERABLE = (FieldType.RECORD, FieldType.JSON, FieldType.GEOGRAPHY)
_UNCOMPARABLE = (*_UNORDERABLE, FieldType.FLOAT)
_PARAM_TYPES = {FieldType.BIGNUMERIC: "BIGNUMERIC", FieldType.JSON: "JSON", FieldType.GEOGRAPHY: "GEOGRAPHY"}


def scalar_columns(spec: TableSpec, excluded: Sequence[FieldType] = ()) -> list[FieldSpec]:
    return [f for f in spec.schema if not f.is_repeated and f.type not in excluded]


def param_for(column: FieldSpec, value: Any) -> Any:
    """The Python value as a port caller passes it; a ``QueryParam`` where the Python type alone
    would name another BigQuery type (a Decimal is NUMERIC, a str STRING)."""
    type_name = _PARAM_TYPES.get(column.type)
    return QueryParam(type_name, value) if type_name is not None else value


def order_by(spec: TableSpec) -> str:
    """Every orderable column: a total order unless rows differ only in unorderable ones."""
    return ", ".join(q(f.name) for f in scalar_columns(spec, _UNORDERABLE)) or "1"


def table_sql(spec: TableSpec) -> str:
    return f"{q(DATASET)}.{q(spec.table_id)}"


def run_queries(sides: Sides, spec: TableSpec, batch: Sequence[Mapping[str, Any]]) -> None:
    """The fixed statements, shaped by the schema, each required to agree on both sides."""
    table = table_sql(spec)
    everything = sides.query(f"SELECT * FROM {table} ORDER BY {order_by(spec)}")
    sides.query(f"SELECT COUNT(*) AS n FROM {table}")
    for column in scalar_columns(spec, _UNCOMPARABLE)[:3]:
        name = q(column.name)
        sides.query(f"SELECT {name}, COUNT(*) AS n FROM {table} GROUP BY {name} ORDER BY {name}")
    seen: set[FieldType] = set()
    for column in scalar_columns(spec, (FieldType.RECORD,)):
        values = [row[column.name] for row in batch if row.get(column.name) is not None]
        if not values or column.type in seen:
            continue  # one column of each type is enough, and keeps an example fast
        seen.add(column.type)
        value = values[0]
        if column.type in _UNCOMPARABLE:
            # Equality is not defined for these; the parameter must still arrive intact.
            sides.query("SELECT @p AS p", {"p": param_for(column, value)})
        else:
            sides.query(
                f"SELECT COUNT(*) AS n FROM {table} WHERE {q(column.name)} = @p",
                {"p": param_for(column, value)},
            )
            sides.query(
                f"SELECT COUNT(*) AS n FROM {table} WHERE {q(column.name)} IN UNNEST(@p)",
                {
                    "p": values[:3]
                    if column.type not in _PARAM_TYPES
                    else QueryParam(f"ARRAY<{_PARAM_TYPES[column.type]}>", values[:3])
                },
            )
        if column.type in (FieldType.NUMERIC, FieldType.FLOAT, FieldType.INTEGER):
            name = q(column.name)
            sides.query(
                f"SELECT COUNT({name}) AS c, SUM({name}) AS s, AVG({name}) AS a, "
                f"MIN({name}) AS lo, MAX({name}) AS hi FROM {table}"
            )
        if column.type in (FieldType.TIMESTAMP, FieldType.DATE, FieldType.DATETIME):
            name = q(column.name)
            sides.query(f"SELECT COUNT({name}) AS c, MIN({name}) AS lo, MAX({name}) AS hi FROM {table}")
    for column in spec.schema:
        name = q(column.name)
        if column.is_repeated:
            sides.query(f"SELECT ARRAY_LENGTH({name}) AS n FROM {table} ORDER BY n")
        elif column.is_record:
            first = column.fields[0]
            sides.query(f"SELECT {name}.{q(first.name)} AS v FROM {table} ORDER BY TO_JSON_STRING(v)")
        elif column.type is FieldType.JSON:
            sides.query(f"SELECT TO_JSON_STRING({name}) AS j FROM {table} ORDER BY j")
    assert everything[0] == "result"


def run_errors(sides: Sides, spec: TableSpec) -> None:
    """Statements that must fail, identically: unknown column and table, type mismatches, division
    by zero, a missing parameter, bad syntax."""
    table = table_sql(spec)
    sides.query(f"SELECT no_such_column_x FROM {table}")
    sides.query(f"SELECT * FROM {q(DATASET)}.`missing-table`")
    sides.query("SELECT * FROM `no_such_dataset`.`t`")
    sides.query("SELECT 1 / 0 AS x")
    sides.query("SELECT 'a' + 1 AS x")
    for column in scalar_columns(spec, (FieldType.RECORD,))[:2]:
        mismatch = "DATE '2025-01-01'" if column.type is FieldType.STRING else "'x'"
        sides.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {q(column.name)} = {mismatch}")
        sides.query(f"SELECT SUM({q(column.name)}) AS s FROM {table}")
    sides.query("SELECT @p AS p")
    sides.query("SELEC 1")


def run_dml(
    sides: Sides, spec: TableSpec, batch: Sequence[Mapping[str, Any]], mode: InsertMode, held: int
) -> None:
    """UPDATE and DELETE: refused while streamed rows sit in the buffer (``held`` rows are in the
    table: partition expiration may have taken some at once), run once both clocks are past the
    window; then the whole table must still read the same."""
    table = table_sql(spec)
    columns = scalar_columns(spec, (FieldType.RECORD,))
    column = columns[0] if columns else None
    value = (
        next((row[column.name] for row in batch if row[column.name] is not None), None) if column else None
    )
    if column is not None and (value is not None or column.mode is not FieldMode.REQUIRED):
        setter = f"UPDATE {table} SET {q(column.name)} = @v WHERE TRUE"
        params = {"v": param_for(column, value)} if value is not None else None
        if value is None:
            setter = f"UPDATE {table} SET {q(column.name)} = NULL WHERE TRUE"
    else:
        setter, params = (
            f"UPDATE {table} SET {q(spec.schema[0].name)} = {q(spec.schema[0].name)} WHERE TRUE",
            None,
        )
    first = sides.query(setter, params)
    if mode is InsertMode.STREAMING and held:
        assert first[:2] == ("error", "StreamingBufferError"), first
    sides.advance(STREAMING_BUFFER_TTL + timedelta(minutes=1))
    sides.same(lambda wh: wh.get_table(DATASET, spec.table_id), "get_table after the window")
    sides.query(setter, params)
    if column is not None and value is not None and column.type not in _UNCOMPARABLE:
        sides.query(f"DELETE FROM {table} WHERE {q(column.name)} = @p", {"p": param_for(column, value)})
    sides.query(f"SELECT * FROM {table} ORDER BY {order_by(spec)}")
    sides.query(f"DELETE FROM {table} WHERE TRUE")
    sides.query(f"SELECT COUNT(*) AS n FROM {table}")


def run_partition_filter(sides: Sides, spec: TableSpec) -> None:
    """With ``requirePartitionFilter`` set, an unfiltered scan fails and a filtered one runs."""
    partitioning = spec.time_partitioning
    if partitioning is None:
        return
    sides.same(lambda wh: wh.patch_table(DATASET, spec.table_id, require_partition_filter=True), "patch")
    table = table_sql(spec)
    sides.query(f"SELECT COUNT(*) AS n FROM {table}")
    if partitioning.field is not None:
        column = q(partitioning.field)
        sides.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} IS NULL OR {column} IS NOT NULL")


# ------------------------------------------------------------------------------ properties


META_TABLES = st.sampled_from(CONFIG.tables)


def scaled(fraction: float) -> settings:
    """A share of the active profile's examples (50 by default, 1000 nightly), at least 5: each
    example costs a few dozen HTTP round trips through the real client."""
    return settings(max_examples=max(5, int(settings.default.max_examples * fraction)))


@scaled(0.2)
@given(spec=META_TABLES, data=st.data())
def test_meta_tables_agree(pair: Pair, spec: TableSpec, data: st.DataObject) -> None:
    check_table(pair, spec, data)


@scaled(0.5)
@given(spec=table_specs(valid=True), data=st.data())
def test_random_tables_agree(pair: Pair, spec: TableSpec, data: st.DataObject) -> None:
    check_table(pair, spec, data)


def fill_nested_null_records(
    fields: Sequence[FieldSpec], record: Mapping[str, Any], data: st.DataObject, nested: bool = False
) -> dict[str, Any]:
    """EXCLUSION (DML mode only): a NULL RECORD *inside* a RECORD gets a drawn value instead.

    google-cloud-bigquery has no NULL ``StructQueryParameter`` (it always sends ``structValues``),
    and the adapter (harness/backends/bigquery.py ``_record_parameter``) turns a nested ``None``
    into a STRUCT of NULLs, so the emulator path stores ``{"a": None, ...}`` where the fake stores
    ``None``. Not fixable in the REST layer: the request no longer says NULL. A top-level NULL
    RECORD is a SQL ``NULL`` literal and is still generated."""
    out = dict(record)
    for field in fields:
        if field.name not in record:
            continue
        value = record[field.name]
        if field.is_record:
            if value is None and nested and not field.is_repeated:
                value = data.draw(value_for(replace(field, mode=FieldMode.REQUIRED)), label="filled record")
            if field.is_repeated:
                value = [fill_nested_null_records(field.fields, item, data, True) for item in value or []]
            elif value is not None:
                value = fill_nested_null_records(field.fields, value, data, True)
        out[field.name] = value
    return out


def check_table(pair: Pair, spec: TableSpec, data: st.DataObject) -> None:
    batch = data.draw(st.lists(rows(spec), max_size=5), label="rows")
    mode = data.draw(st.sampled_from(InsertMode), label="mode")
    if mode is InsertMode.DML:
        batch = [fill_nested_null_records(spec.schema, row, data) for row in batch]
    with pair.fresh() as sides:
        sides.same(lambda wh: wh.create_table(DATASET, replace(spec, require_partition_filter=False)))
        inserted = sides.same(lambda wh: wh.insert_rows(DATASET, spec.table_id, batch, mode=mode), "insert")
        assert inserted == ("value", ("int", len(batch))), inserted
        held = sides.same(lambda wh: wh.get_table(DATASET, spec.table_id).num_rows, "num_rows")[1][1]
        run_queries(sides, spec, batch)
        run_errors(sides, spec)
        run_dml(sides, spec, batch, mode, held)
        run_partition_filter(sides, spec)


# ------------------------------------------------------------------------------ parameters


def port_param(column: FieldSpec, value: Any) -> Any:
    """A column's value as a query parameter, the way a port caller passes it: plain Python values,
    a ``QueryParam`` where the Python type would name another type (JSON, BIGNUMERIC, GEOGRAPHY,
    also inside a struct), a dict for a STRUCT.

    EXCLUSION: an ARRAY<STRUCT> parameter keeps only its first element, at every depth.
    google-cloud-bigquery's ``ArrayQueryParameter`` sends the *first* element's struct type as the
    array's type, so ``[{"k": None}, {"k": 5}]`` reaches BigQuery as ARRAY<STRUCT<k STRING>> and
    the 5 comes back as "5"; the fake types each element by its own values. The adapter
    (harness/backends/bigquery.py ``to_query_parameter``) would have to merge the elements' types.
    """
    type_name = _PARAM_TYPES.get(column.type)
    if column.is_record:
        if column.is_repeated:
            element = replace(column, mode=FieldMode.NULLABLE)
            return [port_param(element, item) for item in value[:1]]
        if value is None:
            return None
        return {sub.name: port_param(sub, value[sub.name]) for sub in column.fields}
    if column.is_repeated:
        return QueryParam(f"ARRAY<{type_name}>", value) if type_name is not None else value
    return param_for(column, value)


@scaled(0.5)
@given(spec=table_specs(valid=True), data=st.data())
def test_parameters_of_every_type_agree(pair: Pair, spec: TableSpec, data: st.DataObject) -> None:
    """``SELECT @p0 AS c0, ...`` with one generated value per column of a random schema: every
    type, NULLs, arrays and nested structs as typed by the port (Python type or ``QueryParam``)."""
    row = data.draw(rows(spec), label="row")
    params = {f"p{i}": port_param(column, row[column.name]) for i, column in enumerate(spec.schema)}
    sql = "SELECT " + ", ".join(f"@p{i} AS c{i}" for i in range(len(spec.schema)))
    with pair.fresh() as sides:
        sides.query(sql, params)


# ------------------------------------------------------------------------------ bad rows

#: Values of the wrong type for a top-level column, JSON-serialisable and left as they are by the
#: client's row and parameter encoders, so both paths hand the engine the same bad value.
#: Not here: FLOAT (the client calls ``float()`` on the value and raises ValueError/TypeError
#: itself, before any request), RECORD (the client raises ValueError for a non-dict), JSON (every
#: value is valid JSON) and REPEATED columns (the client iterates a scalar: "ab" becomes ["a", "b"]).
WRONG_VALUES: dict[FieldType, tuple[Any, ...]] = {
    FieldType.STRING: ({"not": "a string"}, [1, 2]),
    FieldType.BYTES: ("not base64!", 5),
    FieldType.INTEGER: ("not-a-number", 1.5, "9223372036854775808", True),
    FieldType.NUMERIC: ("not-a-number", "1.0000000001", "1e38", False),
    FieldType.BIGNUMERIC: ("not-a-number", "1e40"),
    FieldType.BOOLEAN: ("maybe", 2, "yes"),
    FieldType.TIMESTAMP: ("not-a-timestamp", "2025-13-01 00:00:00", True),
    FieldType.DATE: ("not-a-date", "2025-02-30", 20250101),
    FieldType.DATETIME: ("not-a-datetime", "2025-01-01 25:00:00"),
    FieldType.TIME: ("not-a-time", "25:00:00"),
    FieldType.GEOGRAPHY: (42, {"type": "Point"}),
}


@st.composite
def bad_rows(draw: st.DrawFn, spec: TableSpec) -> list[dict[str, Any]]:
    """1..4 rows of which at least one is broken: a REQUIRED column missing or NULL, a value of
    the wrong type, or a column the table does not have (one defect per broken row)."""
    batch = draw(st.lists(rows(spec), min_size=1, max_size=4), label="valid rows")
    broken = draw(st.sets(st.integers(0, len(batch) - 1), min_size=1), label="broken rows")
    required = [f for f in spec.schema if f.mode is FieldMode.REQUIRED]
    mistyped = [f for f in spec.schema if not f.is_repeated and f.type in WRONG_VALUES]
    taken = {f.name.lower() for f in spec.schema}
    unknown = [name for name in ("no_such_field", "Extra", "x_1") if name.lower() not in taken]
    defects = ["unknown column"] * bool(unknown) + ["missing required"] * bool(required)
    defects += ["wrong type"] * bool(mistyped)
    for index in sorted(broken):
        row = dict(batch[index])
        defect = draw(st.sampled_from(defects), label=f"defect of row {index}")
        if defect == "missing required":
            column = draw(st.sampled_from(required))
            if draw(st.booleans()):
                del row[column.name]
            else:
                row[column.name] = None
        elif defect == "wrong type":
            column = draw(st.sampled_from(mistyped))
            row[column.name] = draw(st.sampled_from(WRONG_VALUES[column.type]), label=column.name)
        else:
            name = draw(st.sampled_from(unknown), label="unknown column")
            row[name] = draw(st.sampled_from([1, "v"]))
        batch[index] = row
    return batch


@scaled(0.5)
@given(spec=st.one_of(META_TABLES, table_specs(valid=True)), data=st.data())
def test_bad_rows_are_refused_alike(pair: Pair, spec: TableSpec, data: st.DataObject) -> None:
    """Both insert modes refuse the same rows with the same error, and insert nothing."""
    spec = replace(spec, require_partition_filter=False)
    batch = data.draw(bad_rows(spec), label="rows")
    mode = data.draw(st.sampled_from(InsertMode), label="mode")
    if mode is InsertMode.DML:
        batch = [fill_nested_null_records(spec.schema, row, data) for row in batch]
    with pair.fresh() as sides:
        sides.same(lambda wh: wh.create_table(DATASET, spec))
        result = sides.same(lambda wh: wh.insert_rows(DATASET, spec.table_id, batch, mode=mode), "insert")
        assert result[0] == "error", result
        sides.same(lambda wh: wh.get_table(DATASET, spec.table_id).num_rows, "num_rows")
