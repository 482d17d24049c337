"""AsgiClient answers exactly as Starlette's TestClient does, in one portal call per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.testclient import TestClient

from harness.asgi_client import AsgiClient


class Boom(Exception):
    pass


def _app(log: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"started": "yes"}

    app = FastAPI(lifespan=lifespan)

    @app.post("/echo/{name}")
    async def echo(name: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "name": name,
                "body": (await request.body()).decode(),
                "query": str(request.query_params),
                "client": list(request.client or ()),
                "agent": request.headers.get("user-agent"),
                "state": request.state.started,
            },
            status_code=201,
            headers={"x-extra": "1"},
        )

    @app.api_route("/stream", methods=["GET", "HEAD"])
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b", b"c"]), media_type="text/plain")

    @app.get("/later")
    def later(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(log.append, "background ran")
        return {"ok": "yes"}

    @app.get("/boom")
    def boom() -> None:
        raise Boom("the app failed")

    return app


@pytest.fixture(params=[TestClient, AsgiClient], ids=["TestClient", "AsgiClient"])
def client_type(request: pytest.FixtureRequest) -> type[TestClient]:
    return request.param


def _answers(client_type: type[TestClient], *, raising: bool) -> Iterator[tuple[str, Any]]:
    log: list[str] = []
    with client_type(_app(log), raise_server_exceptions=raising) as client:
        echoed = client.post("/echo/a%20b?x=1&y=2", content=b"payload")
        yield "echo", (echoed.status_code, echoed.json(), echoed.headers.get("x-extra"))
        yield "echo headers", sorted(echoed.headers.items())
        streamed = client.get("/stream")
        yield "stream", (streamed.status_code, streamed.text, sorted(streamed.headers.items()))
        head = client.head("/stream")
        yield "head", (head.status_code, head.content)
        yield "background", (client.get("/later").json(), list(log))
        if raising:
            with pytest.raises(Boom, match="the app failed"):
                client.get("/boom")
            yield "boom", "raised"
        else:
            failed = client.get("/boom")
            yield "boom", (failed.status_code, failed.text)


@pytest.mark.parametrize("raising", [False, True])
def test_answers_as_testclient_does(raising: bool) -> None:
    assert dict(_answers(AsgiClient, raising=raising)) == dict(_answers(TestClient, raising=raising))


def test_the_answers_themselves(client_type: type[TestClient]) -> None:
    answers = dict(_answers(client_type, raising=False))
    assert answers["echo"] == (
        201,
        {
            "name": "a b",
            "body": "payload",
            "query": "x=1&y=2",
            "client": ["testclient", 50000],
            "agent": "testclient",
            "state": "yes",
        },
        "1",
    )
    assert answers["stream"][:2] == (200, "abc")
    assert answers["head"] == (200, b"")
    assert answers["background"] == ({"ok": "yes"}, ["background ran"])
    assert answers["boom"] == (500, "Internal Server Error")


def test_one_portal_call_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    with AsgiClient(_app([])) as client:
        assert client.portal is not None
        calls: list[object] = []
        real = client.portal.call

        def counting(func: Any, *args: Any) -> Any:
            calls.append(func)
            return real(func, *args)

        monkeypatch.setattr(client.portal, "call", counting)
        assert client.get("/stream").text == "abc"
        assert len(calls) == 1
