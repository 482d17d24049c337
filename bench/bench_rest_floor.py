"""The BigQuery REST emulator against the client's own floor, in one run.

``client.query_and_wait("SELECT 1")`` through the real google-cloud-bigquery client, against:

* ours: the emulator tier's BigQuery REST emulator (:class:`harness.emulators.Emulators`);
* the floor: a FastAPI app that receives each ``jobs.query`` request and answers it with the
  canned body ours gave for ``SELECT 1``, served by uvicorn with the same configuration, on the
  same event loop thread, in the same process. Nothing can answer faster through this HTTP stack
  and client: the difference is the emulator's own work (parse, translate, run, render) and the
  ratio is ours / floor.

Calls are interleaved (ours, floor, ours...), after a warm-up of each, so load on a shared machine
falls on both alike; medians of ``--calls`` calls each.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import uvicorn
from _results import summarize, write
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from fakes.bigquery.rest_resources import PREFIX
from harness.emulators import Emulators
from harness.servers import ServerThread, bind_socket, server_url

QUERY = "SELECT 1"


def canned_app(body: dict[str, Any]) -> FastAPI:
    """Answers ``jobs.query`` with ``body`` once it has received the request's body, and does
    nothing else. Receiving it is the transport's part of answering: the client sends the body
    after the headers, and a server that answered on the headers alone would not wait for it."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post(f"{PREFIX}/projects/{{project}}/queries")
    async def jobs_query(project: str, request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(body)

    return app


class Floor(ServerThread):
    """The canned app on a free loopback port, served as :class:`Emulators` serves its apps."""

    what = "floor server"

    def __init__(self, app: FastAPI) -> None:
        self._sockets = {"floor": bind_socket("floor", "127.0.0.1", 0)}
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning")
        self._servers = {"floor": uvicorn.Server(config)}
        self._thread = None
        self._error = None
        self._startup_timeout = 10.0
        self.url = server_url("127.0.0.1", self._sockets["floor"].getsockname()[1])

    def __enter__(self) -> Floor:
        self._launch("bench-floor")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop_servers(5.0)


def client_for(url: str) -> bigquery.Client:
    return bigquery.Client(
        project="bench-project",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def timed_query(client: bigquery.Client) -> float:
    started = time.perf_counter()
    rows = list(client.query_and_wait(QUERY))
    elapsed = time.perf_counter() - started
    assert rows[0][0] == 1
    return elapsed


def canned_body(url: str) -> dict[str, Any]:
    """What ours answers to the client's ``jobs.query`` for ``SELECT 1``, captured on the wire."""
    import requests

    response = requests.post(
        f"{url}{PREFIX}/projects/bench-project/queries",
        json={"query": QUERY, "useLegacySql": False, "formatOptions": {"useInt64Timestamp": True}},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    with Emulators(port_base=0) as emulators:
        body = canned_body(emulators.bigquery_url)
        with Floor(canned_app(body)) as floor:
            ours, base = client_for(emulators.bigquery_url), client_for(floor.url)
            for _ in range(args.warmup):
                timed_query(ours)
                timed_query(base)
            ours_samples, floor_samples = [], []
            for index in range(args.calls):
                pair = [(ours, ours_samples), (base, floor_samples)]
                for client, samples in pair if index % 2 == 0 else reversed(pair):
                    samples.append(timed_query(client))
    ours_figures, floor_figures = summarize(ours_samples), summarize(floor_samples)
    ratio = ours_figures["median_ms"] / floor_figures["median_ms"]
    print(f"ours / floor: {ratio:.2f}x")
    write(
        "rest_floor",
        {
            "command": "python bench/bench_rest_floor.py " + " ".join(sys.argv[1:]),
            "query": QUERY,
            "ours": ours_figures,
            "floor": floor_figures,
            "ours_vs_floor": round(ratio, 2),
        },
    )


if __name__ == "__main__":
    main()
