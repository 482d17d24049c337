"""Bounded resources: a query BigQuery would refuse for its size fails as BigQuery fails, a job past
its ``jobTimeoutMs`` is cancelled, and no query stalls the other clients while it runs.

No test waits on wall time: the deadline is expired by the test itself (an injected
:class:`~fakes.bigquery.deadlines.Deadlines`), and the slow query could not finish without it, so
"the others were answered while it ran" holds by construction.
"""

from __future__ import annotations

import queue
import resource
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import google.auth.credentials
import httpx
import pytest
import uvicorn
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from fakes.bigquery.deadlines import Cancellation
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import JobCancelled, JobTimedOut, ResourcesExceeded, ResponseTooLarge
from fakes.bigquery.limits_runtime import RuntimeLimits
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.schema.spec import DatasetSpec, FieldSpec, FieldType, TableSpec

PROJECT = "bounded-project"
# Runs for hours on DuckDB (10^12 rows): it ends only when its deadline interrupts it.
ENDLESS = (
    "SELECT SUM(a * b) AS s FROM UNNEST(GENERATE_ARRAY(1, 1000000)) AS a "
    "CROSS JOIN UNNEST(GENERATE_ARRAY(1, 1000000)) AS b"
)
# A cross join that explodes: 10^10 rows if anything returned them all.
EXPLODING = (
    "SELECT a, b FROM UNNEST(GENERATE_ARRAY(1, 100000)) AS a "
    "CROSS JOIN UNNEST(GENERATE_ARRAY(1, 100000)) AS b"
)
# Needs a hash table of 16 million distinct strings: far over a 64 MB memory limit.
MEMORY_HUNGRY = (
    "SELECT COUNT(DISTINCT CONCAT(CAST(a AS STRING), '-', CAST(b AS STRING))) AS n "
    "FROM UNNEST(GENERATE_ARRAY(1, 4000)) AS a CROSS JOIN UNNEST(GENERATE_ARRAY(1, 4000)) AS b"
)


class ExpiringDeadlines:
    """Deadlines the test expires: each armed deadline is put on ``armed`` for the test to take."""

    def __init__(self) -> None:
        self.armed: queue.Queue[tuple[float, Callable[[], None]] | None] = queue.Queue()
        self._all: list[Callable[[], None]] = []

    def arm(self, seconds: float, expire: Callable[[], None]) -> Callable[[], None]:
        self._all.append(expire)
        self.armed.put((seconds, expire))
        return lambda: None

    def expire_all(self) -> None:
        """Stop every job still running (a failed assertion must not leave one behind)."""
        for expire in self._all:
            expire()


@contextmanager
def _slow_job(
    deadlines: ExpiringDeadlines, run: Callable[[], Any], workers: int = 1
) -> Iterator[tuple[ThreadPoolExecutor, Future[Any], float, Callable[[], None]]]:
    """Start ``run`` (a job with a deadline) and hand over its deadline once armed: the pool for
    other work, the job, its timeout in seconds and its expiry."""
    while not deadlines.armed.empty():  # what earlier jobs left: not this job's deadline
        deadlines.armed.get_nowait()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        job = pool.submit(run)
        job.add_done_callback(lambda _: deadlines.armed.put(None))  # ended before arming: say so
        try:
            armed = deadlines.armed.get()
            while armed is None:  # a job ended: this one before arming (fail), or an earlier one
                assert not job.done(), job.result()
                armed = deadlines.armed.get()
            seconds, expire = armed
            yield pool, job, seconds, expire
        finally:
            deadlines.expire_all()


def _engine(deadlines: ExpiringDeadlines | None = None, **limits: Any) -> BigQueryEngine:
    engine = BigQueryEngine(
        ManualClock(datetime(2025, 1, 1, tzinfo=UTC)), limits=RuntimeLimits(**limits), deadlines=deadlines
    )
    engine.create_dataset(PROJECT, DatasetSpec(dataset_id="ds"))
    schema = (FieldSpec(name="id", type=FieldType.INTEGER), FieldSpec(name="name", type=FieldType.STRING))
    engine.create_table(PROJECT, "ds", TableSpec(table_id="t", schema=schema))
    engine.insert_rows(PROJECT, "ds", "t", [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
    return engine


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


# ---------------------------------------------------------------------------------- the engine


def test_a_query_over_the_memory_limit_fails_with_resources_exceeded_and_the_engine_carries_on() -> None:
    engine = _engine(memory_limit="64MB")
    before = _peak_rss_bytes()
    with pytest.raises(ResourcesExceeded) as caught:
        engine.query(PROJECT, MEMORY_HUNGRY)
    assert (caught.value.status, caught.value.reason) == (400, "resourcesExceeded")
    assert caught.value.message.startswith(
        "Resources exceeded during query execution: The query could not be executed in the allotted memory."
    )
    assert _peak_rss_bytes() - before < 1024**3  # loosely: nowhere near what it would need unbounded
    rows = engine.query(PROJECT, "SELECT name FROM ds.t ORDER BY id").rows
    assert rows == [{"name": "one"}, {"name": "two"}]
    engine.close()


def test_an_exploding_result_is_refused_as_too_large_before_it_is_held() -> None:
    engine = _engine(max_result_bytes=4 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge) as caught:
            engine.query(PROJECT, EXPLODING)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (caught.value.status, caught.value.reason) == (403, "responseTooLarge")
    assert peak < 64 * 1024 * 1024  # a few chunks past the 4 MB bound, not 10^10 rows
    assert engine.query(PROJECT, "SELECT COUNT(*) AS n FROM ds.t").rows == [{"n": 2}]
    engine.close()


def test_a_result_under_the_bound_is_returned_whole() -> None:
    engine = _engine(max_result_bytes=4 * 1024 * 1024)
    rows = engine.query(PROJECT, "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS x ORDER BY x").rows
    assert len(rows) == 5000 and rows[-1] == {"x": 5000}
    engine.close()


def test_the_limits_come_from_the_environment() -> None:
    limits = RuntimeLimits.from_env(
        {"HARNESS_BIGQUERY_MEMORY_LIMIT": "512MB", "HARNESS_BIGQUERY_MAX_RESULT_BYTES": "1000"}
    )
    assert limits == RuntimeLimits(memory_limit="512MB", max_result_bytes=1000)
    assert RuntimeLimits.from_env({}) == RuntimeLimits()
    assert RuntimeLimits.from_env({"HARNESS_BIGQUERY_THREADS": "1"}).threads == 1


def test_the_thread_cap_reaches_duckdb_and_queries_still_answer() -> None:
    engine = _engine(threads=1)
    threads = engine.query(PROJECT, "SELECT CAST(current_setting('threads') AS INT64) AS n").rows
    assert threads == [{"n": 1}]
    assert engine.query(PROJECT, "SELECT COUNT(*) AS n FROM ds.t").rows == [{"n": 2}]
    engine.close()


def test_a_job_past_its_deadline_is_interrupted_while_other_reads_are_answered() -> None:
    deadlines = ExpiringDeadlines()
    engine = _engine(deadlines)
    with _slow_job(deadlines, lambda: engine.query(PROJECT, ENDLESS, job_timeout_ms=30_000), 4) as (
        pool,
        slow,
        seconds,
        expire,
    ):
        assert seconds == 30
        others = [
            pool.submit(engine.query, PROJECT, "SELECT name FROM ds.t WHERE id = 2"),
            pool.submit(engine.get_table, PROJECT, "ds", "t"),
            pool.submit(engine.insert_rows, PROJECT, "ds", "t", [{"id": 3, "name": "three"}]),
        ]
        assert others[0].result().rows == [{"name": "two"}]
        assert others[1].result().num_rows >= 2
        assert others[2].result() == 1
        assert not slow.done()  # it cannot end by itself
        expire()
        with pytest.raises(JobTimedOut) as caught:
            slow.result()
    assert (caught.value.status, caught.value.reason) == (499, "stopped")
    assert caught.value.message == "Job execution was cancelled: Job timed out after 30 sec"
    assert engine.query(PROJECT, "SELECT COUNT(*) AS n FROM ds.t").rows == [{"n": 3}]
    engine.close()


def test_a_cancelled_job_stops_at_once_and_the_engine_carries_on() -> None:
    """jobs.cancel reaches the statement a job is running: it fails with BigQuery's reason
    ``stopped`` and "User requested cancellation", whatever its own deadline."""
    deadlines = ExpiringDeadlines()
    engine = _engine(deadlines)
    cancellation = Cancellation()
    run = lambda: engine.query(PROJECT, ENDLESS, job_timeout_ms=60_000, cancellation=cancellation)  # noqa: E731
    with _slow_job(deadlines, run) as (_, slow, _, _):
        assert not slow.done()
        cancellation.request()
        with pytest.raises(JobCancelled) as caught:
            slow.result()
    assert (caught.value.status, caught.value.reason) == (499, "stopped")
    assert caught.value.message == "Job execution was cancelled: User requested cancellation"
    assert engine.query(PROJECT, "SELECT 1 AS one").rows == [{"one": 1}]
    engine.close()


def test_a_job_cancelled_before_its_statement_starts_never_runs_it() -> None:
    engine = _engine()
    cancellation = Cancellation()
    cancellation.request()
    with pytest.raises(JobCancelled):
        engine.query(PROJECT, ENDLESS, cancellation=cancellation)
    engine.close()


def test_a_deadline_interrupts_a_select_inside_a_script() -> None:
    deadlines = ExpiringDeadlines()
    engine = _engine(deadlines)
    script = f"DECLARE x INT64 DEFAULT 1;\n{ENDLESS};"
    with _slow_job(deadlines, lambda: engine.query(PROJECT, script, job_timeout_ms=5_000)) as (
        _,
        slow,
        _,
        expire,
    ):
        expire()
        with pytest.raises(JobTimedOut):
            slow.result()
    assert engine.query(PROJECT, "SELECT 1 AS one").rows == [{"one": 1}]
    engine.close()


# ------------------------------------------------------------------- the emulator, real clients


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, ExpiringDeadlines]]:
    deadlines = ExpiringDeadlines()
    engine = _engine(deadlines, max_result_bytes=4 * 1024 * 1024)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # server start-up only, not a condition of any test
    yield f"http://127.0.0.1:{port}", deadlines
    server.should_exit = True
    thread.join()
    engine.close()


def _client(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=google.auth.credentials.AnonymousCredentials(),
        client_options={"api_endpoint": url},
    )


def test_clients_are_answered_while_a_slow_job_runs_and_it_fails_at_its_deadline(
    served: tuple[str, ExpiringDeadlines],
) -> None:
    url, deadlines = served
    config = bigquery.QueryJobConfig(job_timeout_ms=60_000)
    run = lambda: list(_client(url).query(ENDLESS, job_config=config).result())  # noqa: E731
    with _slow_job(deadlines, run, 4) as (pool, slow, _, expire):
        answers = [
            pool.submit(
                lambda: [
                    row["name"] for row in _client(url).query_and_wait("SELECT name FROM ds.t ORDER BY id")
                ]
            ),
            pool.submit(lambda: _client(url).get_table(f"{PROJECT}.ds.t").num_rows),
            pool.submit(lambda: [d.dataset_id for d in _client(url).list_datasets()]),
        ]
        assert answers[0].result()[:2] == ["one", "two"]
        assert answers[1].result() >= 2
        assert answers[2].result() == ["ds"]
        assert not slow.done()
        expire()
        # The job fails with reason ``stopped``, which the client's table of job error reasons
        # maps to no HTTP error class: it raises GoogleAPICallError itself.
        with pytest.raises(gexc.GoogleAPICallError) as caught:
            slow.result()
    assert caught.value.errors[0]["reason"] == "stopped"
    assert "Job timed out after 60 sec" in caught.value.message


def test_a_running_job_is_reported_running_to_other_clients(served: tuple[str, ExpiringDeadlines]) -> None:
    url, deadlines = served
    config = bigquery.QueryJobConfig(job_timeout_ms=60_000)
    job_id = "slow_job_seen_running"
    client = _client(url)
    run = lambda: client.query(ENDLESS, job_config=config, job_id=job_id, job_retry=None).result()  # noqa: E731
    with _slow_job(deadlines, run) as (_, slow, _, expire):
        assert _client(url).get_job(job_id).state == "RUNNING"
        page = httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/queries/{job_id}", params={"timeoutMs": 0})
        assert page.status_code == 200 and page.json()["jobComplete"] is False
        expire()
        with pytest.raises(gexc.GoogleAPICallError):
            slow.result()
    assert _client(url).get_job(job_id).state == "DONE"


def test_jobs_query_answers_incomplete_after_its_timeout_ms_and_the_job_runs_on(
    served: tuple[str, ExpiringDeadlines],
) -> None:
    """``timeoutMs`` is how long the request waits (BigQuery: jobComplete false, poll the job);
    the job itself stops at its ``jobTimeoutMs``."""
    url, deadlines = served
    body = {"query": ENDLESS, "useLegacySql": False, "timeoutMs": 0, "jobTimeoutMs": "60000"}
    try:
        page = httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/queries", json=body).json()
        assert page["jobComplete"] is False
        job_id = page["jobReference"]["jobId"]
        assert _client(url).get_job(job_id).state == "RUNNING"
    finally:
        deadlines.expire_all()
    # getQueryResults answers the failed job's error (499), or jobs.get its errorResult,
    # whichever the client's polling sees first.
    with pytest.raises(gexc.GoogleAPICallError) as caught:
        _client(url).get_job(job_id).result()
    assert "Job execution was cancelled: Job timed out after 60 sec" in caught.value.message


def test_jobs_cancel_stops_a_running_query_through_the_client(served: tuple[str, ExpiringDeadlines]) -> None:
    """The client's documented cancel: ``client.query`` hands back the running job (jobs.insert
    answers a slow job RUNNING), ``cancel_job`` stops it, ``result()`` raises its error."""
    url, deadlines = served
    client = _client(url)
    config = bigquery.QueryJobConfig(job_timeout_ms=600_000)
    try:
        job = client.query(ENDLESS, job_config=config, job_id="cancelled_by_client", job_retry=None)
        assert job.state == "RUNNING"
        assert client.cancel_job("cancelled_by_client") is not None
        with pytest.raises(gexc.GoogleAPICallError) as caught:
            job.result(retry=None)
    finally:
        deadlines.expire_all()
    error = caught.value.errors[0]
    assert (error["reason"], error["message"]) == (
        "stopped",
        "Job execution was cancelled: User requested cancellation",
    )
    assert client.get_job("cancelled_by_client").state == "DONE"
    # A finished job is answered as it is.
    done = client.query("SELECT 1 AS one")
    done.result()
    assert client.cancel_job(done.job_id).state == "DONE"
    assert [row["one"] for row in done.result()] == [1]


def test_a_bad_timeout_ms_is_refused_naming_it(served: tuple[str, ExpiringDeadlines]) -> None:
    url, _ = served
    body = {"query": "SELECT 1", "useLegacySql": False, "timeoutMs": "soon"}
    answer = httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/queries", json=body)
    assert answer.status_code == 400
    assert "timeoutMs" in answer.json()["error"]["message"]


def test_job_timeout_of_jobs_query_cancels_the_statement(served: tuple[str, ExpiringDeadlines]) -> None:
    url, deadlines = served
    client = _client(url)
    config = bigquery.QueryJobConfig(job_timeout_ms=5_000)
    with _slow_job(deadlines, lambda: list(client.query_and_wait(ENDLESS, job_config=config))) as (
        _,
        slow,
        _,
        expire,
    ):
        expire()
        with pytest.raises(gexc.Cancelled) as caught:  # jobs.query answers HTTP 499
            slow.result()
    assert caught.value.errors[0]["reason"] == "stopped"
    assert [row["one"] for row in client.query_and_wait("SELECT 1 AS one")] == [1]


def test_an_exploding_cross_join_fails_as_bigquery_fails_through_the_client(
    served: tuple[str, ExpiringDeadlines],
) -> None:
    url, _ = served
    before = _peak_rss_bytes()
    with pytest.raises(gexc.Forbidden) as caught:
        list(_client(url).query_and_wait(EXPLODING))
    assert caught.value.errors[0]["reason"] == "responseTooLarge"
    assert _peak_rss_bytes() - before < 1024**3
