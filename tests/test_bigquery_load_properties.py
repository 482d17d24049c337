"""Property: whatever bytes a load uploads, under whatever CSV/JSON options, the emulator answers a
400 or a finished job, never a 5xx (the google client retries a 5xx for ten minutes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

BOUNDARY = "==boundary=="
SCHEMAS = [
    None,
    [{"name": "id", "type": "INT64", "mode": "REQUIRED"}, {"name": "s", "type": "STRING"}],
    [{"name": "b", "type": "BOOL"}, {"name": "t", "type": "TIMESTAMP"}, {"name": "n", "type": "NUMERIC"}],
    [{"name": "r", "type": "RECORD", "mode": "REPEATED", "fields": [{"name": "x", "type": "FLOAT64"}]}],
]

ENGINE = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
CLIENT = TestClient(create_app(ENGINE), raise_server_exceptions=False)
CLIENT.post("/bigquery/v2/projects/p/datasets", json={"datasetReference": {"datasetId": "d"}})

#: Pieces that make CSV and JSON (and near misses of both) likely.
PIECES = [*"ab1,.\"\n\r|{}[]:-0 T'", "true", "2025-01-01", "\\N", '{"id": 1}', '"s": "x"', "\xe9"]
text = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
options = st.fixed_dictionaries(
    {},
    optional={
        "sourceFormat": st.sampled_from(["CSV", "NEWLINE_DELIMITED_JSON"]),
        "autodetect": st.booleans(),
        "skipLeadingRows": st.integers(0, 3),
        "fieldDelimiter": st.sampled_from([",", "|", "\\t"]),
        "quote": st.sampled_from(['"', "", "'"]),
        "nullMarker": st.sampled_from(["", "\\N"]),
        "allowJaggedRows": st.booleans(),
        "allowQuotedNewlines": st.booleans(),
        "ignoreUnknownValues": st.booleans(),
        "maxBadRecords": st.integers(0, 5),
        "writeDisposition": st.sampled_from(["WRITE_APPEND", "WRITE_TRUNCATE", "WRITE_EMPTY"]),
        "schemaUpdateOptions": st.sampled_from([[], ["ALLOW_FIELD_ADDITION"]]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=text, load=options, schema=st.sampled_from(SCHEMAS), table=st.sampled_from(["t1", "t2"]))
def test_a_load_never_answers_5xx(data: str, load: dict[str, object], schema: object, table: str) -> None:
    load = {**load, "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": table}}
    if schema is not None:
        load["schema"] = {"fields": schema}
    resource = json.dumps({"configuration": {"load": load}})
    body = (
        f"--{BOUNDARY}\r\ncontent-type: application/json\r\n\r\n{resource}\r\n"
        f"--{BOUNDARY}\r\ncontent-type: */*\r\n\r\n{data}\r\n--{BOUNDARY}--"
    ).encode()
    answer = CLIENT.post(
        "/upload/bigquery/v2/projects/p/jobs?uploadType=multipart",
        content=body,
        headers={"content-type": f'multipart/related; boundary="{BOUNDARY}"'},
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert answer.json()["status"]["state"] == "DONE"
