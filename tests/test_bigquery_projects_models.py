"""projects.list / projects.getServiceAccount and the models methods of the REST emulator, driven by
the real google-cloud-bigquery client as its documentation uses them.

The emulator has no BigQuery ML: a dataset holds no model, so list_models answers nothing and
get/update/delete answer BigQuery's 404 for the model; ``CREATE MODEL`` is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import google.auth.credentials
import pytest
from google.api_core import exceptions as gexc
from google.cloud import bigquery
from served_app import served

from fakes.bigquery import exceptions as bq
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock

PROJECT = "test-project"


@pytest.fixture(scope="module")
def client() -> Iterator[bigquery.Client]:
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    with served(create_app(engine)) as url:
        yield bigquery.Client(
            project=PROJECT,
            credentials=google.auth.credentials.AnonymousCredentials(),
            client_options={"api_endpoint": url},
        )
    engine.close()


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"ds_{request.node.name}"
    client.create_dataset(name)
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def test_list_projects_answers_the_projects_that_hold_datasets(client: bigquery.Client, dataset: str) -> None:
    client.create_dataset("other-project.kept")
    projects = {p.project_id: p for p in client.list_projects()}
    assert {PROJECT, "other-project"} <= set(projects)
    mine = projects[PROJECT]
    assert mine.friendly_name == PROJECT and mine.numeric_id.isdigit()
    page = client.list_projects(max_results=1)
    assert len(list(next(page.pages))) == 1 and page.next_page_token
    client.delete_dataset("other-project.kept")


def test_service_account_is_bigquerys_encryption_account(client: bigquery.Client) -> None:
    email = client.get_service_account_email()
    assert re.fullmatch(r"bq-\d{12}@bigquery-encryption\.iam\.gserviceaccount\.com", email)
    assert client.get_service_account_email() == email  # one project, one number
    assert client.get_service_account_email(project="another") != email


def test_a_dataset_lists_no_models(client: bigquery.Client, dataset: str) -> None:
    assert list(client.list_models(dataset)) == []
    assert list(client.list_models(dataset, max_results=5)) == []


def test_models_of_a_missing_dataset_are_the_datasets_404(client: bigquery.Client) -> None:
    with pytest.raises(gexc.NotFound, match="Dataset test-project:nowhere"):
        list(client.list_models("nowhere"))
    with pytest.raises(gexc.NotFound, match="Dataset test-project:nowhere"):
        client.get_model("nowhere.m")


def test_get_update_and_delete_of_a_model_are_404s_naming_it(client: bigquery.Client, dataset: str) -> None:
    model_id = f"{PROJECT}.{dataset}.my_model"
    with pytest.raises(gexc.NotFound) as got:
        client.get_model(model_id)
    assert got.value.errors[0]["reason"] == bq.ModelNotFound.reason
    assert f"Model {PROJECT}:{dataset}.my_model" in got.value.message
    model = bigquery.Model(model_id)
    model.description = "x"
    with pytest.raises(gexc.NotFound, match="Model"):
        client.update_model(model, ["description"])
    with pytest.raises(gexc.NotFound, match="Model"):
        client.delete_model(model_id)
    client.delete_model(model_id, not_found_ok=True)


def test_create_model_is_refused_by_name(client: bigquery.Client, dataset: str) -> None:
    sql = (
        f"CREATE MODEL `{dataset}.m` OPTIONS (model_type='linear_reg') AS "
        "SELECT 'a' AS f1, 2.0 AS label UNION ALL SELECT 'b', 3.8"
    )
    with pytest.raises(gexc.BadRequest, match="CREATE MODEL"):
        client.query(sql).result()
    assert list(client.list_models(dataset)) == []
