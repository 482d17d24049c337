"""The REST emulator's plain routes and jobs.query's request ids: what the client sees is what a
FastAPI route and ``uuid.uuid5`` gave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.rest import PREFIX, create_app
from fakes.bigquery.rest_requests import request_job_id
from fakes.bigquery.rest_routes import PlainRoutes
from harness.clock import ManualClock


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    with TestClient(create_app(engine)) as test_client:
        yield test_client
    engine.close()


@pytest.mark.parametrize("request_id", ["a", "7c0e9a7e-1111-2222-3333-444455556666", "é-ü-ß", "x" * 300])
def test_a_request_id_names_the_job_uuid5_names(request_id: str) -> None:
    assert request_job_id(request_id) == f"job_{uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex}"


def test_a_retried_jobs_query_answers_the_job_its_request_id_names(client: TestClient) -> None:
    body = {"query": "SELECT 1", "useLegacySql": False, "requestId": "retried-request"}
    first = client.post(f"{PREFIX}/projects/p/queries", json=body)
    second = client.post(f"{PREFIX}/projects/p/queries", json=body)
    expected = f"job_{uuid.uuid5(uuid.NAMESPACE_URL, 'retried-request').hex}"
    assert first.status_code == second.status_code == 200
    assert first.json()["jobReference"]["jobId"] == second.json()["jobReference"]["jobId"] == expected
    assert first.json()["rows"] == [{"f": [{"v": "1"}]}]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("HEAD", "/projects/p/queries/job_x"),
        ("HEAD", "/projects/p/datasets/d/tables/t"),
        ("GET", "/projects/p/queries"),
        ("PUT", "/projects/p/jobs/job_x"),
    ],
)
def test_a_method_a_path_does_not_serve_is_refused_as_google_does(
    client: TestClient, method: str, path: str
) -> None:
    """HEAD included: Starlette would serve it on a GET route, the emulator refuses it."""
    response = client.request(method, f"{PREFIX}{path}")
    assert response.status_code == 400
    if method != "HEAD":  # a HEAD answer has no body
        error = response.json()["error"]
        assert error["message"] == f"Method {method} not allowed on {PREFIX}{path}"
        assert error["status"] == "INVALID_ARGUMENT"
        assert error["errors"][0]["reason"] == "invalid"


def test_a_path_parameter_reaches_the_endpoint_decoded(client: TestClient) -> None:
    response = client.get(f"{PREFIX}/projects/p/datasets/no%20such/tables/t")
    assert response.status_code == 404
    assert "no such" in response.json()["error"]["message"]


def test_an_endpoint_gets_its_path_parameters_and_the_request() -> None:
    app = FastAPI()
    routes = PlainRoutes(app)

    @routes.get("/things/{project}/{thing}")
    async def get_thing(project: str, thing: str, request: Request) -> JSONResponse:
        return JSONResponse({"project": project, "thing": thing, "q": request.query_params.get("q")})

    @routes.get("/projects/{project}")
    async def get_project(project: str) -> JSONResponse:
        return JSONResponse({"project": project})

    with TestClient(app) as test_client:
        assert test_client.get("/things/p/t?q=1").json() == {"project": "p", "thing": "t", "q": "1"}
        assert test_client.get("/projects/p").json() == {"project": "p"}
        assert test_client.head("/projects/p").status_code == 405  # no FastAPI handlers on this app


def test_an_endpoint_naming_what_its_path_does_not_carry_is_refused_when_added() -> None:
    """A FastAPI route would read such a parameter from the query string; a plain route cannot."""
    routes = PlainRoutes(FastAPI())

    async def listing(project: str, max_results: str) -> JSONResponse:
        return JSONResponse({})

    with pytest.raises(TypeError, match="max_results"):
        routes.add("/projects/{project}", listing, "GET")


def test_a_plain_function_endpoint_is_refused_when_added() -> None:
    routes = PlainRoutes(FastAPI())

    def listing(project: str) -> JSONResponse:
        return JSONResponse({})

    with pytest.raises(TypeError, match="coroutine"):
        routes.add("/projects/{project}", listing, "GET")  # type: ignore[arg-type]
