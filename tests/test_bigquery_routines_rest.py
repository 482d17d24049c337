"""Routines, IAM policies and INFORMATION_SCHEMA through the real google-cloud-bigquery client, as
its documentation and samples use them, against the REST emulator."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import google.auth.credentials
import pytest
import uvicorn
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from real_errors import assert_wire_error
from test_bigquery_rest import DISCOVERY, validate

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "test-project"
INT64 = bigquery.StandardSqlDataType(type_kind=bigquery.StandardSqlTypeNames.INT64)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    port = _free_port()
    config = uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            raise RuntimeError("emulator did not start")
        time.sleep(0.01)
    yield bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": f"http://127.0.0.1:{port}"},
    )
    server.should_exit = True
    thread.join(timeout=5)
    engine.close()


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> str:
    name = f"ds_{request.node.name}"
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def _scalar(client: bigquery.Client, dataset: str, routine_id: str = "multiply_by_three") -> bigquery.Routine:
    """The client's create_routine sample."""
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.{routine_id}",
        type_="SCALAR_FUNCTION",
        language="SQL",
        body="x * 3",
        arguments=[bigquery.RoutineArgument(name="x", data_type=INT64)],
    )
    return client.create_routine(routine)


# ---------------------------------------------------------------------------------- routines


def test_create_get_and_call_a_scalar_function(client: bigquery.Client, dataset: str) -> None:
    created = _scalar(client, dataset)
    assert created.reference.routine_id == "multiply_by_three"
    assert created.created is not None and created.etag

    got = client.get_routine(f"{PROJECT}.{dataset}.multiply_by_three")
    assert got.type_ == "SCALAR_FUNCTION"
    assert got.language == "SQL"
    assert got.body == "x * 3"
    assert [a.name for a in got.arguments] == ["x"]
    assert got.arguments[0].data_type.type_kind == bigquery.StandardSqlTypeNames.INT64

    rows = list(client.query(f"SELECT {dataset}.multiply_by_three(5) AS v").result())
    assert rows[0]["v"] == 15


def test_return_type_and_struct_arguments_round_trip(client: bigquery.Client, dataset: str) -> None:
    point = bigquery.StandardSqlDataType(
        type_kind=bigquery.StandardSqlTypeNames.STRUCT,
        struct_type=bigquery.StandardSqlStructType(
            fields=[bigquery.StandardSqlField("x", INT64), bigquery.StandardSqlField("y", INT64)]
        ),
    )
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.norm1",
        type_="SCALAR_FUNCTION",
        body="ABS(p.x) + ABS(p.y)",
        arguments=[bigquery.RoutineArgument(name="p", data_type=point)],
        return_type=INT64,
        description="Manhattan norm",
    )
    client.create_routine(routine)
    got = client.get_routine(f"{PROJECT}.{dataset}.norm1")
    assert got.return_type.type_kind == bigquery.StandardSqlTypeNames.INT64
    fields = got.arguments[0].data_type.struct_type.fields
    assert [(f.name, f.type.type_kind) for f in fields] == [("x", "INT64"), ("y", "INT64")]
    assert got.description == "Manhattan norm"
    rows = list(client.query(f"SELECT {dataset}.norm1(STRUCT(-2 AS x, 3 AS y)) AS v").result())
    assert rows[0]["v"] == 5


def test_update_routine_replaces_the_body(client: bigquery.Client, dataset: str) -> None:
    routine = _scalar(client, dataset)
    routine.body = "x * 4"
    updated = client.update_routine(routine, ["body", "arguments", "language", "type_", "return_type"])
    assert updated.body == "x * 4"
    assert updated.created == routine.created
    rows = list(client.query(f"SELECT {dataset}.multiply_by_three(5) AS v").result())
    assert rows[0]["v"] == 20


def test_update_with_a_stale_etag_fails(client: bigquery.Client, dataset: str) -> None:
    stale = _scalar(client, dataset)
    fresh = client.get_routine(stale.reference)
    fresh.body = "x * 5"
    client.update_routine(fresh, ["body", "arguments", "language", "type_"])
    stale.body = "x * 6"
    with pytest.raises(gexc.PreconditionFailed) as caught:
        client.update_routine(stale, ["body", "arguments", "language", "type_"])
    assert_wire_error(caught.value.errors[0], bq.PreconditionFailed, "Precondition check failed.")
    assert client.get_routine(stale.reference).body == "x * 5"


def test_list_shows_rest_and_ddl_routines(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    client.query(f"CREATE FUNCTION {dataset}.add_one(x INT64) AS (x + 1)").result()
    client.query(f"CREATE PROCEDURE {dataset}.noop() BEGIN SELECT 1; END").result()
    listed = {r.reference.routine_id: r.type_ for r in client.list_routines(dataset)}
    assert listed == {
        "add_one": "SCALAR_FUNCTION",
        "multiply_by_three": "SCALAR_FUNCTION",
        "noop": "PROCEDURE",
    }
    ddl = client.get_routine(f"{PROJECT}.{dataset}.add_one")
    assert ddl.body == "x + 1"
    pages = client.list_routines(dataset, page_size=1)
    assert [r.reference.routine_id for r in pages] == ["add_one", "multiply_by_three", "noop"]


def test_ddl_options_description(client: bigquery.Client, dataset: str) -> None:
    client.query(
        f"CREATE FUNCTION {dataset}.half(x FLOAT64) RETURNS FLOAT64 AS (x / 2) "
        'OPTIONS (description = "Half of x")'
    ).result()
    client.query(
        f"CREATE PROCEDURE {dataset}.p() OPTIONS (description = 'Does nothing') BEGIN SELECT 1; END"
    ).result()
    half = client.get_routine(f"{PROJECT}.{dataset}.half")
    assert (half.description, half.body, half.return_type.type_kind) == ("Half of x", "x / 2", "FLOAT64")
    assert client.get_routine(f"{PROJECT}.{dataset}.p").description == "Does nothing"
    rows = list(client.query(f"SELECT {dataset}.half(3) AS v").result())
    assert rows[0]["v"] == 1.5


def test_delete_routine_then_not_found(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    client.delete_routine(f"{PROJECT}.{dataset}.multiply_by_three")
    with pytest.raises(gexc.NotFound) as caught:
        client.get_routine(f"{PROJECT}.{dataset}.multiply_by_three")
    assert_wire_error(caught.value.errors[0], bq.RoutineNotFound)
    client.delete_routine(f"{PROJECT}.{dataset}.multiply_by_three", not_found_ok=True)


def test_create_twice_is_a_conflict(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    with pytest.raises(gexc.Conflict) as caught:
        _scalar(client, dataset)
    assert_wire_error(caught.value.errors[0], bq.RoutineAlreadyExists)


def test_javascript_routine_is_refused_by_name(client: bigquery.Client, dataset: str) -> None:
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.js",
        type_="SCALAR_FUNCTION",
        language="JAVASCRIPT",
        body="return x;",
        arguments=[bigquery.RoutineArgument(name="x", data_type=INT64)],
        return_type=INT64,
    )
    with pytest.raises(gexc.BadRequest, match="JAVASCRIPT"):
        client.create_routine(routine)


def test_table_valued_function(client: bigquery.Client, dataset: str) -> None:
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.upto",
        type_="TABLE_VALUED_FUNCTION",
        body="SELECT v FROM UNNEST(GENERATE_ARRAY(1, n)) AS v",
        arguments=[bigquery.RoutineArgument(name="n", data_type=INT64)],
        return_table_type=bigquery.StandardSqlTableType(columns=[bigquery.StandardSqlField("v", INT64)]),
    )
    client.create_routine(routine)
    got = client.get_routine(f"{PROJECT}.{dataset}.upto")
    assert got.type_ == "TABLE_VALUED_FUNCTION"
    assert [c.name for c in got.return_table_type.columns] == ["v"]
    rows = list(client.query(f"SELECT SUM(v) AS s FROM {dataset}.upto(4)").result())
    assert rows[0]["s"] == 10


def test_aggregate_function(client: bigquery.Client, dataset: str) -> None:
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.sum_sq",
        type_="AGGREGATE_FUNCTION",
        body="SUM(x * x)",
        arguments=[bigquery.RoutineArgument(name="x", data_type=INT64)],
    )
    client.create_routine(routine)
    assert client.get_routine(f"{PROJECT}.{dataset}.sum_sq").type_ == "AGGREGATE_FUNCTION"
    rows = list(client.query(f"SELECT {dataset}.sum_sq(v) AS s FROM UNNEST([1, 2, 3]) AS v").result())
    assert rows[0]["s"] == 14


def test_procedure_over_rest_and_call(client: bigquery.Client, dataset: str) -> None:
    routine = bigquery.Routine(
        f"{PROJECT}.{dataset}.double_it",
        type_="PROCEDURE",
        body="BEGIN\n  SELECT n * 2 AS doubled;\nEND",
        arguments=[bigquery.RoutineArgument(name="n", data_type=INT64, mode="IN")],
    )
    client.create_routine(routine)
    assert client.get_routine(f"{PROJECT}.{dataset}.double_it").type_ == "PROCEDURE"
    rows = list(client.query(f"CALL {dataset}.double_it(21)").result())
    assert rows[0]["doubled"] == 42


def test_ddl_procedure_writes_a_table(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE TABLE {dataset}.log (n INT64)").result()
    client.query(
        f"CREATE OR REPLACE PROCEDURE {dataset}.record(n INT64)\n"
        f"BEGIN\n  INSERT INTO {dataset}.log (n) VALUES (n);\nEND"
    ).result()
    client.query(f"CALL {dataset}.record(7)").result()
    client.query(f"CALL {dataset}.record(8)").result()
    rows = list(client.query(f"SELECT n FROM {dataset}.log ORDER BY n").result())
    assert [r["n"] for r in rows] == [7, 8]


def test_call_of_a_missing_procedure(client: bigquery.Client, dataset: str) -> None:
    with pytest.raises(gexc.NotFound) as caught:
        client.query(f"CALL {dataset}.missing()").result()
    assert_wire_error(caught.value.errors[0], bq.ProcedureNotFound)
    assert f"Procedure is not found: {PROJECT}.{dataset}.missing at [1:6]" in str(caught.value)


def test_call_with_script_variables(client: bigquery.Client, dataset: str) -> None:
    client.query(
        f"CREATE PROCEDURE {dataset}.greet(who STRING, times INT64) "
        "BEGIN SELECT REPEAT(who, times) AS greeting; END"
    ).result()
    script = (
        f"DECLARE name STRING DEFAULT 'ab';\nDECLARE n INT64 DEFAULT 1;\nCALL {dataset}.greet(name, n + 1);"
    )
    rows = list(client.query(script).result())
    assert rows[0]["greeting"] == "abab"


def test_procedure_created_and_called_in_one_script(client: bigquery.Client, dataset: str) -> None:
    script = (
        f"CREATE OR REPLACE PROCEDURE {dataset}.evens(n INT64)\n"
        "BEGIN\n"
        "  DECLARE i INT64 DEFAULT 0;\n"
        "  DECLARE found ARRAY<INT64> DEFAULT [];\n"
        "  WHILE i < n DO\n"
        "    IF MOD(i, 2) = 0 THEN SET found = ARRAY_CONCAT(found, [i]); END IF;\n"
        "    SET i = i + 1;\n"
        "  END WHILE;\n"
        "  SELECT found AS evens;\n"
        "END;\n"
        f"CALL {dataset}.evens(7);"
    )
    rows = list(client.query(script).result())
    assert rows[0]["evens"] == [0, 2, 4, 6]


def test_call_with_query_parameters(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE PROCEDURE {dataset}.twice(n INT64) BEGIN SELECT n * 2 AS v; END").result()
    config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("n", "INT64", 8)])
    rows = list(client.query(f"CALL {dataset}.twice(@n)", job_config=config).result())
    assert rows[0]["v"] == 16


def test_a_routine_keeps_its_kind(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE PROCEDURE {dataset}.r() BEGIN SELECT 1; END").result()
    with pytest.raises(gexc.BadRequest) as caught:
        client.query(f"CREATE OR REPLACE FUNCTION {dataset}.r(x INT64) AS (x)").result()
    assert_wire_error(
        caught.value.errors[0],
        bq.RoutineTypeChanged,
        "Cannot replace routine of type PROCEDURE with a different type SCALAR FUNCTION",
    )
    routine = client.get_routine(f"{PROJECT}.{dataset}.r")
    routine.type_ = "SCALAR_FUNCTION"
    routine.body = "1"
    with pytest.raises(gexc.BadRequest):
        client.update_routine(routine, ["type_", "body", "language", "arguments"])
    assert client.get_routine(f"{PROJECT}.{dataset}.r").type_ == "PROCEDURE"


def test_list_filter_by_routine_type(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    client.query(f"CREATE PROCEDURE {dataset}.noop() BEGIN SELECT 1; END").result()
    path = f"/projects/{PROJECT}/datasets/{dataset}/routines"
    listed = client._connection.api_request(
        method="GET", path=path, query_params={"filter": "routineType:PROCEDURE"}
    )
    assert [r["routineReference"]["routineId"] for r in listed["routines"]] == ["noop"]


def test_drop_function(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    client.query(f"DROP FUNCTION {dataset}.multiply_by_three").result()
    assert list(client.list_routines(dataset)) == []
    client.query(f"DROP FUNCTION IF EXISTS {dataset}.multiply_by_three").result()


def _check_shape(discovery: dict[str, Any], name: str, body: dict[str, Any]) -> None:
    """``body`` is a valid ``name`` of the discovery document, with no field it does not define."""
    validate(discovery, name, body)
    properties = discovery["schemas"][name]["properties"]
    assert set(body) <= set(properties), set(body) - set(properties)


def test_responses_match_the_discovery_document(client: bigquery.Client, dataset: str) -> None:
    discovery = json.loads(DISCOVERY.read_text())
    _scalar(client, dataset)
    client.query(f"CREATE TABLE {dataset}.t (a INT64)").result()
    call = client._connection.api_request
    base = f"/projects/{PROJECT}/datasets/{dataset}"
    routine = call(method="GET", path=f"{base}/routines/multiply_by_three")
    _check_shape(discovery, "Routine", routine)
    for argument in routine["arguments"]:
        _check_shape(discovery, "Argument", argument)
    _check_shape(discovery, "ListRoutinesResponse", call(method="GET", path=f"{base}/routines"))
    policy = call(method="POST", path=f"{base}/tables/t:getIamPolicy", data={})
    _check_shape(discovery, "Policy", policy)
    body = {
        "policy": {"bindings": [{"role": "roles/bigquery.dataViewer", "members": ["user:a@example.com"]}]}
    }
    _check_shape(discovery, "Policy", call(method="POST", path=f"{base}/tables/t:setIamPolicy", data=body))
    granted = call(method="POST", path=f"{base}/tables/t:testIamPermissions", data={"permissions": ["x.y"]})
    _check_shape(discovery, "TestIamPermissionsResponse", granted)


# ------------------------------------------------------------------------------ IAM policies


def test_table_iam_policy_is_stored_and_returned(client: bigquery.Client, dataset: str) -> None:
    table = client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[bigquery.SchemaField("a", "INT64")])
    )
    policy = client.get_iam_policy(table)
    assert policy.version == 1 and policy.etag and not policy.bindings

    policy.bindings = [{"role": "roles/bigquery.dataViewer", "members": {"user:ana@example.com"}}]
    updated = client.set_iam_policy(table, policy)
    assert updated.etag != policy.etag
    assert updated.bindings[0]["role"] == "roles/bigquery.dataViewer"
    assert set(updated.bindings[0]["members"]) == {"user:ana@example.com"}

    again = client.get_iam_policy(table)
    assert again.etag == updated.etag
    assert again.bindings == updated.bindings

    with pytest.raises(gexc.Conflict) as caught:
        client.set_iam_policy(table, policy)  # its etag is the one before the update
    assert_wire_error(caught.value.errors[0], bq.PolicyEtagMismatch)

    granted = client.test_iam_permissions(table, ["bigquery.tables.get", "bigquery.tables.getData"])
    assert granted["permissions"] == ["bigquery.tables.get", "bigquery.tables.getData"]


def test_iam_policy_of_a_missing_table(client: bigquery.Client, dataset: str) -> None:
    with pytest.raises(gexc.NotFound) as caught:
        client.get_iam_policy(f"{PROJECT}.{dataset}.missing")
    assert_wire_error(caught.value.errors[0], bq.TableNotFound)


def test_routine_iam_policy(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    path = f"/projects/{PROJECT}/datasets/{dataset}/routines/multiply_by_three"
    policy = client._connection.api_request(method="POST", path=f"{path}:getIamPolicy", data={})
    assert policy["version"] == 1
    body = {"policy": {"bindings": [{"role": "roles/bigquery.user", "members": ["group:g@example.com"]}]}}
    stored = client._connection.api_request(method="POST", path=f"{path}:setIamPolicy", data=body)
    assert stored["bindings"] == body["policy"]["bindings"]


# ------------------------------------------------------------------------- INFORMATION_SCHEMA


def test_information_schema_tables_and_columns(client: bigquery.Client, dataset: str) -> None:
    client.query(
        f"CREATE TABLE {dataset}.events (id INT64 NOT NULL, kind STRING, ts TIMESTAMP, tags ARRAY<STRING>) "
        "PARTITION BY DATE(ts) CLUSTER BY kind"
    ).result()
    tables = list(client.query(f"SELECT * FROM {dataset}.INFORMATION_SCHEMA.TABLES").result())
    assert [(r["table_name"], r["table_type"]) for r in tables] == [("events", "BASE TABLE")]
    assert tables[0]["table_catalog"] == PROJECT and tables[0]["table_schema"] == dataset
    assert isinstance(tables[0]["creation_time"], datetime)

    job = client.query(
        f"SELECT column_name, ordinal_position, is_nullable, data_type, is_partitioning_column, "
        f"clustering_ordinal_position FROM `{PROJECT}.{dataset}.INFORMATION_SCHEMA.COLUMNS` "
        "WHERE table_name = 'events' ORDER BY ordinal_position"
    )
    rows = [tuple(r.values()) for r in job.result()]
    assert rows == [
        ("id", 1, "NO", "INT64", "NO", None),
        ("kind", 2, "YES", "STRING", "NO", 1),
        ("ts", 3, "YES", "TIMESTAMP", "YES", None),
        ("tags", 4, "YES", "ARRAY<STRING>", "NO", None),
    ]
    types = {f.name: f.field_type for f in job.result().schema}
    assert types["ordinal_position"] == "INTEGER" and types["column_name"] == "STRING"


def test_information_schema_table_options_and_field_paths(client: bigquery.Client, dataset: str) -> None:
    table = bigquery.Table(
        f"{PROJECT}.{dataset}.opts",
        schema=[
            bigquery.SchemaField("id", "INT64"),
            bigquery.SchemaField(
                "who", "RECORD", fields=[bigquery.SchemaField("name", "STRING", description="Full name")]
            ),
        ],
    )
    table.description = 'Say "hi"'
    table.labels = {"team": "data"}
    client.create_table(table)
    options = client.query(
        f"SELECT option_name, option_type, option_value FROM {dataset}.INFORMATION_SCHEMA.TABLE_OPTIONS "
        "WHERE table_name = 'opts' ORDER BY option_name"
    ).result()
    assert [tuple(r.values()) for r in options] == [
        ("description", "STRING", '"Say \\"hi\\""'),
        ("labels", "ARRAY<STRUCT<STRING, STRING>>", '[STRUCT("team", "data")]'),
    ]
    paths = client.query(
        f"SELECT field_path, data_type, description FROM {dataset}.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS "
        "WHERE table_name = 'opts'"
    ).result()
    assert [tuple(r.values()) for r in paths] == [
        ("id", "INT64", None),
        ("who", "STRUCT<name STRING>", None),
        ("who.name", "STRING", "Full name"),
    ]


def test_information_schema_partitions(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE TABLE {dataset}.p (n INT64, ts TIMESTAMP) PARTITION BY DATE(ts)").result()
    client.query(
        f"INSERT INTO {dataset}.p (n, ts) VALUES "
        "(1, TIMESTAMP '2025-01-01 10:00:00'), (2, TIMESTAMP '2025-01-01 11:00:00'), "
        "(3, TIMESTAMP '2025-01-03 00:00:00'), (4, NULL)"
    ).result()
    rows = client.query(
        f"SELECT partition_id, total_rows FROM {dataset}.INFORMATION_SCHEMA.PARTITIONS "
        "WHERE table_name = 'p' ORDER BY partition_id"
    ).result()
    assert [(r["partition_id"], r["total_rows"]) for r in rows] == [
        ("20250101", 2),
        ("20250103", 1),
        ("__NULL__", 1),
    ]


def test_information_schema_schemata_and_routines(client: bigquery.Client, dataset: str) -> None:
    _scalar(client, dataset)
    schemata = client.query(
        "SELECT schema_name, location FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA"
    ).result()
    assert (dataset, "US") in [(r["schema_name"], r["location"]) for r in schemata]
    routines = list(
        client.query(
            f"SELECT routine_name, routine_type, routine_body, routine_definition "
            f"FROM {dataset}.INFORMATION_SCHEMA.ROUTINES"
        ).result()
    )
    assert [tuple(r.values()) for r in routines] == [("multiply_by_three", "FUNCTION", "SQL", "x * 3")]


def test_an_unsupported_view_is_named(client: bigquery.Client, dataset: str) -> None:
    with pytest.raises(gexc.BadRequest, match="TABLE_STORAGE"):
        client.query(f"SELECT * FROM {dataset}.INFORMATION_SCHEMA.TABLE_STORAGE").result()


def test_information_schema_jobs(client: bigquery.Client, dataset: str) -> None:
    marker = f"SELECT 'jobs-{dataset}' AS marker"
    done = client.query(marker)
    done.result()
    with pytest.raises(gexc.BadRequest):
        client.query(f"SELECT no_such_column FROM {dataset}.INFORMATION_SCHEMA.TABLES").result()
    rows = list(
        client.query(
            "SELECT job_id, job_type, statement_type, state, query, error_result "
            "FROM `region-us`.INFORMATION_SCHEMA.JOBS_BY_PROJECT ORDER BY creation_time"
        ).result()
    )
    mine = [r for r in rows if r["job_id"] == done.job_id]
    assert [(r["job_type"], r["statement_type"], r["state"], r["query"]) for r in mine] == [
        ("QUERY", "SELECT", "DONE", marker)
    ]
    failed = [r for r in rows if r["query"].startswith("SELECT no_such_column")]
    assert [r["error_result"]["reason"] for r in failed] == ["invalidQuery"]
    same = client.query("SELECT COUNT(*) AS n FROM `region-us`.INFORMATION_SCHEMA.JOBS").result()
    assert next(iter(same))["n"] >= len(rows)


def test_information_schema_on_the_in_process_engine() -> None:
    """The fake tier reads the same views; it has no jobs, and a script's variables filter them."""
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    try:
        engine.query(PROJECT, "CREATE SCHEMA ds")
        engine.query(PROJECT, "CREATE TABLE ds.a (x INT64)")
        engine.query(PROJECT, "CREATE TABLE ds.b (y STRING)")
        script = (
            "DECLARE wanted STRING DEFAULT 'b';\n"
            "SELECT table_name FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = wanted;"
        )
        assert engine.query(PROJECT, script).rows == [{"table_name": "b"}]
        jobs = engine.query(PROJECT, "SELECT job_id, error_result FROM `region-us`.INFORMATION_SCHEMA.JOBS")
        assert jobs.rows == [] and [f.name for f in jobs.schema] == ["job_id", "error_result"]
    finally:
        engine.close()
