"""The real-client ``Warehouse`` adapter (harness/backends/bigquery.py) against the REST emulator.

Every behaviour runs twice, on the in-process ``FakeWarehouse`` and on ``BigQueryWarehouse`` →
google-cloud-bigquery → the REST v2 emulator on a loopback port, with the same assertions (same
status, reason and message), so the fake and the real-client path cannot drift apart.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import google.auth.credentials
import pytest
import requests
import uvicorn
from google.api_core import exceptions as gexc
from real_errors import assert_real_error, port_class
from requests.adapters import HTTPAdapter

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from fakes.bigquery.warehouse import FakeWarehouse
from harness.backends.bigquery import _MAX_PARAMS_PER_INSERT, BigQueryWarehouse
from harness.backends.bigquery_errors import map_google_error
from harness.backends.bigquery_params import to_query_parameter
from harness.clock import ManualClock
from harness.ports import (
    AlreadyExistsError,
    InsertMode,
    InsertRowsError,
    InvalidRequestError,
    NotFoundError,
    QueryParam,
    ResourceInUseError,
    StreamingBufferError,
    TransientError,
    Warehouse,
    WarehouseError,
)
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec, TimePartitioning

P = "test-project"

EVENTS = TableSpec(
    table_id="events",
    schema=(
        FieldSpec("org_slug", FieldType.STRING, FieldMode.REQUIRED, "tenant"),
        FieldSpec("created_at", FieldType.TIMESTAMP, FieldMode.REQUIRED),
        FieldSpec("amount", FieldType.NUMERIC),
        FieldSpec("tags", FieldType.STRING, FieldMode.REPEATED),
        FieldSpec(
            "meta",
            FieldType.RECORD,
            fields=(FieldSpec("k", FieldType.INTEGER), FieldSpec("v", FieldType.STRING)),
        ),
        FieldSpec("payload", FieldType.JSON),
    ),
    time_partitioning=TimePartitioning(field="created_at"),
    clustering_fields=("org_slug",),
)


# ---------------------------------------------------------------------------------- server


class _Swappable:
    """One uvicorn server for the module; each test swaps in an app on a fresh engine."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message is not None:
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
                message = await receive()
            return
        await self.app(scope, receive, send)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, _Swappable]]:
    holder = _Swappable()
    port = _free_port()
    config = uvicorn.Config(holder, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("emulator did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", holder
    uv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def bq_client(server: tuple[str, _Swappable]) -> Any:
    from google.cloud import bigquery

    client = bigquery.Client(
        project=P,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )
    yield client
    client.close()


Factory = Callable[[ManualClock], Warehouse]


@pytest.fixture
def make_fake() -> Iterator[Factory]:
    engines: list[BigQueryEngine] = []

    def make(clock: ManualClock) -> Warehouse:
        engine = BigQueryEngine(clock)
        engines.append(engine)
        return FakeWarehouse(engine, P)

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def make_emulated(server: tuple[str, _Swappable], bq_client: Any) -> Iterator[Factory]:
    engines: list[BigQueryEngine] = []

    def make(clock: ManualClock) -> Warehouse:
        engine = BigQueryEngine(clock)
        engines.append(engine)
        server[1].app = create_app(engine)
        return BigQueryWarehouse(P, client=bq_client)

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture(params=["fake", "emulator"])
def clock_and_wh(
    request: pytest.FixtureRequest, make_fake: Factory, make_emulated: Factory
) -> tuple[ManualClock, Warehouse]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    factory = make_fake if request.param == "fake" else make_emulated
    return clock, factory(clock)


@pytest.fixture
def clock(clock_and_wh: tuple[ManualClock, Warehouse]) -> ManualClock:
    return clock_and_wh[0]


@pytest.fixture
def wh(clock_and_wh: tuple[ManualClock, Warehouse]) -> Warehouse:
    return clock_and_wh[1]


@pytest.fixture
def ds(wh: Warehouse) -> Warehouse:
    wh.create_dataset("ds")
    wh.create_table("ds", EVENTS)
    return wh


def event(slug: str, clock: ManualClock, **extra: object) -> dict[str, object]:
    return {"org_slug": slug, "created_at": clock.now(), **extra}


# ------------------------------------------------------------------------------ behaviours


def test_adapter_satisfies_the_port(bq_client: Any) -> None:
    assert isinstance(BigQueryWarehouse(P, client=bq_client), Warehouse)


def test_dataset_lifecycle_and_duplicate_is_409(wh: Warehouse) -> None:
    info = wh.create_dataset("ds", description="d", labels={"env": "t"})
    assert (info.project, info.dataset_id, info.location, info.description) == (P, "ds", "US", "d")
    assert dict(info.labels) == {"env": "t"} and info.created.tzinfo is not None
    with pytest.raises(AlreadyExistsError) as exc:
        wh.create_dataset("ds")
    assert_real_error(exc.value, bq.DatasetAlreadyExists, f"Already Exists: Dataset {P}:ds")
    assert wh.create_dataset("ds", exists_ok=True).dataset_id == "ds"
    assert [d.dataset_id for d in wh.list_datasets()] == ["ds"]
    assert wh.get_dataset("ds").description == "d"
    wh.delete_dataset("ds")
    wh.delete_dataset("ds", not_found_ok=True)
    with pytest.raises(NotFoundError) as exc:
        wh.get_dataset("ds")
    assert_real_error(exc.value, bq.DatasetNotFound, f"Not found: Dataset {P}:ds")


def test_table_lifecycle_duplicate_and_missing(ds: Warehouse) -> None:
    info = ds.get_table("ds", "events")
    assert info.spec == EVENTS and info.num_rows == 0 and info.full_id == f"{P}.ds.events"
    assert [t.table_id for t in ds.list_tables("ds")] == ["events"]
    with pytest.raises(AlreadyExistsError) as exc:
        ds.create_table("ds", EVENTS)
    assert_real_error(exc.value, bq.TableAlreadyExists, f"Already Exists: Table {P}:ds.events")
    assert ds.create_table("ds", EVENTS, exists_ok=True).spec == EVENTS
    with pytest.raises(NotFoundError) as exc:
        ds.get_table("ds", "nope")
    assert_real_error(exc.value, bq.TableNotFound, f"Not found: Table {P}:ds.nope")
    with pytest.raises(NotFoundError) as exc:
        ds.insert_rows("ds", "nope", [{"a": 1}])
    assert_real_error(exc.value, bq.TableNotFound, f"Not found: Table {P}:ds.nope")
    ds.delete_table("ds", "events")
    ds.delete_table("ds", "events", not_found_ok=True)
    with pytest.raises(NotFoundError):
        ds.delete_table("ds", "events")


def test_delete_dataset_in_use_then_with_contents(ds: Warehouse) -> None:
    with pytest.raises(ResourceInUseError) as exc:
        ds.delete_dataset("ds")
    assert_real_error(exc.value, bq.DatasetInUse, f"Dataset {P}:ds is still in use")
    ds.delete_dataset("ds", delete_contents=True)
    with pytest.raises(NotFoundError):
        ds.get_table("ds", "events")


def test_partition_field_missing_is_400_and_creates_nothing(ds: Warehouse) -> None:
    spec = TableSpec(
        "bad", (FieldSpec("a", FieldType.STRING),), time_partitioning=TimePartitioning(field="effective_date")
    )
    with pytest.raises(InvalidRequestError) as exc:
        ds.create_table("ds", spec)
    assert_real_error(
        exc.value,
        bq.PartitionFieldNotFound,
        "The field specified for partitioning cannot be found in the schema.",
    )
    with pytest.raises(NotFoundError):
        ds.get_table("ds", "bad")


@pytest.mark.parametrize("mode", [InsertMode.DML, InsertMode.STREAMING])
def test_rows_round_trip_as_plain_python_values(ds: Warehouse, clock: ManualClock, mode: InsertMode) -> None:
    full = event(
        "acme",
        clock,
        amount=Decimal("12.5"),
        tags=["a", "b"],
        meta={"k": 1, "v": "x"},
        payload={"n": [1], "s": "t"},
    )
    sparse = {"org_slug": "zed", "created_at": clock.now() + timedelta(microseconds=123456)}
    assert ds.insert_rows("ds", "events", [full, sparse], mode=mode) == 2
    got = ds.query("SELECT * FROM ds.events ORDER BY org_slug").rows
    assert got[0] == full
    assert got[0]["created_at"].tzinfo is UTC
    assert got[1] == {**sparse, "amount": None, "tags": [], "meta": None, "payload": None}
    assert ds.get_table("ds", "events").num_rows == 2


def test_streaming_insert_reports_per_row_errors_and_inserts_nothing(
    ds: Warehouse, clock: ManualClock
) -> None:
    rows = [event("ok", clock), {"org_slug": "x"}, event("y", clock, nope=1)]
    with pytest.raises(InsertRowsError) as exc:
        ds.insert_rows("ds", "events", rows, mode=InsertMode.STREAMING)
    errors = {e.index: (e.reason, e.location, e.message) for e in exc.value.row_errors}
    assert errors[1][:2] == ("invalid", "created_at")  # bq.MissingRequiredField: text unconfirmed
    assert errors[2] == ("invalid", "nope", "no such field: nope.")  # bq.NoSuchField: confirmed
    assert 0 not in errors
    assert ds.get_table("ds", "events").num_rows == 0


def test_dml_insert_refuses_missing_required_and_unknown_fields_per_row(
    ds: Warehouse, clock: ManualClock
) -> None:
    with pytest.raises(InsertRowsError) as exc:
        ds.insert_rows("ds", "events", [event("ok", clock), {"org_slug": "x"}, event("y", clock, nope=1)])
    errors = {e.index: (e.reason, e.location, e.message) for e in exc.value.row_errors}
    assert sorted(errors) == [1, 2]
    assert errors[1][:2] == ("invalid", "created_at")  # bq.MissingRequiredField: text unconfirmed
    assert errors[2] == ("invalid", "nope", "no such field: nope.")  # bq.NoSuchField: confirmed
    assert ds.get_table("ds", "events").num_rows == 0


def test_dml_insert_of_a_bad_value_fails_the_statement_on_both(ds: Warehouse, clock: ManualClock) -> None:
    """A value of the wrong type fails the INSERT statement itself (400 invalidQuery), as BigQuery
    does for DML, not row by row as streaming does; nothing is inserted."""
    with pytest.raises(InvalidRequestError) as exc:
        ds.insert_rows("ds", "events", [event("z", clock, amount="abc")])
    assert not isinstance(exc.value, InsertRowsError)
    assert_real_error(exc.value, bq.InvalidParameterValue)
    assert ds.get_table("ds", "events").num_rows == 0


def test_query_parameters_typed_like_the_google_client(ds: Warehouse, clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event("a", clock, amount=Decimal("1.25")), event("b", clock)])
    result = ds.query(
        "SELECT org_slug FROM ds.events WHERE org_slug IN UNNEST(@slugs) AND created_at >= @since ORDER BY 1",
        {"slugs": ["a", "b"], "since": QueryParam("TIMESTAMP", "2024-12-31 00:00:00")},
    )
    assert [r["org_slug"] for r in result] == ["a", "b"]
    total = ds.query("SELECT SUM(amount) AS s FROM ds.events WHERE org_slug = @s", {"s": "a"}).scalar()
    assert total == Decimal("1.25")
    row = ds.query(
        "SELECT @i AS i, @f AS f, @b AS b, @d AS d, @ts AS ts, @n AS n",
        {"i": 3, "f": 1.5, "b": True, "d": Decimal("2.50"), "ts": clock.now(), "n": "x"},
    ).rows[0]
    assert row == {"i": 3, "f": 1.5, "b": True, "d": Decimal("2.5"), "ts": clock.now(), "n": "x"}


def test_parameter_types_follow_the_python_values() -> None:
    from datetime import date, time

    def type_of(value: Any) -> str:
        return to_query_parameter("p", value).to_api_repr()["parameterType"]["type"]

    assert type_of("s") == "STRING" and type_of(True) == "BOOL" and type_of(1) == "INT64"
    assert type_of(1.0) == "FLOAT64" and type_of(Decimal(1)) == "NUMERIC" and type_of(b"x") == "BYTES"
    assert type_of(datetime(2025, 1, 1, tzinfo=UTC)) == "TIMESTAMP"
    assert type_of(datetime(2025, 1, 1)) == "DATETIME"
    assert type_of(date(2025, 1, 1)) == "DATE" and type_of(time(1, 2)) == "TIME"
    assert type_of([1, 2]) == "ARRAY" and type_of({"a": 1}) == "STRUCT"
    assert type_of(QueryParam("JSON", {"a": 1})) == "JSON"
    array = to_query_parameter("p", QueryParam("ARRAY<INT64>", [1])).to_api_repr()
    assert array["parameterType"]["arrayType"]["type"] == "INT64"


def test_missing_parameter_and_bad_sql_are_invalid_query(ds: Warehouse) -> None:
    for sql, error in [
        ("SELECT * FROM ds.events WHERE org_slug = @slug", bq.QueryParameterNotFound),
        ("SELEC 1", bq.QuerySyntaxError),
        ("SELECT nope FROM ds.events", bq.UnrecognizedName),
    ]:
        with pytest.raises(InvalidRequestError) as exc:
            ds.query(sql)
        assert_real_error(exc.value, error)


def test_dml_affected_rows_and_statement_types(ds: Warehouse, clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event(s, clock) for s in "abc"])
    update = ds.query("UPDATE ds.events SET amount = 1 WHERE org_slug IN ('a', 'b')")
    assert (update.statement_type, update.affected_rows) == ("UPDATE", 2)
    assert ds.execute("DELETE FROM ds.events WHERE org_slug = @s", {"s": "c"}) == 1
    assert ds.query("SELECT COUNT(*) AS n FROM ds.events").scalar() == 2
    assert ds.query("SELECT * FROM ds.events").total_bytes_processed > 0


def test_streaming_buffer_refuses_update_until_the_clock_moves(ds: Warehouse, clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event("streamed", clock)], mode=InsertMode.STREAMING)
    ds.insert_rows("ds", "events", [event("dml", clock)])
    message = (
        f"UPDATE or DELETE statement over table {P}.ds.events would affect rows in the streaming buffer, "
        "which is not supported"
    )
    with pytest.raises(StreamingBufferError) as exc:
        ds.execute("UPDATE ds.events SET amount = 1 WHERE org_slug = 'streamed'")
    assert_real_error(exc.value, bq.StreamingBufferRefusal, message)
    assert ds.get_table("ds", "events").streaming_buffer is not None
    assert ds.execute("UPDATE ds.events SET amount = 3 WHERE org_slug = 'dml'") == 1
    clock.advance(timedelta(minutes=30))
    assert ds.get_table("ds", "events").streaming_buffer is None
    assert ds.execute("UPDATE ds.events SET amount = 2 WHERE TRUE") == 2


def test_patch_table_adds_a_nullable_column(ds: Warehouse, clock: ManualClock) -> None:
    ds.insert_rows("ds", "events", [event("a", clock)])
    grown = [*EVENTS.schema, FieldSpec("note", FieldType.STRING)]
    info = ds.patch_table("ds", "events", schema=grown, description="patched", labels={"x": "y"})
    assert info.spec.column_names[-1] == "note" and info.spec.description == "patched"
    assert dict(info.spec.labels) == {"x": "y"}
    assert ds.query("SELECT note FROM ds.events").rows == [{"note": None}]
    with pytest.raises(InvalidRequestError) as exc:
        ds.patch_table(
            "ds", "events", schema=[*grown, FieldSpec("req", FieldType.STRING, FieldMode.REQUIRED)]
        )
    assert_real_error(
        exc.value,
        bq.RequiredFieldAdded,
        f"Provided Schema does not match Table {P}:ds.events. Cannot add required fields to an existing "
        "schema. (field: req)",
    )


# ------------------------------------------------------------- the schema a DML insert types by

PEOPLE = TableSpec(
    "people", (FieldSpec("id", FieldType.INTEGER, FieldMode.REQUIRED), FieldSpec("name", FieldType.STRING))
)


class _Logged(HTTPAdapter):
    """Every request the client sends, as "METHOD /path" (no query string)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append(f"{request.method} {(request.path_url or '').split('?')[0]}")
        return super().send(request, *args, **kwargs)


@pytest.fixture
def two_processes(
    server: tuple[str, _Swappable], make_emulated: Factory
) -> tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged]:
    """Two adapters on one emulator, as two processes on one project would be: the first logs
    its requests and has seen ``people`` (it created it); the second changes it behind its back."""
    other = make_emulated(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    assert isinstance(other, BigQueryWarehouse)
    log = _Logged()
    credentials = google.auth.credentials.AnonymousCredentials()
    first = BigQueryWarehouse(P, credentials=credentials, endpoint=server[0], adapter=log)
    first.create_dataset("ds")
    first.create_table("ds", PEOPLE)
    log.sent.clear()
    return first, other, log


def _names(wh: Warehouse) -> list[Any]:
    return [row["name"] for row in wh.query("SELECT name FROM ds.people ORDER BY id").rows]


def test_dml_insert_types_by_the_schema_last_seen_without_reading_the_table(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    """A table the adapter has seen (created, read, patched) is not read again before each
    insert: the insert is its one request, the INSERT job."""
    first, _, log = two_processes
    assert first.insert_rows("ds", "people", [{"id": 1, "name": "a"}]) == 1
    assert first.insert_rows("ds", "people", [{"id": 2}]) == 1
    assert log.sent == [f"POST /bigquery/v2/projects/{P}/queries"] * 2


def test_dml_insert_reads_a_table_it_has_not_seen(
    server: tuple[str, _Swappable], two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged]
) -> None:
    _, other, _ = two_processes
    log = _Logged()
    credentials = google.auth.credentials.AnonymousCredentials()
    third = BigQueryWarehouse(P, credentials=credentials, endpoint=server[0], adapter=log)
    assert third.insert_rows("ds", "people", [{"id": 1, "name": "a"}]) == 1
    assert log.sent == [
        f"GET /bigquery/v2/projects/{P}/datasets/ds/tables/people",
        f"POST /bigquery/v2/projects/{P}/queries",
    ]
    other.delete_dataset("ds", delete_contents=True)
    with pytest.raises(NotFoundError) as exc:
        third.insert_rows("ds", "people", [{"id": 2}])
    assert_real_error(exc.value, bq.TableNotFound)


def test_dml_insert_follows_a_column_another_process_added(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    first, other, log = two_processes
    other.patch_table("ds", "people", schema=[*PEOPLE.schema, FieldSpec("note", FieldType.STRING)])
    assert first.insert_rows("ds", "people", [{"id": 1, "name": "a", "note": "n"}]) == 1
    assert first.query("SELECT note FROM ds.people").rows == [{"note": "n"}]
    table = f"GET /bigquery/v2/projects/{P}/datasets/ds/tables/people"
    assert log.sent[:2] == [table, f"POST /bigquery/v2/projects/{P}/queries"]  # no refusal, no guess


def test_dml_insert_follows_a_required_column_another_process_relaxed(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    first, other, _ = two_processes
    other.patch_table(
        "ds", "people", schema=[FieldSpec("id", FieldType.INTEGER), FieldSpec("name", FieldType.STRING)]
    )
    assert first.insert_rows("ds", "people", [{"name": "no id"}]) == 1
    assert _names(first) == ["no id"]


def test_dml_insert_follows_a_table_another_process_recreated_with_other_types(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    """The INSERT typed by the old schema fails (a NUMERIC parameter that is not a number); the
    table read again has another schema, so the insert is made again on it, and succeeds."""
    first, other, _ = two_processes
    other.delete_table("ds", "people")
    other.create_table("ds", TableSpec("people", (FieldSpec("id", FieldType.STRING), *PEOPLE.schema[1:])))
    assert first.insert_rows("ds", "people", [{"id": "x-1", "name": "a"}]) == 1
    assert first.query("SELECT id FROM ds.people").rows == [{"id": "x-1"}]


def test_dml_insert_into_a_table_another_process_dropped_reports_it_as_tables_get_does(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    first, other, _ = two_processes
    other.delete_table("ds", "people")
    with pytest.raises(NotFoundError) as exc:
        first.insert_rows("ds", "people", [{"id": 1}])
    with pytest.raises(NotFoundError) as read:
        first.get_table("ds", "people")
    assert (exc.value.status, exc.value.reason, exc.value.message) == (
        read.value.status,
        read.value.reason,
        read.value.message,
    )


def test_dml_insert_refusal_on_an_unchanged_table_is_final(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    """A bad value fails the INSERT; the table, read again, has the schema the insert used, so
    the statement's own error is reported, and the INSERT is not sent twice."""
    first, _, log = two_processes
    with pytest.raises(InvalidRequestError) as exc:
        first.insert_rows("ds", "people", [{"id": "not a number"}])
    assert not isinstance(exc.value, InsertRowsError)
    assert log.sent == [
        f"POST /bigquery/v2/projects/{P}/queries",
        f"GET /bigquery/v2/projects/{P}/datasets/ds/tables/people",
    ]
    assert _names(first) == []


def test_dml_insert_of_more_rows_than_one_statement_carries_reads_the_table_first(
    two_processes: tuple[BigQueryWarehouse, BigQueryWarehouse, _Logged],
) -> None:
    """Rows that may need more than one INSERT are typed by the table as read now: were a later
    INSERT refused, making them all again on a new schema would write the earlier ones twice."""
    first, _, log = two_processes
    rows = [{"id": i, "name": "n"} for i in range(_MAX_PARAMS_PER_INSERT // len(PEOPLE.schema) + 1)]
    assert first.insert_rows("ds", "people", rows) == len(rows)
    assert log.sent[0] == f"GET /bigquery/v2/projects/{P}/datasets/ds/tables/people"
    assert set(log.sent[1:]) == {f"POST /bigquery/v2/projects/{P}/queries"}


# ------------------------------------------------------------------------------ differential


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        value = call()
    except WarehouseError as exc:
        return ("error", port_class(exc).__name__, exc.status, exc.reason, exc.message)
    if hasattr(value, "rows"):
        return ("rows", value.rows, value.schema, value.statement_type, value.affected_rows)
    if hasattr(value, "spec"):
        return ("table", value.spec, value.num_rows)
    if hasattr(value, "dataset_id"):
        return ("dataset", value.dataset_id, value.location, value.description, dict(value.labels))
    return ("value", value)


def _script(wh: Warehouse, clock: ManualClock) -> list[Callable[[], Any]]:
    t0 = clock.now()
    return [
        lambda: wh.create_dataset("d1", description="x"),
        lambda: wh.create_dataset("d1"),
        lambda: wh.get_dataset("nope"),
        lambda: wh.create_table("d1", EVENTS),
        lambda: wh.create_table("d1", EVENTS),
        lambda: wh.get_table("d1", "nope"),
        lambda: wh.create_table(
            "d1",
            TableSpec(
                "p", (FieldSpec("a", FieldType.STRING),), time_partitioning=TimePartitioning(field="z")
            ),
        ),
        lambda: wh.insert_rows(
            "d1",
            "events",
            [
                {
                    "org_slug": "a",
                    "created_at": t0,
                    "amount": Decimal("1.10"),
                    "tags": ["x"],
                    "meta": {"k": 2, "v": None},
                }
            ],
        ),
        lambda: wh.insert_rows(
            "d1",
            "events",
            [{"org_slug": "s", "created_at": t0, "payload": [1, {"a": None}]}],
            mode=InsertMode.STREAMING,
        ),
        lambda: wh.query("SELECT * FROM d1.events ORDER BY org_slug"),
        lambda: wh.query(
            "SELECT org_slug, amount * 2 AS twice FROM d1.events WHERE org_slug = @s", {"s": "a"}
        ),
        lambda: wh.query("SELECT @x AS x, @y AS y", {"x": [1, 2], "y": {"a": "b", "n": 1}}),
        lambda: wh.query("DELETE FROM d1.events WHERE org_slug = 's'"),
        lambda: wh.query("UPDATE d1.events SET amount = 5 WHERE org_slug = 'a'"),
        lambda: wh.query("SELECT nope FROM d1.events"),
        lambda: wh.delete_dataset("d1"),
        lambda: wh.get_table("d1", "events"),
        lambda: wh.patch_table("d1", "events", schema=[*EVENTS.schema, FieldSpec("n", FieldType.INTEGER)]),
        lambda: wh.delete_table("d1", "events"),
        lambda: wh.delete_dataset("d1"),
        wh.list_datasets,
    ]


def test_fake_and_real_client_adapter_agree(make_fake: Factory, make_emulated: Factory) -> None:
    outcomes = []
    for factory in (make_fake, make_emulated):
        clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
        wh = factory(clock)
        outcomes.append([_outcome(step) for step in _script(wh, clock)])
    fake, emulated = outcomes
    for index, (a, b) in enumerate(zip(fake, emulated, strict=True)):
        assert a == b, f"step {index}: fake {a!r} != emulator {b!r}"


# ------------------------------------------------------------------------------ error mapping


@pytest.mark.parametrize(
    ("exc", "expected", "status", "reason"),
    [
        (gexc.NotFound("x", errors=[{"reason": "notFound", "message": "m"}]), NotFoundError, 404, "notFound"),
        (
            gexc.Conflict("x", errors=[{"reason": "duplicate", "message": "m"}]),
            AlreadyExistsError,
            409,
            "duplicate",
        ),
        (
            gexc.BadRequest("x", errors=[{"reason": "resourceInUse", "message": "m"}]),
            ResourceInUseError,
            400,
            "resourceInUse",
        ),
        (
            gexc.BadRequest("x", errors=[{"reason": "invalidQuery", "message": "m"}]),
            InvalidRequestError,
            400,
            "invalidQuery",
        ),
        (
            gexc.Forbidden("x", errors=[{"reason": "rateLimitExceeded", "message": "m"}]),
            TransientError,
            403,
            "rateLimitExceeded",
        ),
        (
            gexc.Forbidden("x", errors=[{"reason": "quotaExceeded", "message": "m"}]),
            TransientError,
            403,
            "quotaExceeded",
        ),
        (
            gexc.ServiceUnavailable("x", errors=[{"reason": "backendError", "message": "m"}]),
            TransientError,
            503,
            "backendError",
        ),
        (gexc.InternalServerError("x"), TransientError, 500, "backendError"),
    ],
)
def test_google_errors_map_onto_the_port(exc: Any, expected: type, status: int, reason: str) -> None:
    mapped = map_google_error(exc)
    assert type(mapped) is expected
    assert (mapped.status, mapped.reason) == (status, reason)
    assert mapped.retryable is (expected is TransientError)


def test_streaming_buffer_message_maps_to_streaming_buffer_error() -> None:
    message = (
        "UPDATE or DELETE statement over table p.d.t would affect rows in the streaming buffer, "
        "which is not supported"
    )
    mapped = map_google_error(gexc.BadRequest("x", errors=[{"reason": "invalidQuery", "message": message}]))
    assert isinstance(mapped, StreamingBufferError)
    assert (mapped.status, mapped.reason, mapped.message) == (400, "invalidQuery", message)
