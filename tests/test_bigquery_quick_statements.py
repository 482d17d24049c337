"""A statement known to be quick runs on the event loop; every other one runs in a worker thread.

The statements' memory is told its durations by an injected timer (no test depends on elapsed
real time); which thread ran a job is read from the job's run itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from served_app import served

from fakes.bigquery import query_wait
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import JobTimedOut
from fakes.bigquery.models import Job
from fakes.bigquery.query_wait import QUICK_MIN_WAIT_MS, QuickStatements, run_waiting
from fakes.bigquery.rest import create_app
from harness.clock import ManualClock
from harness.emulators import Emulators

PROJECT = "quick-project"
SQL = "SELECT 1"


class SteppingTimer:
    """Each reading is ``step`` seconds after the last one: every measured run lasts ``step``."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _job(error: Exception | None = None) -> Job:
    return Job(
        project=PROJECT,
        job_id="job_1",
        location="US",
        configuration={},
        created=datetime(2025, 1, 1, tzinfo=UTC),
        error=error,  # type: ignore[arg-type]
    )


def _recording(job: Job, threads: list[int]) -> Callable[[], Job]:
    def run() -> Job:
        threads.append(threading.get_ident())
        return job

    return run


def test_a_statement_is_quick_once_a_run_of_it_took_under_the_threshold() -> None:
    timer = SteppingTimer(0.001)
    statements = QuickStatements(0.002, timer=timer)
    assert not statements.is_quick(SQL)  # never run
    statements.timed(SQL, _job)()
    assert statements.is_quick(SQL)
    assert not statements.is_quick("SELECT 2")


def test_a_statement_that_grew_slow_is_not_quick_any_more() -> None:
    timer = SteppingTimer(0.001)
    statements = QuickStatements(0.002, timer=timer)
    statements.timed(SQL, _job)()
    timer.step = 0.5
    statements.timed(SQL, _job)()
    assert not statements.is_quick(SQL)


def test_a_failed_job_or_a_refused_run_forgets_the_statement() -> None:
    statements = QuickStatements(0.002, timer=SteppingTimer(0.001))
    statements.timed(SQL, _job)()
    statements.timed(SQL, lambda: _job(JobTimedOut(seconds=2)))()
    assert not statements.is_quick(SQL)  # stopped at its deadline: its cost is unknown
    statements.timed(SQL, _job)()

    def refused() -> Job:
        raise ValueError("refused before it ran")

    with pytest.raises(ValueError, match="refused"):
        statements.timed(SQL, refused)()
    assert not statements.is_quick(SQL)


def test_nothing_is_quick_while_another_job_runs() -> None:
    """A statement on the event loop would wait for the engine a running job holds, and the loop
    could not answer that job's cancel meanwhile."""
    statements = QuickStatements(0.002, timer=SteppingTimer(0.001))
    statements.timed(SQL, _job)()
    started, release = threading.Event(), threading.Event()

    def slow() -> Job:
        started.set()
        release.wait(timeout=30)
        return _job()

    other = threading.Thread(target=statements.timed("SELECT slow", slow))
    other.start()
    assert started.wait(timeout=30)
    assert not statements.is_quick(SQL)
    release.set()
    other.join(timeout=30)
    assert statements.is_quick(SQL)


def test_the_memory_keeps_the_most_recently_run_statements() -> None:
    statements = QuickStatements(0.002, memory=2, timer=SteppingTimer(0.001))
    for sql in ("SELECT 1", "SELECT 2", "SELECT 3"):
        statements.timed(sql, _job)()
    assert [statements.is_quick(sql) for sql in ("SELECT 1", "SELECT 2", "SELECT 3")] == [
        False,
        True,
        True,
    ]


def test_a_quick_statement_runs_on_the_event_loop_and_others_in_a_worker_thread() -> None:
    statements = QuickStatements(0.002, timer=SteppingTimer(0.001))
    job = _job()

    async def three_runs() -> tuple[int, list[int], list[bool]]:
        threads: list[int] = []
        completes = []
        for _ in range(2):
            ran, complete = await run_waiting(
                _recording(job, threads), lambda: job, QUICK_MIN_WAIT_MS, (statements, SQL)
            )
            assert ran is job
            completes.append(complete)
        # A request that waits less than the floor keeps the worker thread, quick or not.
        ran, complete = await run_waiting(
            _recording(job, threads), lambda: job, QUICK_MIN_WAIT_MS - 1, (statements, SQL)
        )
        completes.append(complete)
        return threading.get_ident(), threads, completes

    loop_thread, threads, completes = asyncio.run(three_runs())
    assert threads[0] != loop_thread  # not known yet: a worker thread, measured
    assert threads[1] == loop_thread  # known quick: on the loop
    assert threads[2] != loop_thread
    assert completes == [True, True, True]


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], Job]]:
    """Every statement counts as quick; the runs handed to a worker thread, in order."""
    monkeypatch.setattr(query_wait, "QUICK_SECONDS", 3600.0)
    runs: list[Callable[[], Job]] = []
    to_thread = query_wait.run_in_threadpool

    def counted(run: Callable[[], Job]) -> Any:
        runs.append(run)
        return to_thread(run)

    monkeypatch.setattr(query_wait, "run_in_threadpool", counted)
    return runs


def test_jobs_query_answers_alike_when_its_statement_runs_on_the_event_loop(
    handed_over: list[Callable[[], Job]],
) -> None:
    """With every statement quick, only the first of three runs goes to a worker thread; each
    answer is a new, complete job with the statement's rows."""
    engine = BigQueryEngine(ManualClock(datetime(2025, 1, 1, tzinfo=UTC)))
    body = {"query": "SELECT 17 AS n", "useLegacySql": False}
    with served(create_app(engine)) as url:
        answers = [
            httpx.post(f"{url}/bigquery/v2/projects/{PROJECT}/queries", json=body, timeout=10).json()
            for _ in range(3)
        ]
    engine.close()
    assert len(handed_over) == 1
    assert len({answer["jobReference"]["jobId"] for answer in answers}) == 3
    for answer in answers:
        assert answer["jobComplete"] is True
        assert answer["rows"] == [{"f": [{"v": "17"}]}]
        assert answer["schema"] == {"fields": [{"name": "n", "type": "INTEGER", "mode": "NULLABLE"}]}


def test_the_emulators_know_their_quick_statements_across_a_reset(
    handed_over: list[Callable[[], Job]],
) -> None:
    """A reset builds the BigQuery app again on fresh state; the statements' costs are the
    process's, so a statement run before the reset runs on the event loop after it."""
    body = {"query": "SELECT 17 AS n", "useLegacySql": False}
    with Emulators(port_base=0, clock=ManualClock(datetime(2025, 1, 1, tzinfo=UTC))) as emulators:
        url = f"{emulators.bigquery_url}/bigquery/v2/projects/{PROJECT}/queries"
        before = httpx.post(url, json=body, timeout=10).json()
        emulators.reset()
        after = httpx.post(url, json=body, timeout=10).json()
    assert len(handed_over) == 1
    assert before["rows"] == after["rows"] == [{"f": [{"v": "17"}]}]
