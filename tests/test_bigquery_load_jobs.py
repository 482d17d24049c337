"""Load jobs through the media upload endpoint, driven by the real google-cloud-bigquery client.

Written from the client's documented usage (``load_table_from_file``, ``load_table_from_json``,
``LoadJobConfig``): multipart and resumable uploads, CSV / NDJSON / Parquet, autodetect, write and
create dispositions, bad records and schema updates. ``load_table_from_dataframe`` needs pandas
and pyarrow, which the project does not install, so it is not exercised here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import google.auth.credentials
import httpx
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from google.cloud.bigquery import client as client_module
from served_app import served

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "load-project"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, BigQueryEngine]]:
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    with served(create_app(engine)) as url:
        yield url, engine
    engine.close()


@pytest.fixture(scope="module")
def client(server: tuple[str, BigQueryEngine]) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "ds_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
    client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


SCHEMA = [
    bigquery.SchemaField("id", "INT64", mode="REQUIRED"),
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("active", "BOOL"),
    bigquery.SchemaField("day", "DATE"),
]


def _rows(client: bigquery.Client, table: str) -> list[tuple[object, ...]]:
    return [tuple(row.values()) for row in client.query(f"SELECT * FROM `{table}` ORDER BY id").result()]


def _load(
    client: bigquery.Client, table: str, data: bytes, config: bigquery.LoadJobConfig
) -> bigquery.LoadJob:
    """With ``size`` under 5 MB the client sends one multipart upload."""
    job = client.load_table_from_file(io.BytesIO(data), table, size=len(data), job_config=config)
    job.result()
    return job


# ------------------------------------------------------------------------------------- CSV


def test_csv_with_schema_and_header_loads_through_multipart(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.people"
    data = b"id,name,active,day\n1,Ada,true,2025-01-02\n2,Bob,0,\n"
    config = bigquery.LoadJobConfig(schema=SCHEMA, skip_leading_rows=1, source_format="CSV")
    job = _load(client, table, data, config)
    assert job.state == "DONE" and job.job_type == "load"
    assert client.get_job(job.job_id).output_rows == 2
    assert job.output_rows == 2 and job.input_files == 1 and job.input_file_bytes == len(data)
    assert job.output_bytes == client.get_table(table).num_bytes > 0
    assert _rows(client, table) == [(1, "Ada", True, date(2025, 1, 2)), (2, "Bob", False, None)]
    assert client.get_table(table).streaming_buffer is None


def test_csv_options_delimiter_quote_null_marker_jagged_and_quoted_newlines(
    client: bigquery.Client, dataset: str
) -> None:
    table = f"{PROJECT}.{dataset}.opts"
    data = b"1|'a|b'|true|2025-01-01\n2|NULL|false\n3|'multi\nline'|NULL|NULL\n"
    config = bigquery.LoadJobConfig(
        schema=SCHEMA,
        field_delimiter="|",
        quote_character="'",
        null_marker="NULL",
        allow_jagged_rows=True,
        allow_quoted_newlines=True,
    )
    _load(client, table, data, config)
    assert _rows(client, table) == [
        (1, "a|b", True, date(2025, 1, 1)),
        (2, None, False, None),
        (3, "multi\nline", None, None),
    ]


def test_csv_autodetect_names_columns_from_the_header(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.auto"
    data = b"id,label,ratio,seen\n1,x,0.5,2025-03-04\n2,y,1.5,2025-03-05\n"
    _load(client, table, data, bigquery.LoadJobConfig(autodetect=True, source_format="CSV"))
    schema = [(f.name, f.field_type) for f in client.get_table(table).schema]
    assert schema == [("id", "INTEGER"), ("label", "STRING"), ("ratio", "FLOAT"), ("seen", "DATE")]
    assert _rows(client, table) == [(1, "x", 0.5, date(2025, 3, 4)), (2, "y", 1.5, date(2025, 3, 5))]


def test_bad_records_within_max_bad_records_are_skipped_and_reported(
    client: bigquery.Client, dataset: str
) -> None:
    table = f"{PROJECT}.{dataset}.bad"
    data = b"1,a,true,2025-01-01\nnot-a-number,b,true,2025-01-01\n3,c\n"
    config = bigquery.LoadJobConfig(schema=SCHEMA, max_bad_records=2)
    job = _load(client, table, data, config)
    assert job.output_rows == 1
    assert job._properties["statistics"]["load"]["badRecords"] == "2"
    assert len(job.errors) == 2 and all(e["reason"] == "invalid" for e in job.errors)
    assert "CSV table references column position 3" in job.errors[1]["message"]
    assert _rows(client, table) == [(1, "a", True, date(2025, 1, 1))]


def test_too_many_bad_records_fail_the_job_and_load_nothing(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.toomany"
    client.create_table(bigquery.Table(table, schema=SCHEMA))
    data = b"1,a,true,2025-01-01\nx,b,true,2025-01-01\n"
    job = client.load_table_from_file(
        io.BytesIO(data), table, job_config=bigquery.LoadJobConfig(schema=SCHEMA)
    )
    with pytest.raises(gexc.BadRequest) as caught:
        job.result()
    assert "CSV table encountered too many errors, giving up. Rows: 2; errors: 1." in str(caught.value)
    assert job.error_result["reason"] == "invalid"
    # The summary, the count against maxBadRecords, then each refused record (BigQuery's layout).
    assert len(job.errors) == 3
    assert job.errors[1]["message"].endswith("Rows: 2; errors: 1; max bad: 0; error percent: 0")
    assert job.errors[2]["message"].startswith("Error while reading data, error message: Could not parse 'x'")
    assert client.get_table(table).num_rows == 0


# ------------------------------------------------------------------------- dispositions


def test_write_dispositions_append_truncate_and_empty(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.wd"
    first = b"1,a,true,2025-01-01\n"
    _load(client, table, first, bigquery.LoadJobConfig(schema=SCHEMA))
    _load(client, table, b"2,b,false,2025-01-02\n", bigquery.LoadJobConfig(schema=SCHEMA))
    assert [row[0] for row in _rows(client, table)] == [1, 2]
    truncate = bigquery.LoadJobConfig(schema=SCHEMA, write_disposition="WRITE_TRUNCATE")
    _load(client, table, b"3,c,true,2025-01-03\n", truncate)
    assert [row[0] for row in _rows(client, table)] == [3]
    empty = bigquery.LoadJobConfig(schema=SCHEMA, write_disposition="WRITE_EMPTY")
    job = client.load_table_from_file(io.BytesIO(first), table, job_config=empty)
    with pytest.raises(gexc.Conflict) as caught:
        job.result()
    assert f"Already Exists: Table {PROJECT}:{dataset}.wd" in str(caught.value)
    assert [row[0] for row in _rows(client, table)] == [3]


def test_write_truncate_replaces_the_schema(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.replace"
    _load(client, table, b"1,a,true,2025-01-01\n", bigquery.LoadJobConfig(schema=SCHEMA))
    other = [bigquery.SchemaField("code", "STRING")]
    _load(client, table, b"z\n", bigquery.LoadJobConfig(schema=other, write_disposition="WRITE_TRUNCATE"))
    assert [f.name for f in client.get_table(table).schema] == ["code"]
    assert [tuple(r.values()) for r in client.list_rows(table)] == [("z",)]


def test_write_truncate_data_keeps_the_schema_and_latin1_decodes(
    client: bigquery.Client, dataset: str
) -> None:
    table = f"{PROJECT}.{dataset}.keep"
    _load(client, table, b"1,a,true,2025-01-01\n", bigquery.LoadJobConfig(schema=SCHEMA))
    config = bigquery.LoadJobConfig(encoding="ISO-8859-1", skip_leading_rows=2)
    config._properties["load"]["writeDisposition"] = "WRITE_TRUNCATE_DATA"
    _load(client, table, b"# export\nid,name,active,day\n2,caf\xe9,false,2025-01-02\n", config)
    assert [f.name for f in client.get_table(table).schema] == ["id", "name", "active", "day"]
    assert _rows(client, table) == [(2, "caf\u00e9", False, date(2025, 1, 2))]


def test_create_never_into_a_missing_table_is_not_found(client: bigquery.Client, dataset: str) -> None:
    config = bigquery.LoadJobConfig(schema=SCHEMA, create_disposition="CREATE_NEVER")
    job = client.load_table_from_file(
        io.BytesIO(b"1,a,true,2025-01-01\n"), f"{dataset}.nope", job_config=config
    )
    with pytest.raises(gexc.NotFound, match=f"Not found: Table {PROJECT}:{dataset}.nope"):
        job.result()


def test_schema_update_field_addition(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.grow"
    _load(client, table, b"1,a,true,2025-01-01\n", bigquery.LoadJobConfig(schema=SCHEMA))
    wider = [*SCHEMA, bigquery.SchemaField("note", "STRING")]
    refused = client.load_table_from_file(
        io.BytesIO(b"2,b,true,2025-01-01,hi\n"), table, job_config=bigquery.LoadJobConfig(schema=wider)
    )
    with pytest.raises(gexc.BadRequest, match="Cannot add fields"):
        refused.result()
    allowed = bigquery.LoadJobConfig(schema=wider, schema_update_options=["ALLOW_FIELD_ADDITION"])
    _load(client, table, b"2,b,true,2025-01-01,hi\n", allowed)
    assert [f.name for f in client.get_table(table).schema][-1] == "note"
    assert _rows(client, table) == [
        (1, "a", True, date(2025, 1, 1), None),
        (2, "b", True, date(2025, 1, 1), "hi"),
    ]


def test_a_new_table_without_schema_or_autodetect_is_refused_at_once(
    client: bigquery.Client, dataset: str
) -> None:
    with pytest.raises(gexc.BadRequest, match=r"No schema specified on job or table\."):
        client.load_table_from_file(io.BytesIO(b"1\n"), f"{dataset}.none", size=2)


def test_partitioned_and_clustered_destination(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.parted"
    config = bigquery.LoadJobConfig(
        schema=SCHEMA,
        time_partitioning=bigquery.TimePartitioning(field="day"),
        clustering_fields=["name"],
    )
    _load(client, table, b"1,a,true,2025-01-01\n", config)
    created = client.get_table(table)
    assert created.time_partitioning.field == "day" and created.clustering_fields == ["name"]
    missing = bigquery.LoadJobConfig(schema=SCHEMA, time_partitioning=bigquery.TimePartitioning(field="nope"))
    job = client.load_table_from_file(
        io.BytesIO(b"1,a,true,2025-01-01\n"), f"{dataset}.t2", job_config=missing
    )
    with pytest.raises(gexc.BadRequest, match="The field specified for partitioning cannot be found"):
        job.result()


def test_loaded_rows_are_not_in_the_streaming_buffer(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.dml"
    _load(client, table, b"1,a,true,2025-01-01\n", bigquery.LoadJobConfig(schema=SCHEMA))
    client.query(f"UPDATE `{table}` SET name = 'b' WHERE id = 1").result()
    assert _rows(client, table) == [(1, "b", True, date(2025, 1, 1))]


# ------------------------------------------------------------------------------ JSON


def test_load_table_from_json_autodetects_a_new_table(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.js"
    rows = [
        {"id": 1, "name": "a", "tags": ["x", "y"], "info": {"n": 2}},
        {"id": 2, "name": None, "tags": [], "info": {"n": 3}},
    ]
    job = client.load_table_from_json(rows, table)
    job.result()
    assert job.output_rows == 2
    schema = {f.name: (f.field_type, f.mode) for f in client.get_table(table).schema}
    assert schema["tags"] == ("STRING", "REPEATED") and schema["info"][0] == "RECORD"
    got = [dict(r) for r in client.query(f"SELECT id, tags, info.n AS n FROM `{table}` ORDER BY id").result()]
    assert got == [{"id": 1, "tags": ["x", "y"], "n": 2}, {"id": 2, "tags": [], "n": 3}]


def test_ndjson_into_an_existing_table_with_unknown_fields(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.nd"
    client.create_table(bigquery.Table(table, schema=SCHEMA))
    data = b'{"id": 1, "name": "a", "extra": 1}\n{"id": 2}\n'
    config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON")
    job = client.load_table_from_file(io.BytesIO(data), table, job_config=config)
    with pytest.raises(gexc.BadRequest, match="JSON table encountered too many errors"):
        job.result()
    assert job.errors[2]["message"] == (
        "Error while reading data, error message: JSON parsing error in row starting at position 0: "
        "No such field: extra."
    )
    config.ignore_unknown_values = True
    _load(client, table, data, config)
    assert _rows(client, table) == [(1, "a", None, None), (2, None, None, None)]


# ---------------------------------------------------------------------------- Parquet


def test_parquet_with_decimal_target_types(client: bigquery.Client, dataset: str, tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    conn = duckdb.connect()
    conn.execute(
        "COPY (SELECT * FROM (VALUES (1, 'a', 1.25::DECIMAL(38, 20), DATE '2025-01-01'), "
        "(2, 'b', 2.5::DECIMAL(38, 20), DATE '2025-01-02')) t(id, name, amount, day)) "
        f"TO '{path}' (FORMAT PARQUET)"
    )
    conn.close()
    table = f"{PROJECT}.{dataset}.pq"
    config = bigquery.LoadJobConfig(source_format="PARQUET", decimal_target_types=["NUMERIC", "BIGNUMERIC"])
    with path.open("rb") as handle:
        job = client.load_table_from_file(handle, table, job_config=config)
    job.result()
    types = {f.name: f.field_type for f in client.get_table(table).schema}
    assert types == {"id": "INTEGER", "name": "STRING", "amount": "BIGNUMERIC", "day": "DATE"}
    assert _rows(client, table) == [
        (1, "a", Decimal("1.25"), date(2025, 1, 1)),
        (2, "b", Decimal("2.5"), date(2025, 1, 2)),
    ]


# --------------------------------------------------------------------------- the wire


def test_resumable_upload_in_several_chunks(
    client: bigquery.Client, dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "_DEFAULT_CHUNKSIZE", 256 * 1024)
    sent: list[tuple[str, str]] = []
    request = client._http.request

    def counting(method: str, url: str, *args: object, **kwargs: object) -> object:
        sent.append((method, url.split("?")[1] if "?" in url else ""))
        return request(method, url, *args, **kwargs)

    monkeypatch.setattr(client._http, "request", counting)
    lines = [f"{i},name-{i:06d},true,2025-01-01\n".encode() for i in range(20000)]
    data = b"".join(lines)
    assert len(data) > 2 * 256 * 1024
    table = f"{PROJECT}.{dataset}.big"
    # No size: the client uses the resumable protocol and sends 256 KiB chunks.
    job = client.load_table_from_file(
        io.BytesIO(data), table, job_config=bigquery.LoadJobConfig(schema=SCHEMA)
    )
    job.result()
    puts = [query for method, query in sent if method == "PUT"]
    assert len(puts) == 3 and all("upload_id=" in query for query in puts)
    assert sent[0] == ("POST", "uploadType=resumable")
    assert job.output_rows == 20000 and job.input_file_bytes == len(data)
    assert client.get_table(table).num_rows == 20000


@pytest.mark.parametrize("prefix", ["/upload", "/resumable/upload"])
def test_resumable_protocol_answers_308_with_the_range_received(
    server: tuple[str, BigQueryEngine], dataset: str, prefix: str
) -> None:
    url = f"{server[0]}{prefix}/bigquery/v2/projects/{PROJECT}/jobs?uploadType=resumable"
    resource = {
        "configuration": {
            "load": {
                "destinationTable": {"projectId": PROJECT, "datasetId": dataset, "tableId": "wire"},
                "schema": {"fields": [{"name": "v", "type": "STRING"}]},
            }
        }
    }
    with httpx.Client() as http:
        opened = http.post(url, content=json.dumps(resource), headers={"content-type": "application/json"})
        assert opened.status_code == 200
        session = opened.headers["location"]
        first = http.put(session, content=b"a\nb", headers={"content-range": "bytes 0-2/*"})
        assert first.status_code == 308 and first.headers["range"] == "bytes=0-2"
        status = http.put(session, content=b"", headers={"content-range": "bytes */*"})
        assert status.status_code == 308 and status.headers["range"] == "bytes=0-2"
        last = http.put(session, content=b"\nc\n", headers={"content-range": "bytes 3-5/6"})
        assert last.status_code == 200 and last.json()["status"]["state"] == "DONE"
        assert last.json()["statistics"]["load"]["outputRows"] == "3"
        gone = http.put(session, content=b"", headers={"content-range": "bytes */6"})
        assert gone.status_code == 404


@pytest.mark.parametrize(
    ("load", "named"),
    [
        ({"sourceFormat": "AVRO"}, "AVRO"),
        ({"sourceUris": ["gs://bucket/file.csv"]}, "sourceUris"),
        ({"hivePartitioningOptions": {"mode": "AUTO"}}, "hivePartitioningOptions"),
        ({"rangePartitioning": {"field": "id"}}, "rangePartitioning"),
        ({"destinationTableProperties": {"description": "x"}}, "destinationTableProperties"),
        ({"decimalTargetTypes": ["NUMERIC", "NUMERIC"]}, "decimalTargetTypes"),
    ],
)
def test_what_the_emulator_cannot_load_is_a_400_naming_it(
    client: bigquery.Client, dataset: str, load: dict[str, object], named: str
) -> None:
    config = bigquery.LoadJobConfig(schema=SCHEMA)
    config._properties["load"].update(load)
    with pytest.raises(gexc.BadRequest, match=named):
        client.load_table_from_file(io.BytesIO(b"1,a,true,2025-01-01\n"), f"{dataset}.t", job_config=config)


def test_json_and_geography_columns_load_from_csv(client: bigquery.Client, dataset: str) -> None:
    table = f"{PROJECT}.{dataset}.typed"
    schema = [bigquery.SchemaField("doc", "JSON"), bigquery.SchemaField("place", "GEOGRAPHY")]
    _load(client, table, b'"{""a"": 1}",POINT(1 2)\n', bigquery.LoadJobConfig(schema=schema))
    sql = f"SELECT JSON_VALUE(doc, '$.a') AS a, place FROM `{table}`"
    row = next(iter(client.query(sql).result()))
    assert (row.a, row.place) == ("1", "POINT(1 2)")


def test_a_valid_load_never_answers_5xx(client: bigquery.Client, dataset: str) -> None:
    """Odd but valid inputs: an empty file, a BOM, CRLF line ends, blank lines."""
    table = f"{PROJECT}.{dataset}.odd"
    for data in (b"", b"\xef\xbb\xbf1,a,true,2025-01-01\r\n\r\n2,b,false,2025-01-02\r\n"):
        _load(client, table, data, bigquery.LoadJobConfig(schema=SCHEMA))
    assert [row[0] for row in _rows(client, table)] == [1, 2]
