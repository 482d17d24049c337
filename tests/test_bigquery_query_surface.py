"""The query surface the google-cloud-bigquery client uses, against the REST emulator: sessions,
multi-statement scripts with child jobs, typed query parameters (BIGNUMERIC, JSON, RANGE, STRUCT,
ARRAY<STRUCT>), anonymous STRUCT results and ``formatOptions.useInt64Timestamp``. Written from the
client's documentation and BigQuery's (sessions, scripting, parameterized queries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import google.auth.credentials
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from served_app import served

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from fakes.bigquery.script_jobs import QueryRunner
from harness.clock import ManualClock

PROJECT = "surface-project"


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    engine = BigQueryEngine(clock)
    app = create_app(engine)
    with served(app) as url:
        yield url, engine, clock, app
    engine.close()


@pytest.fixture(scope="module")
def url(server) -> str:  # type: ignore[no-untyped-def]
    return server[0]


@pytest.fixture(scope="module")
def clock(server) -> ManualClock:  # type: ignore[no-untyped-def]
    return server[2]


@pytest.fixture(scope="module")
def client(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": url},
    )


def _in_session(session_id: str, **options: object) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(
        connection_properties=[bigquery.ConnectionProperty("session_id", session_id)], **options
    )


def _new_session(client: bigquery.Client) -> str:
    job = client.query("SELECT 1", job_config=bigquery.QueryJobConfig(create_session=True))
    job.result()
    assert job.session_info is not None
    return job.session_info.session_id


# ---------------------------------------------------------------------------------- sessions


def test_create_session_returns_its_id_and_temp_tables_live_for_the_session(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query(
        "CREATE TEMP TABLE seen AS SELECT 1 AS n UNION ALL SELECT 2", job_config=_in_session(session_id)
    ).result()
    job = client.query("SELECT SUM(n) AS total FROM seen", job_config=_in_session(session_id))
    assert [row.total for row in job.result()] == [3]
    assert job.session_info.session_id == session_id
    rows = client.query(
        "SELECT COUNT(*) AS c FROM _SESSION.seen", job_config=_in_session(session_id)
    ).result()
    assert [row.c for row in rows] == [2]


def test_session_tables_live_in_a_hidden_dataset(client: bigquery.Client) -> None:
    """datasets.list leaves out hidden datasets (a leading underscore) unless ``all`` is set."""
    session_id = _new_session(client)
    client.query(
        "CREATE TEMP TABLE hidden_rows AS SELECT 1 AS n", job_config=_in_session(session_id)
    ).result()
    visible = {d.dataset_id for d in client.list_datasets()}
    everything = {d.dataset_id for d in client.list_datasets(include_all=True)}
    assert not any(name.startswith("_") for name in visible)
    assert any(name.startswith("_") for name in everything - visible)


def test_script_in_a_session_keeps_its_state_and_reports_the_session(
    server: tuple, client: bigquery.Client
) -> None:
    session_id = _new_session(client)
    job = client.query(
        "CREATE TEMP TABLE kept AS SELECT 5 AS n;\nSELECT n FROM kept;", job_config=_in_session(session_id)
    )
    assert [row.n for row in job.result()] == [5]
    children = _runner(server).children(PROJECT, job.job_id)
    assert [child.statistics["sessionInfo"]["sessionId"] for child in children] == [session_id] * 2
    rows = client.query("SELECT n * 2 AS twice FROM kept", job_config=_in_session(session_id)).result()
    assert [row.twice for row in rows] == [10]


def test_session_dml_reports_its_own_statement(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query("CREATE TEMP TABLE t (n INT64)", job_config=_in_session(session_id)).result()
    job = client.query("INSERT INTO t (n) VALUES (1), (2), (3)", job_config=_in_session(session_id))
    job.result()
    assert job.statement_type == "INSERT"
    assert job.num_dml_affected_rows == 3


def test_variables_live_for_the_session(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query("DECLARE greeting STRING DEFAULT 'hello';", job_config=_in_session(session_id)).result()
    client.query("SET greeting = CONCAT(greeting, ' world');", job_config=_in_session(session_id)).result()
    rows = client.query("SELECT greeting AS g", job_config=_in_session(session_id)).result()
    assert [row.g for row in rows] == ["hello world"]


def test_temp_table_is_not_seen_outside_its_session(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query(
        "CREATE TEMP TABLE private_rows AS SELECT 1 AS n", job_config=_in_session(session_id)
    ).result()
    other = _new_session(client)
    with pytest.raises(gexc.BadRequest) as info:
        client.query("SELECT * FROM private_rows", job_config=_in_session(other)).result()
    assert "must be qualified with a dataset" in info.value.message


def test_abort_session_terminates_it(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query("CREATE TEMP TABLE gone AS SELECT 1 AS n", job_config=_in_session(session_id)).result()
    client.query("CALL BQ.ABORT_SESSION();", job_config=_in_session(session_id)).result()
    with pytest.raises(gexc.BadRequest) as info:
        client.query("SELECT * FROM gone", job_config=_in_session(session_id)).result()
    assert session_id in info.value.message


def test_abort_session_by_id_from_outside(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query(f"CALL BQ.ABORT_SESSION('{session_id}')").result()
    with pytest.raises(gexc.BadRequest):
        client.query("SELECT 1", job_config=_in_session(session_id)).result()


def test_abort_without_a_session_is_refused(client: bigquery.Client) -> None:
    with pytest.raises(gexc.BadRequest):
        client.query("CALL BQ.ABORT_SESSION()").result()


def test_unknown_session_is_a_400(client: bigquery.Client) -> None:
    with pytest.raises(gexc.BadRequest):
        client.query("SELECT 1", job_config=_in_session("no-such-session")).result()


def test_session_ends_after_24_hours_idle_on_the_clock(client: bigquery.Client, clock: ManualClock) -> None:
    session_id = _new_session(client)
    clock.advance(timedelta(hours=23))
    client.query("SELECT 1", job_config=_in_session(session_id)).result()  # activity restarts the idle time
    clock.advance(timedelta(hours=23))
    client.query("SELECT 1", job_config=_in_session(session_id)).result()
    clock.advance(timedelta(hours=25))
    with pytest.raises(gexc.BadRequest):
        client.query("SELECT 1", job_config=_in_session(session_id)).result()


def test_jobs_query_creates_a_session(url: str, client: bigquery.Client) -> None:
    """jobs.query (QueryRequest.createSession) answers ``sessionInfo``, as the discovery document says."""
    response = httpx.post(
        f"{url}/bigquery/v2/projects/{PROJECT}/queries",
        json={"query": "CREATE TEMP TABLE q AS SELECT 7 AS n", "useLegacySql": False, "createSession": True},
    )
    assert response.status_code == 200, response.text
    session_id = response.json()["sessionInfo"]["sessionId"]
    rows = client.query_and_wait("SELECT n FROM q", job_config=_in_session(session_id))
    assert [row.n for row in rows] == [7]


# ----------------------------------------------------------------------------- script jobs

SCRIPT = """DECLARE total INT64 DEFAULT 0;
CREATE TEMP TABLE numbers AS SELECT x FROM UNNEST([1, 2, 3]) AS x;
SET total = (SELECT SUM(x) FROM numbers);
SELECT total AS total, 'done' AS state;"""


def test_script_runs_as_a_parent_job_with_child_jobs(client: bigquery.Client) -> None:
    job = client.query(SCRIPT)
    rows = list(job.result())
    assert [(row.total, row.state) for row in rows] == [(6, "done")]
    assert job.statement_type == "SCRIPT"
    assert job.num_child_jobs == 2  # the CREATE TEMP TABLE and the SELECT


def test_child_jobs_name_their_parent_and_place_in_the_script(server: tuple, client: bigquery.Client) -> None:
    job = client.query(SCRIPT)
    job.result()
    runner = _runner(server)
    child_ids = [child.job_id for child in runner.children(PROJECT, job.job_id)]
    assert len(child_ids) == 2
    last = client.get_job(child_ids[-1])
    assert last.parent_job_id == job.job_id
    assert last.statement_type == "SELECT"
    assert last.script_statistics.evaluation_kind == "STATEMENT"
    frame = last.script_statistics.stack_frames[0]
    assert (frame.start_line, frame.start_column) == (4, 1)
    assert frame.text.startswith("SELECT total")
    assert [dict(row) for row in last.result()] == [{"total": 6, "state": "done"}]


def test_failing_statement_fails_its_child_and_the_script(server: tuple, client: bigquery.Client) -> None:
    job = client.query("SELECT 1 AS a;\nSELECT * FROM no_dataset.no_table;")
    with pytest.raises(gexc.GoogleAPICallError):
        job.result()
    children = _runner(server).children(PROJECT, job.job_id)
    assert [child.error is not None for child in children] == [False, True]


def _runner(server: tuple) -> QueryRunner:
    """The emulator's query runner, where jobs.list with parentJobId reads a script's children."""
    return server[3].state.jobs.queries


# ------------------------------------------------------------------------ query parameters


def _one_row(client: bigquery.Client, sql: str, *params: object) -> tuple[dict, list[bigquery.SchemaField]]:
    job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=list(params)))
    rows = list(job.result())
    assert len(rows) == 1
    return dict(rows[0]), list(job.result().schema)


def test_bignumeric_parameter_keeps_its_precision(client: bigquery.Client) -> None:
    value = Decimal("12345678901234567890.12345678901234567890123456789012345678")
    row, schema = _one_row(client, "SELECT @x AS x", bigquery.ScalarQueryParameter("x", "BIGNUMERIC", value))
    assert row == {"x": value}
    assert schema[0].field_type == "BIGNUMERIC"


def test_json_parameter_is_json(client: bigquery.Client) -> None:
    row, schema = _one_row(
        client,
        "SELECT @doc AS doc, JSON_VALUE(@doc, '$.name') AS name",
        bigquery.ScalarQueryParameter("doc", "JSON", {"name": "ada", "tags": [1, 2]}),
    )
    assert row == {"doc": {"name": "ada", "tags": [1, 2]}, "name": "ada"}
    assert [f.field_type for f in schema] == ["JSON", "STRING"]


def test_range_parameter_of_dates(client: bigquery.Client) -> None:
    param = bigquery.RangeQueryParameter("DATE", start=date(2024, 1, 1), end=date(2024, 2, 1), name="r")
    row, schema = _one_row(
        client,
        "SELECT @r AS r, RANGE_START(@r) AS s, RANGE_CONTAINS(@r, DATE '2024-01-15') AS inside",
        param,
    )
    assert row == {
        "r": {"start": date(2024, 1, 1), "end": date(2024, 2, 1)},
        "s": date(2024, 1, 1),
        "inside": True,
    }
    assert schema[0].field_type == "RANGE"
    assert schema[0].range_element_type.element_type == "DATE"


def test_range_parameter_unbounded_end(client: bigquery.Client) -> None:
    start = datetime(2024, 1, 1, 12, tzinfo=UTC)
    param = bigquery.RangeQueryParameter("TIMESTAMP", start=start, name="r")
    row, _ = _one_row(client, "SELECT @r AS r, RANGE_END(@r) IS NULL AS open_end", param)
    assert row == {"r": {"start": start, "end": None}, "open_end": True}


def test_struct_parameter(client: bigquery.Client) -> None:
    param = bigquery.StructQueryParameter(
        "s",
        bigquery.ScalarQueryParameter("id", "INT64", 7),
        bigquery.ScalarQueryParameter("name", "STRING", "seven"),
    )
    row, schema = _one_row(client, "SELECT @s AS s, @s.name AS name", param)
    assert row == {"s": {"id": 7, "name": "seven"}, "name": "seven"}
    assert [(f.name, f.field_type) for f in schema[0].fields] == [("id", "INTEGER"), ("name", "STRING")]


def test_array_of_struct_parameter(client: bigquery.Client) -> None:
    param = bigquery.ArrayQueryParameter(
        "items",
        "STRUCT",
        [
            bigquery.StructQueryParameter(None, bigquery.ScalarQueryParameter("qty", "INT64", qty))
            for qty in (2, 5)
        ],
    )
    row, _ = _one_row(
        client,
        "SELECT (SELECT SUM(i.qty) FROM UNNEST(@items) AS i) AS total, ARRAY_LENGTH(@items) AS n",
        param,
    )
    assert row == {"total": 7, "n": 2}


# ------------------------------------------------------------------------ result shapes


@pytest.mark.parametrize(
    "sql", ["SELECT STRUCT(1, 'a') AS s", "SELECT (1, 'a') AS s", "SELECT STRUCT(1 AS x, 'a') AS s"]
)
def test_anonymous_struct_fields_are_a_record(client: bigquery.Client, sql: str) -> None:
    row, schema = _one_row(client, sql)
    assert schema[0].field_type == "RECORD"
    assert [f.field_type for f in schema[0].fields] == ["INTEGER", "STRING"]
    assert list(row["s"].values()) == [1, "a"]


@pytest.mark.xfail(
    strict=True,
    reason="BigQuery names anonymous STRUCT fields _field_1, _field_2...; the engine names them _0, _1 "
    "in its translation, and renaming _N in results would also rename a field a user named _0",
)
@pytest.mark.parametrize(
    ("sql", "fields"),
    [
        ("SELECT STRUCT(1, 'a') AS s", ["_field_1", "_field_2"]),
        ("SELECT (1, 'a') AS s", ["_field_1", "_field_2"]),
        ("SELECT STRUCT(1 AS x, 'a') AS s", ["x", "_field_2"]),
    ],
)
def test_anonymous_struct_fields_are_named_as_bigquery_names_them(
    client: bigquery.Client, sql: str, fields: list[str]
) -> None:
    _, schema = _one_row(client, sql)
    assert [f.name for f in schema[0].fields] == fields


def test_timestamps_travel_as_int64_microseconds(url: str, client: bigquery.Client) -> None:
    moment = datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC)  # beyond a float's microseconds
    job = client.query(f"SELECT TIMESTAMP '{moment.isoformat()}' AS t")
    assert [row.t for row in job.result()] == [moment]
    response = httpx.get(
        f"{url}/bigquery/v2/projects/{PROJECT}/queries/{job.job_id}",
        params={"formatOptions.useInt64Timestamp": "true"},
    )
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert response.json()["rows"] == [{"f": [{"v": str(micros)}]}]


def test_timestamp_output_format_int64_and_float64(url: str, client: bigquery.Client) -> None:
    job = client.query("SELECT TIMESTAMP '2024-01-02 03:04:05.123456+00' AS t")
    job.result()
    path = f"{url}/bigquery/v2/projects/{PROJECT}/queries/{job.job_id}"
    as_int = httpx.get(path, params={"formatOptions.timestampOutputFormat": "INT64"}).json()
    as_float = httpx.get(path, params={"formatOptions.timestampOutputFormat": "FLOAT64"}).json()
    assert as_int["rows"][0]["f"][0]["v"] == "1704164645123456"
    assert float(as_float["rows"][0]["f"][0]["v"]) == pytest.approx(1704164645.123456)


def test_both_timestamp_formats_are_refused(url: str) -> None:
    response = httpx.post(
        f"{url}/bigquery/v2/projects/{PROJECT}/queries",
        json={
            "query": "SELECT CURRENT_TIMESTAMP() AS t",
            "useLegacySql": False,
            "formatOptions": {"useInt64Timestamp": True, "timestampOutputFormat": "INT64"},
        },
    )
    assert response.status_code == 400
    assert "timestampOutputFormat" in response.json()["error"]["message"]


def test_iso_timestamps_are_refused_by_name(client: bigquery.Client, url: str) -> None:
    job = client.query("SELECT CURRENT_TIMESTAMP() AS t")
    job.result()
    response = httpx.get(
        f"{url}/bigquery/v2/projects/{PROJECT}/queries/{job.job_id}",
        params={"formatOptions.timestampOutputFormat": "ISO8601_STRING"},
    )
    assert response.status_code == 400
    assert "ISO8601_STRING" in response.json()["error"]["message"]


def test_array_of_json_parameter(client: bigquery.Client) -> None:
    param = bigquery.ArrayQueryParameter("docs", "JSON", [{"a": 1}, {"a": 2}])
    row, schema = _one_row(client, "SELECT @docs AS docs", param)
    assert row == {"docs": [{"a": 1}, {"a": 2}]}
    assert (schema[0].field_type, schema[0].mode) == ("JSON", "REPEATED")


def test_range_parameter_of_datetimes(client: bigquery.Client) -> None:
    start, end = datetime(2024, 1, 1, 8), datetime(2024, 1, 1, 17)
    param = bigquery.RangeQueryParameter("DATETIME", start=start, end=end, name="shift")
    row, _ = _one_row(client, "SELECT RANGE_CONTAINS(@shift, DATETIME '2024-01-01 12:00:00') AS busy", param)
    assert row == {"busy": True}


def test_dry_run_in_a_session_is_refused_by_name(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    with pytest.raises(gexc.BadRequest) as info:
        client.query("SELECT 1", job_config=_in_session(session_id, dry_run=True))
    assert "session" in info.value.message


def test_system_variables_name_the_session_and_the_script_job(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    rows = client.query("SELECT @@session_id AS s", job_config=_in_session(session_id)).result()
    assert [row.s for row in rows] == [session_id]
    job = client.query("SELECT 1;\nSELECT @@script.job_id AS j;")
    assert [row.j for row in job.result()] == [job.job_id]


def test_query_and_wait_returns_a_scripts_last_select(client: bigquery.Client) -> None:
    rows = client.query_and_wait("DECLARE n INT64 DEFAULT 4;\nSELECT n * n AS square;")
    assert [row.square for row in rows] == [16]


def test_temp_functions_and_one_select_are_not_a_script(server: tuple, client: bigquery.Client) -> None:
    """BigQuery's documentation: CREATE TEMP FUNCTION statements followed by a single SELECT are
    not a multi-statement query."""
    job = client.query("CREATE TEMP FUNCTION add_one(x INT64) AS (x + 1);\nSELECT add_one(41) AS answer;")
    assert [row.answer for row in job.result()] == [42]
    assert job.statement_type == "SELECT"
    assert not job.num_child_jobs
    assert _runner(server).children(PROJECT, job.job_id) == []


def test_child_jobs_inherit_the_parents_configuration(server: tuple, client: bigquery.Client) -> None:
    config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("limit_to", "INT64", 2)], labels={"team": "data"}
    )
    job = client.query(
        "SELECT 1 AS a;\nSELECT x FROM UNNEST([1, 2, 3]) AS x WHERE x <= @limit_to;", job_config=config
    )
    assert [row.x for row in job.result()] == [1, 2]
    child = client.get_job(_runner(server).children(PROJECT, job.job_id)[-1].job_id)
    assert child.labels == {"team": "data"}
    assert child.query.endswith("@limit_to")


def test_temp_function_lives_for_the_session(client: bigquery.Client) -> None:
    session_id = _new_session(client)
    client.query(
        "CREATE TEMP FUNCTION doubled(x INT64) AS (x * 2);", job_config=_in_session(session_id)
    ).result()
    rows = client.query("SELECT doubled(21) AS v", job_config=_in_session(session_id)).result()
    assert [row.v for row in rows] == [42]
