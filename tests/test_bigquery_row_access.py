"""Row access policies: the ``rowAccessPolicies`` REST methods and the DDL, one store behind both.

Written from Google's reference (RowAccessPolicy resource, the methods' paths, ``CREATE [OR
REPLACE] ROW ACCESS POLICY ... GRANT TO (...) FILTER USING (...)``, ``DROP [ALL] ROW ACCESS
POLICY|POLICIES``). The client library has no wrapper for the REST methods, so they are called
over HTTP; the DDL goes through the real client. Policies are kept, not enforced.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import google.auth.credentials
import httpx
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


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ManualClock]]:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    engine = BigQueryEngine(clock)
    with served(create_app(engine)) as url:
        yield url, clock
    engine.close()


@pytest.fixture(scope="module")
def client(server: tuple[str, ManualClock]) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": server[0]},
    )


@pytest.fixture(scope="module")
def http(server: tuple[str, ManualClock]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server[0]}/bigquery/v2/projects/{PROJECT}") as http:
        yield http


@pytest.fixture
def table(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    dataset = "ds_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
    client.create_dataset(dataset)
    client.query(f"CREATE TABLE `{dataset}.sales` (region STRING, amount INT64)").result()
    yield f"{dataset}.sales"
    client.delete_dataset(dataset, delete_contents=True)


def _path(table: str) -> str:
    dataset, name = table.split(".")
    return f"/datasets/{dataset}/tables/{name}/rowAccessPolicies"


def _policy(policy_id: str, predicate: str, grantees: list[str] | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "rowAccessPolicyReference": {"policyId": policy_id},
        "filterPredicate": predicate,
    }
    if grantees is not None:
        body["grantees"] = grantees
    return body


def test_insert_get_and_list_answer_the_resource(
    http: httpx.Client, table: str, server: tuple[str, ManualClock]
) -> None:
    made = http.post(_path(table), json=_policy("us_only", "region = 'US'", ["user:a@example.com"]))
    assert made.status_code == 200
    body = made.json()
    dataset, name = table.split(".")
    assert body["rowAccessPolicyReference"] == {
        "projectId": PROJECT,
        "datasetId": dataset,
        "tableId": name,
        "policyId": "us_only",
    }
    assert body["filterPredicate"] == "region = 'US'" and body["etag"]
    assert body["creationTime"] == body["lastModifiedTime"] == "2025-01-01T00:00:00.000Z"
    assert "grantees" not in body  # input only
    assert http.get(f"{_path(table)}/us_only").json() == body
    assert http.get(_path(table)).json() == {"rowAccessPolicies": [body]}


def test_a_table_without_policies_lists_none(http: httpx.Client, table: str) -> None:
    assert http.get(_path(table)).json() == {}


def test_list_pages_by_page_size(http: httpx.Client, table: str) -> None:
    for policy_id in ("a", "b", "c"):
        http.post(_path(table), json=_policy(policy_id, "TRUE"))
    first = http.get(_path(table), params={"pageSize": 2}).json()
    assert [p["rowAccessPolicyReference"]["policyId"] for p in first["rowAccessPolicies"]] == ["a", "b"]
    rest = http.get(_path(table), params={"pageSize": 2, "pageToken": first["nextPageToken"]}).json()
    assert [p["rowAccessPolicyReference"]["policyId"] for p in rest["rowAccessPolicies"]] == ["c"]
    assert "nextPageToken" not in rest


def test_update_replaces_the_filter_and_keeps_the_creation_time(
    http: httpx.Client, table: str, server: tuple[str, ManualClock]
) -> None:
    made = http.post(_path(table), json=_policy("p", "amount > 0")).json()
    server[1].advance(timedelta(minutes=5))
    updated = http.put(f"{_path(table)}/p", json=_policy("p", "amount > 10"))
    assert updated.status_code == 200
    body = updated.json()
    assert body["filterPredicate"] == "amount > 10" and body["etag"] != made["etag"]
    assert body["creationTime"] == made["creationTime"] != body["lastModifiedTime"]


def test_delete_and_batch_delete_remove_policies(http: httpx.Client, table: str) -> None:
    for policy_id in ("a", "b", "c"):
        http.post(_path(table), json=_policy(policy_id, "TRUE"))
    assert http.delete(f"{_path(table)}/a").status_code == 204
    refused = http.post(f"{_path(table)}:batchDelete", json={"policyIds": ["b", "missing"]})
    assert refused.status_code == 404  # nothing goes when one id is unknown
    assert len(http.get(_path(table)).json()["rowAccessPolicies"]) == 2
    assert http.post(f"{_path(table)}:batchDelete", json={"policyIds": ["b", "c"]}).status_code == 204
    assert http.get(_path(table)).json() == {}


def test_unknown_policies_are_404s_naming_them(http: httpx.Client, table: str) -> None:
    for answer in (
        http.get(f"{_path(table)}/ghost"),
        http.put(f"{_path(table)}/ghost", json=_policy("ghost", "TRUE")),
        http.delete(f"{_path(table)}/ghost"),
        http.post(f"{_path(table)}/ghost:getIamPolicy", json={}),
    ):
        assert answer.status_code == 404
        error = answer.json()["error"]["errors"][0]
        assert_wire_error(error, bq.RowAccessPolicyNotFound)
        assert error["message"].startswith("Not found: Row access policy ghost on table")


def test_a_missing_table_is_the_tables_404(http: httpx.Client, table: str) -> None:
    dataset = table.split(".")[0]
    answer = http.get(f"/datasets/{dataset}/tables/nope/rowAccessPolicies")
    assert answer.status_code == 404
    assert_wire_error(answer.json()["error"]["errors"][0], bq.TableNotFound)


def test_a_duplicate_id_is_a_409(http: httpx.Client, table: str) -> None:
    http.post(_path(table), json=_policy("p", "TRUE"))
    again = http.post(_path(table), json=_policy("p", "FALSE"))
    assert again.status_code == 409
    assert_wire_error(again.json()["error"]["errors"][0], bq.RowAccessPolicyAlreadyExists)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"filterPredicate": "TRUE"}, "policyId"),
        ({"rowAccessPolicyReference": {"policyId": "bad-id"}, "filterPredicate": "TRUE"}, "policyId"),
        ({"rowAccessPolicyReference": {"policyId": "p"}}, "filterPredicate"),
    ],
)
def test_an_incomplete_policy_is_a_400_naming_the_field(
    http: httpx.Client, table: str, body: dict[str, object], named: str
) -> None:
    answer = http.post(_path(table), json=body)
    assert answer.status_code == 400 and named in answer.json()["error"]["message"]


def test_iam_methods_of_a_policy(http: httpx.Client, table: str) -> None:
    http.post(_path(table), json=_policy("p", "TRUE"))
    policy = http.post(f"{_path(table)}/p:getIamPolicy", json={})
    assert policy.status_code == 200 and policy.json()["version"] == 1 and policy.json()["etag"]
    asked = ["bigquery.rowAccessPolicies.getIamPolicy"]
    tested = http.post(f"{_path(table)}/p:testIamPermissions", json={"permissions": asked})
    assert tested.json() == {"permissions": asked}


def test_ddl_creates_replaces_and_drops_policies_the_rest_methods_see(
    client: bigquery.Client, http: httpx.Client, table: str
) -> None:
    create = (
        f"CREATE ROW ACCESS POLICY us_filter ON `{PROJECT}.{table}` "
        "GRANT TO ('user:abc@example.com', 'group:sales@example.com') FILTER USING (region = 'US')"
    )
    job = client.query(create)
    job.result()
    assert job.statement_type == "CREATE_ROW_ACCESS_POLICY"
    listed = http.get(_path(table)).json()["rowAccessPolicies"]
    assert [(p["rowAccessPolicyReference"]["policyId"], p["filterPredicate"]) for p in listed] == [
        ("us_filter", "region = 'US'")
    ]
    with pytest.raises(gexc.Conflict):
        client.query(create).result()
    client.query(f"CREATE ROW ACCESS POLICY IF NOT EXISTS us_filter ON {table} FILTER USING (FALSE)").result()
    assert http.get(f"{_path(table)}/us_filter").json()["filterPredicate"] == "region = 'US'"
    client.query(
        f"CREATE OR REPLACE ROW ACCESS POLICY us_filter ON {table} FILTER USING (amount > 5)"
    ).result()
    assert http.get(f"{_path(table)}/us_filter").json()["filterPredicate"] == "amount > 5"
    dropped = client.query(f"DROP ROW ACCESS POLICY us_filter ON {table}")
    dropped.result()
    assert dropped.statement_type == "DROP_ROW_ACCESS_POLICY"
    assert http.get(_path(table)).json() == {}


def test_drop_of_a_missing_policy_is_its_404_unless_if_exists(client: bigquery.Client, table: str) -> None:
    with pytest.raises(gexc.NotFound, match="Row access policy ghost on table"):
        client.query(f"DROP ROW ACCESS POLICY ghost ON {table}").result()
    client.query(f"DROP ROW ACCESS POLICY IF EXISTS ghost ON {table}").result()


def test_drop_all_row_access_policies(client: bigquery.Client, http: httpx.Client, table: str) -> None:
    for policy_id in ("a", "b"):
        client.query(f"CREATE ROW ACCESS POLICY {policy_id} ON {table} FILTER USING (TRUE)").result()
    client.query(f"DROP ALL ROW ACCESS POLICIES ON {table}").result()
    assert http.get(_path(table)).json() == {}


def test_policies_go_with_their_table(client: bigquery.Client, http: httpx.Client, table: str) -> None:
    client.query(f"CREATE ROW ACCESS POLICY p ON {table} FILTER USING (TRUE)").result()
    client.query(f"DROP TABLE {table}").result()
    client.query(f"CREATE TABLE {table} (region STRING)").result()
    assert http.get(_path(table)).json() == {}


def test_policies_are_kept_not_enforced(client: bigquery.Client, table: str) -> None:
    client.query(f"INSERT {table} VALUES ('US', 1), ('EU', 2)").result()
    client.query(f"CREATE ROW ACCESS POLICY us ON {table} FILTER USING (region = 'US')").result()
    rows = [tuple(r) for r in client.query(f"SELECT region FROM {table} ORDER BY region").result()]
    assert rows == [("EU",), ("US",)]  # a documented limit of the emulator: every row is seen
