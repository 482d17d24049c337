"""The BigQuery REST v2 emulator driven by the real google-cloud-bigquery client, as the samples do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import google.auth.credentials
import httpx
import jsonschema
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from real_errors import assert_wire_error
from served_app import served

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "test-project"
DISCOVERY = Path(__file__).resolve().parents[2] / "shared" / "reference" / "bigquery-v2-discovery.json"
if not DISCOVERY.exists():  # pragma: no cover - layout fallback
    DISCOVERY = Path("/work/shared/reference/bigquery-v2-discovery.json")


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    engine = BigQueryEngine(clock)
    with served(create_app(engine)) as url:
        yield url, engine, clock
    engine.close()


@pytest.fixture(scope="module")
def url(server) -> str:  # type: ignore[no-untyped-def]
    return server[0]


@pytest.fixture(scope="module")
def client(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": url},
    )


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> str:
    name = f"ds_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"[:1024]
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


SCHEMA = [
    bigquery.SchemaField("id", "INT64", mode="REQUIRED"),
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("active", "BOOL"),
    bigquery.SchemaField("amount", "NUMERIC"),
    bigquery.SchemaField("score", "FLOAT64"),
    bigquery.SchemaField("created_at", "TIMESTAMP"),
    bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
    bigquery.SchemaField(
        "address",
        "RECORD",
        fields=[bigquery.SchemaField("city", "STRING"), bigquery.SchemaField("zip", "INT64")],
    ),
]


def _make_table(client: bigquery.Client, dataset: str, name: str = "events") -> bigquery.Table:
    table = bigquery.Table(f"{PROJECT}.{dataset}.{name}", schema=SCHEMA)
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field="created_at"
    )
    table.clustering_fields = ["name"]
    return client.create_table(table)


ROWS = [
    {
        "id": 1,
        "name": "alice",
        "active": True,
        "amount": "12.50",
        "score": 1.5,
        "created_at": "2025-01-01T00:00:00.123456Z",
        "tags": ["a", "b"],
        "address": {"city": "Paris", "zip": 75001},
    },
    {
        "id": 2,
        "name": "bob",
        "active": False,
        "amount": "3",
        "score": None,
        "created_at": "2025-01-02T12:00:00Z",
        "tags": [],
        "address": None,
    },
]


# ------------------------------------------------------------------------ schema validation


@pytest.fixture(scope="module")
def discovery() -> dict[str, Any]:
    return json.loads(DISCOVERY.read_text())


_DISCOVERY_ONLY = {"format", "annotations", "enumDescriptions", "readOnly", "deprecated", "enum", "id"}


def _to_json_schema(node: Any) -> Any:
    """Discovery schemas are JSON-Schema-like; turn ``$ref: "Name"`` into ``#/schemas/Name`` and
    drop discovery-only keys (``format`` int64 etc. are strings in JSON, which ``type`` covers)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref":
                out["$ref"] = f"#/schemas/{value}"
            elif key in _DISCOVERY_ONLY or (key == "type" and value == "any"):
                continue
            elif key == "properties":
                out[key] = {name: _to_json_schema(prop) for name, prop in value.items()}
            else:
                out[key] = _to_json_schema(value)
        return out
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    return node


def validate(discovery: dict[str, Any], name: str, body: dict[str, Any]) -> None:
    root = {"schemas": {key: _to_json_schema(value) for key, value in discovery["schemas"].items()}}
    schema = {"$ref": f"#/schemas/{name}", "schemas": root["schemas"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)


# ----------------------------------------------------------------------------------- tests


def test_dataset_lifecycle_and_errors(client: bigquery.Client, url: str, discovery: dict[str, Any]) -> None:
    ds = client.create_dataset(bigquery.Dataset(f"{PROJECT}.lifecycle"))
    assert ds.dataset_id == "lifecycle"
    assert ds.location == "US"
    assert client.get_dataset("lifecycle").dataset_id == "lifecycle"
    assert "lifecycle" in [d.dataset_id for d in client.list_datasets()]
    with pytest.raises(gexc.Conflict) as conflict:
        client.create_dataset("lifecycle")
    assert "Already Exists" in conflict.value.message
    client.create_dataset("lifecycle", exists_ok=True)

    body = httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets/lifecycle").json()
    validate(discovery, "Dataset", body)
    validate(discovery, "DatasetList", httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets").json())

    client.delete_dataset("lifecycle")
    with pytest.raises(gexc.NotFound) as missing:
        client.get_dataset("lifecycle")
    assert "lifecycle" in missing.value.message
    error = httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets/lifecycle").json()["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert error["errors"][0]["reason"] == "notFound" and error["errors"][0]["domain"] == "global"


def test_delete_dataset_in_use_needs_delete_contents(client: bigquery.Client, dataset: str) -> None:
    _make_table(client, dataset)
    with pytest.raises(gexc.BadRequest) as in_use:
        client.delete_dataset(dataset)
    assert in_use.value.errors[0]["reason"] == "resourceInUse"
    client.delete_dataset(dataset, delete_contents=True)
    with pytest.raises(gexc.NotFound):
        client.get_dataset(dataset)


def test_create_get_list_table(
    client: bigquery.Client, dataset: str, url: str, discovery: dict[str, Any]
) -> None:
    created = _make_table(client, dataset)
    assert [f.name for f in created.schema] == [f.name for f in SCHEMA]
    table = client.get_table(f"{dataset}.events")
    assert table.time_partitioning.field == "created_at"
    assert table.time_partitioning.type_ == "DAY"
    assert table.clustering_fields == ["name"]
    assert table.schema[0].mode == "REQUIRED" and table.schema[0].field_type == "INTEGER"
    assert table.schema[-1].fields[1].name == "zip"
    assert table.num_rows == 0
    listed = list(client.list_tables(dataset))
    assert [t.table_id for t in listed] == ["events"]
    with pytest.raises(gexc.Conflict):
        _make_table(client, dataset)
    with pytest.raises(gexc.NotFound) as missing:
        client.get_table(f"{dataset}.nope")
    assert "nope" in missing.value.message

    base = f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables"
    validate(discovery, "Table", httpx.get(f"{base}/events").json())
    validate(discovery, "TableList", httpx.get(base).json())

    client.delete_table(f"{dataset}.events")
    with pytest.raises(gexc.NotFound):
        client.delete_table(f"{dataset}.events")


def test_insert_rows_json_and_list_rows(client: bigquery.Client, dataset: str) -> None:
    table = _make_table(client, dataset)
    assert client.insert_rows_json(table, ROWS) == []
    rows = list(client.list_rows(table))
    assert [r["id"] for r in rows] == [1, 2]
    first = rows[0]
    assert first["name"] == "alice" and first["active"] is True
    assert first["amount"] == Decimal("12.5")
    assert first["created_at"] == datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert first["tags"] == ["a", "b"]
    assert first["address"] == {"city": "Paris", "zip": 75001}
    assert rows[1]["address"] is None and rows[1]["tags"] == [] and rows[1]["score"] is None
    assert client.get_table(table).num_rows == 2
    assert client.get_table(table).streaming_buffer is not None

    paged = client.list_rows(table, page_size=1)
    assert [r["id"] for r in paged] == [1, 2]


def test_insert_rows_with_schema_objects(client: bigquery.Client, dataset: str) -> None:
    table = _make_table(client, dataset)
    errors = client.insert_rows(
        table,
        [
            {
                "id": 7,
                "name": "carol",
                "active": True,
                "amount": Decimal("1.25"),
                "score": 2.0,
                "created_at": datetime(2025, 1, 3, tzinfo=UTC),
                "tags": ["x"],
                "address": {"city": "Rome", "zip": 100},
            }
        ],
    )
    assert errors == []
    row = next(iter(client.query_and_wait(f"SELECT * FROM `{dataset}.events`")))
    assert row["amount"] == Decimal("1.25")
    assert row["created_at"] == datetime(2025, 1, 3, tzinfo=UTC)


def test_insert_all_per_row_errors(
    client: bigquery.Client, dataset: str, url: str, discovery: dict[str, Any]
) -> None:
    table = _make_table(client, dataset)
    errors = client.insert_rows_json(table, [{"id": 1}, {"id": "not-a-number"}, {"name": "no id"}])
    by_index = {e["index"]: e["errors"][0] for e in errors}
    assert set(by_index) == {0, 1, 2}
    assert by_index[0]["reason"] == "stopped"
    assert by_index[1]["reason"] == "invalid" and by_index[1]["location"] == "id"  # bq.CannotConvert
    assert by_index[2]["reason"] == "invalid"
    assert client.get_table(table).num_rows == 0

    skipped = client.insert_rows_json(table, [{"id": 1}, {"id": "bad"}], skip_invalid_rows=True)
    assert [e["index"] for e in skipped] == [1]
    assert client.get_table(table).num_rows == 1

    body = httpx.post(
        f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables/events/insertAll",
        json={"rows": [{"json": {"id": "x"}}]},
    ).json()
    validate(discovery, "TableDataInsertAllResponse", body)
    data = httpx.get(
        f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables/events/data",
        params={"maxResults": 1},
    ).json()
    validate(discovery, "TableDataList", data)
    assert data["totalRows"] == "1" and data["rows"][0]["f"][0]["v"] == "1"


def test_query_and_wait_with_named_parameters(client: bigquery.Client, dataset: str) -> None:
    table = _make_table(client, dataset)
    client.insert_rows_json(table, ROWS)
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("min_id", "INT64", 1),
            bigquery.ScalarQueryParameter("active", "BOOL", True),
            bigquery.ScalarQueryParameter("since", "TIMESTAMP", datetime(2024, 12, 31, tzinfo=UTC)),
        ]
    )
    rows = list(
        client.query_and_wait(
            f"SELECT id, name, amount, created_at FROM `{PROJECT}.{dataset}.events` "
            "WHERE id >= @min_id AND active = @active AND created_at > @since ORDER BY id",
            job_config=config,
        )
    )
    assert [(r["id"], r["name"]) for r in rows] == [(1, "alice")]
    assert rows[0]["created_at"] == datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)

    scalar = next(iter(client.query_and_wait("SELECT 1 AS one, 'x' AS s, TRUE AS b, 2.5 AS f")))
    assert (scalar["one"], scalar["s"], scalar["b"], scalar["f"]) == (1, "x", True, 2.5)

    array_rows = list(
        client.query_and_wait(
            "SELECT x FROM UNNEST(@xs) AS x ORDER BY x",
            job_config=bigquery.QueryJobConfig(
                query_parameters=[bigquery.ArrayQueryParameter("xs", "INT64", [3, 1, 2])]
            ),
        )
    )
    assert [r["x"] for r in array_rows] == [1, 2, 3]


def test_query_job_result_paging_and_dml(client: bigquery.Client, dataset: str) -> None:
    table = _make_table(client, dataset)
    client.query_and_wait(
        f"INSERT INTO `{dataset}.events` (id, name, active) "
        "VALUES (1, 'a', TRUE), (2, 'b', TRUE), (3, 'c', FALSE)"
    )
    job = client.query(f"SELECT id FROM `{dataset}.events` ORDER BY id")
    result = job.result(page_size=1)
    assert result.total_rows == 3
    assert [r["id"] for r in result] == [1, 2, 3]
    assert job.state == "DONE"
    assert client.get_job(job.job_id).state == "DONE"

    update = client.query(
        f"UPDATE `{dataset}.events` SET name = @name WHERE active",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("name", "STRING", "renamed")]
        ),
    )
    update.result()
    assert update.num_dml_affected_rows == 2
    assert update.statement_type == "UPDATE"
    names = [r["name"] for r in client.query_and_wait(f"SELECT name FROM `{dataset}.events` ORDER BY id")]
    assert names == ["renamed", "renamed", "c"]
    assert table.table_id == "events"


def test_query_errors_map_to_google_exceptions(client: bigquery.Client, dataset: str) -> None:
    with pytest.raises(gexc.NotFound) as missing:
        client.query_and_wait(f"SELECT * FROM `{dataset}.missing`")
    assert "missing" in missing.value.message
    with pytest.raises(gexc.BadRequest):
        client.query_and_wait("SELEC 1")
    with pytest.raises(gexc.BadRequest):
        client.query("SELEC 1").result()
    with pytest.raises(gexc.NotFound):
        client.get_job("no_such_job")
    with pytest.raises(gexc.Conflict):
        client.query("SELECT 1", job_id="fixed_job", job_retry=None).result()
        client.query("SELECT 1", job_id="fixed_job", job_retry=None)


def test_rest_bodies_match_discovery(
    url: str, dataset: str, client: bigquery.Client, discovery: dict[str, Any]
) -> None:
    table = _make_table(client, dataset)
    client.insert_rows_json(table, ROWS)
    base = f"{url}/bigquery/v2/projects/{PROJECT}"
    body = httpx.post(
        f"{base}/queries",
        json={
            "query": f"SELECT id, created_at, active, tags, address FROM `{dataset}.events` ORDER BY id",
            "useLegacySql": False,
            "maxResults": 1,
            "formatOptions": {"useInt64Timestamp": True},
        },
    ).json()
    validate(discovery, "QueryResponse", body)
    assert body["jobComplete"] is True and body["totalRows"] == "2" and body["pageToken"] == "1"
    assert body["rows"][0]["f"][0]["v"] == "1"
    assert body["rows"][0]["f"][1]["v"] == "1735689600123456"
    assert body["rows"][0]["f"][2]["v"] == "true"
    assert body["rows"][0]["f"][3]["v"] == [{"v": "a"}, {"v": "b"}]
    assert body["rows"][0]["f"][4]["v"] == {"f": [{"v": "Paris"}, {"v": "75001"}]}
    job_id = body["jobReference"]["jobId"]

    page = httpx.get(f"{base}/queries/{job_id}", params={"pageToken": "1"}).json()
    validate(discovery, "GetQueryResultsResponse", page)
    assert page["rows"][0]["f"][1]["v"] == "1735819200.0" and "pageToken" not in page
    empty = httpx.get(f"{base}/queries/{job_id}", params={"maxResults": 0}).json()
    assert "rows" not in empty and empty["totalRows"] == "2" and empty["pageToken"] == "0"
    validate(discovery, "Job", httpx.get(f"{base}/jobs/{job_id}").json())

    dml = httpx.post(
        f"{base}/queries",
        json={
            "query": f"DELETE FROM `{dataset}.events` WHERE id = @id",
            "useLegacySql": False,
            "parameterMode": "NAMED",
            "queryParameters": [
                {"name": "id", "parameterType": {"type": "INT64"}, "parameterValue": {"value": "2"}}
            ],
        },
    ).json()
    # Rows inserted by insertAll sit in the streaming buffer: BigQuery refuses the DELETE.
    assert dml["error"]["code"] == 400
    validate(discovery, "ErrorProto", dml["error"]["errors"][0])

    bad = httpx.post(f"{base}/queries", content=b"{not json")
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    unknown = httpx.get(f"{base}/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["error"]["errors"][0]["reason"] == "notFound"


def test_insert_id_deduplication(client: bigquery.Client, dataset: str, server) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    table = _make_table(client, dataset)
    assert client.insert_rows_json(table, [{"id": 1}, {"id": 2}], row_ids=["a", "b"]) == []
    assert client.insert_rows_json(table, [{"id": 1}, {"id": 3}], row_ids=["a", "c"]) == []
    assert client.get_table(table).num_rows == 3
    errors = client.insert_rows_json(table, [{"id": 4}, {"id": "bad"}], row_ids=["a", "d"])
    assert [e["index"] for e in errors] == [1]  # index in the request, duplicate row 0 skipped
    server[2].advance(timedelta(minutes=2))
    assert client.insert_rows_json(table, [{"id": 1}], row_ids=["a"]) == []
    assert client.get_table(table).num_rows == 4


def test_bigquery_emulator_host_env(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", url)
    env_client = bigquery.Client(project=PROJECT, credentials=google.auth.credentials.AnonymousCredentials())
    assert [r["x"] for r in env_client.query_and_wait("SELECT 41 + 1 AS x")] == [42]


def test_validator_rejects_mistyped_fields(discovery: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(discovery, "Table", {"numRows": 3})
    with pytest.raises(jsonschema.ValidationError):
        validate(discovery, "QueryResponse", {"jobComplete": "yes"})


def test_update_dataset_and_table(client: bigquery.Client, dataset: str) -> None:
    ds = client.get_dataset(dataset)
    ds.description = "described"
    ds.labels = {"env": "test", "team": "core"}
    ds = client.update_dataset(ds, ["description", "labels"])
    assert ds.description == "described" and ds.labels == {"env": "test", "team": "core"}
    ds.labels = {"env": None}
    ds = client.update_dataset(ds, ["labels"])
    assert ds.labels == {"team": "core"}

    table = _make_table(client, dataset)
    table.schema = [*table.schema, bigquery.SchemaField("extra", "STRING")]
    table.description = "events table"
    table = client.update_table(table, ["schema", "description"])
    assert table.schema[-1].name == "extra" and table.description == "events table"
    table.schema = table.schema[:-2]
    with pytest.raises(gexc.BadRequest):
        client.update_table(table, ["schema"])


def test_dml_and_ddl_through_query_and_wait(client: bigquery.Client, dataset: str) -> None:
    created = client.query_and_wait(f"CREATE TABLE `{dataset}.ddl_made` (id INT64, name STRING)")
    assert list(created) == []
    assert client.get_table(f"{dataset}.ddl_made").schema[0].name == "id"
    inserted = client.query_and_wait(f"INSERT INTO `{dataset}.ddl_made` (id, name) VALUES (1, 'a'), (2, 'b')")
    assert inserted.num_dml_affected_rows == 2
    deleted = client.query(f"DELETE FROM `{dataset}.ddl_made` WHERE id = 1")
    deleted.result()
    assert deleted.num_dml_affected_rows == 1 and deleted.statement_type == "DELETE"


def test_struct_and_typed_parameters(client: bigquery.Client) -> None:
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.StructQueryParameter(
                "person",
                bigquery.ScalarQueryParameter("name", "STRING", "ann"),
                bigquery.ScalarQueryParameter("age", "INT64", 30),
            ),
            bigquery.ScalarQueryParameter("price", "NUMERIC", Decimal("9.99")),
            bigquery.ScalarQueryParameter("missing", "STRING", None),
        ]
    )
    row = next(
        iter(
            client.query_and_wait(
                "SELECT @person.name AS name, @person.age + 1 AS age, @price AS price, @missing IS NULL AS m",
                job_config=config,
            )
        )
    )
    assert (row["name"], row["age"], row["price"], row["m"]) == ("ann", 31, Decimal("9.99"), True)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("datasets", {"datasetReference": "oops"}),
        ("datasets", {"datasetReference": {"datasetId": "bad-id!"}}),
        ("queries", {"query": 5}),
        ("queries", {"query": "SELECT 1", "queryParameters": ["x"]}),
        ("queries", {"query": "SELECT @a", "queryParameters": [{"name": "a", "parameterType": "INT64"}]}),
        ("jobs", {"configuration": {"load": {}}}),
        ("jobs", {"configuration": "q"}),
    ],
)
def test_malformed_requests_are_4xx(url: str, path: str, payload: dict[str, Any]) -> None:
    response = httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/{path}", json=payload)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["errors"][0]["domain"] == "global"


def test_every_scalar_type_round_trips_through_the_client(client: bigquery.Client, dataset: str) -> None:
    from datetime import date
    from datetime import time as dtime

    schema = [
        bigquery.SchemaField("b", "BYTES"),
        bigquery.SchemaField("d", "DATE"),
        bigquery.SchemaField("dt", "DATETIME"),
        bigquery.SchemaField("t", "TIME"),
        bigquery.SchemaField("j", "JSON"),
        bigquery.SchemaField("big", "BIGNUMERIC"),
        bigquery.SchemaField("f", "FLOAT64"),
        bigquery.SchemaField("ts", "TIMESTAMP", mode="REPEATED"),
    ]
    table = client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.types", schema=schema))
    row = {
        "b": b"\x00hi",
        "d": date(2025, 2, 3),
        "dt": datetime(2025, 2, 3, 4, 5, 6, 7),
        "t": dtime(1, 2, 3, 400000),
        "j": {"k": [1, "x"]},
        "big": Decimal("12345678901234567890.123456789"),
        "f": float("inf"),
        "ts": [datetime(2025, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)],
    }
    assert client.insert_rows(table, [row]) == []
    for got in (
        next(iter(client.list_rows(table))),
        next(iter(client.query_and_wait(f"SELECT * FROM `{dataset}.types`"))),
    ):
        assert dict(got.items()) == row


def test_jobs_query_request_id_is_idempotent(url: str, client: bigquery.Client, dataset: str) -> None:
    client.query_and_wait(f"CREATE TABLE `{dataset}.once` (id INT64)")
    request = {
        "query": f"INSERT INTO `{dataset}.once` (id) VALUES (1)",
        "useLegacySql": False,
        "requestId": "r-1",
    }
    first = httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/queries", json=request).json()
    again = httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/queries", json=request).json()
    assert first["jobReference"] == again["jobReference"] and again["numDmlAffectedRows"] == "1"
    assert client.get_table(f"{dataset}.once").num_rows == 1


# ------------------------------------------------------------------ insertAll options


def test_insert_all_skip_invalid_rows_and_ignore_unknown_values(
    client: bigquery.Client, dataset: str, url: str, discovery: dict[str, Any]
) -> None:
    table = _make_table(client, dataset)
    rows = [
        {"id": 1, "name": "ok"},
        {"id": "not-a-number"},
        {"id": 3, "extra": "x", "address": {"city": "Oslo", "floor": 2}},
    ]
    # Default: one bad row (and the unknown values) stop the whole request; the rest are "stopped".
    errors = {e["index"]: e["errors"] for e in client.insert_rows_json(table, rows)}
    assert errors[0] == [{"reason": "stopped", "location": "", "message": ""}]
    assert errors[1][0]["reason"] == "invalid" and errors[1][0]["location"] == "id"
    assert errors[2][0] == {"reason": "invalid", "location": "extra", "message": "no such field: extra."}
    assert client.get_table(table).num_rows == 0

    # ignoreUnknownValues drops unknown values at every level; the bad row still stops the rest.
    errors = client.insert_rows_json(table, rows, ignore_unknown_values=True)
    assert sorted((e["index"], e["errors"][0]["reason"]) for e in errors) == [
        (0, "stopped"),
        (1, "invalid"),
        (2, "stopped"),
    ]
    assert client.get_table(table).num_rows == 0

    # skipInvalidRows: the valid rows go in, only the invalid ones are reported (no "stopped").
    errors = client.insert_rows_json(table, rows, skip_invalid_rows=True, ignore_unknown_values=True)
    assert [(e["index"], e["errors"][0]["location"]) for e in errors] == [(1, "id")]
    got = {r["id"]: r for r in client.list_rows(table)}
    assert sorted(got) == [1, 3] and got[3]["address"] == {"city": "Oslo", "zip": None}

    body = httpx.post(
        f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables/events/insertAll",
        json={"rows": [{"json": {"id": 4}}, {"json": {"id": "x"}}], "skipInvalidRows": True},
    ).json()
    validate(discovery, "TableDataInsertAllResponse", body)
    assert [e["index"] for e in body["insertErrors"]] == [1]
    assert client.get_table(table).num_rows == 3


# ----------------------------------------------------------------------------- dry run


def test_dry_run_validates_and_estimates_without_running(
    client: bigquery.Client, dataset: str, url: str, discovery: dict[str, Any]
) -> None:
    table = _make_table(client, dataset)
    client.insert_rows_json(table, ROWS)
    sql = f"SELECT id, name FROM `{dataset}.events` WHERE id > @min"
    params = [bigquery.ScalarQueryParameter("min", "INT64", 0)]
    dry = client.query(sql, job_config=bigquery.QueryJobConfig(dry_run=True, query_parameters=params))
    assert dry.dry_run is True and dry.state == "DONE" and dry.statement_type == "SELECT"
    assert [(f.name, f.field_type) for f in dry.schema] == [("id", "INTEGER"), ("name", "STRING")]
    real = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params))
    real.result()
    assert dry.total_bytes_processed == real.total_bytes_processed > 0
    assert list(dry.result()) == []

    assert dry.job_id is None  # BigQuery creates no job for a dry run (checked by id below)

    # DML is validated, not run.
    delete = client.query(
        f"DELETE FROM `{dataset}.events` WHERE name = 'alice'",
        job_config=bigquery.QueryJobConfig(dry_run=True),
    )
    assert delete.statement_type == "DELETE" and delete.num_dml_affected_rows is None
    assert client.get_table(table).num_rows == 2

    # jobs.query (query_and_wait) dry runs answer with the estimate and no rows.
    rows = client.query_and_wait(
        f"SELECT * FROM `{dataset}.events`", job_config=bigquery.QueryJobConfig(dry_run=True)
    )
    assert list(rows) == [] and rows.total_bytes_processed > 0 and len(rows.schema) == len(SCHEMA)

    # An invalid statement fails the request itself.
    with pytest.raises(gexc.BadRequest) as bad:
        client.query(f"SELECT nope FROM `{dataset}.events`", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert_wire_error(bad.value.errors[0], bq.UnrecognizedName)
    with pytest.raises(gexc.NotFound):
        client.query_and_wait(
            f"SELECT * FROM `{dataset}.missing`", job_config=bigquery.QueryJobConfig(dry_run=True)
        )

    base = f"{url}/bigquery/v2/projects/{PROJECT}"
    job = httpx.post(
        f"{base}/jobs",
        json={
            "jobReference": {"jobId": "dry_1"},
            "configuration": {"dryRun": True, "query": {"query": sql.replace("@min", "0")}},
        },
    ).json()
    validate(discovery, "Job", job)
    assert "jobId" not in job["jobReference"] and job["status"] == {"state": "DONE"}
    assert httpx.get(f"{base}/jobs/dry_1").status_code == 404
    assert job["statistics"]["query"]["statementType"] == "SELECT"
    assert job["statistics"]["query"]["totalBytesProcessed"] == str(real.total_bytes_processed)
    answer = httpx.post(
        f"{base}/queries", json={"query": sql.replace("@min", "0"), "useLegacySql": False, "dryRun": True}
    ).json()
    validate(discovery, "QueryResponse", answer)
    assert answer["jobComplete"] is True and "rows" not in answer and "jobId" not in answer["jobReference"]


# ------------------------------------------------------------------ positional params


def test_positional_parameters(client: bigquery.Client, dataset: str, url: str) -> None:
    table = _make_table(client, dataset)
    client.insert_rows_json(table, ROWS)
    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter(None, "INT64", 1),
            bigquery.ArrayQueryParameter(None, "STRING", ["alice", "bob"]),
        ]
    )
    # A ? inside a string literal or a comment is text, not a parameter.
    sql = f"SELECT id, '?' AS q FROM `{dataset}.events` -- ?\nWHERE id >= ? AND name IN UNNEST(?) ORDER BY id"
    assert [tuple(r.values()) for r in client.query_and_wait(sql, job_config=config)] == [(1, "?"), (2, "?")]
    job = client.query(sql, job_config=config)
    assert [r["id"] for r in job.result()] == [1, 2]

    with pytest.raises(gexc.BadRequest) as few:
        client.query_and_wait(
            "SELECT ? + ?", job_config=bigquery.QueryJobConfig(query_parameters=config.query_parameters[:1])
        )
    assert few.value.errors[0]["reason"] == "invalidQuery"
    with pytest.raises(gexc.BadRequest) as named_mode:
        client.query_and_wait("SELECT ? AS x")
    assert_wire_error(named_mode.value.errors[0], bq.PositionalParametersNotSupported)
    mixed = httpx.post(
        f"{url}/bigquery/v2/projects/{PROJECT}/queries",
        json={
            "query": "SELECT ?",
            "parameterMode": "NAMED",
            "queryParameters": [{"parameterType": {"type": "INT64"}, "parameterValue": {"value": "1"}}],
        },
    ).json()
    assert mixed["error"]["code"] == 400
    assert_wire_error(mixed["error"]["errors"][0], bq.PositionalInNamedMode)


# ------------------------------------------------------------------------- tables.get


def test_table_resource_sizes_and_times(
    client: bigquery.Client,
    dataset: str,
    url: str,
    discovery: dict[str, Any],
    server,  # type: ignore[no-untyped-def]
) -> None:
    table = _make_table(client, dataset)
    empty = httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables/events").json()
    validate(discovery, "Table", empty)
    assert (empty["type"], empty["numRows"], empty["numBytes"]) == ("TABLE", "0", "0")
    created = empty["creationTime"]
    assert created.isdigit() and empty["lastModifiedTime"].isdigit()
    assert int(created) == int(server[2].now().timestamp() * 1000)

    client.insert_rows_json(table, ROWS)
    body = httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets/{dataset}/tables/events").json()
    validate(discovery, "Table", body)
    scan = client.query(f"SELECT * FROM `{dataset}.events`", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert body["numRows"] == "2" and int(body["numBytes"]) == scan.total_bytes_processed > 0
    fetched = client.get_table(table)
    assert (fetched.num_rows, fetched.num_bytes, fetched.table_type) == (
        2,
        scan.total_bytes_processed,
        "TABLE",
    )
    assert fetched.created == datetime.fromtimestamp(int(created) / 1000, UTC)
