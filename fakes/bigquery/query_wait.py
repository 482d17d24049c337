"""jobs.query's ``timeoutMs``: how long the request waits for its job, not how long the job may run.

In BigQuery a ``jobs.query`` whose job has not finished within ``timeoutMs`` (10 s when absent)
answers ``jobComplete: false`` with the job's reference; the job keeps running and the client
polls ``getQueryResults``. Stopping the job is ``jobTimeoutMs``'s business
(:mod:`fakes.bigquery.deadlines`). The job runs in a worker thread, so the event loop keeps
answering other clients while it runs, unless its statement is known to be quick
(:class:`QuickStatements`): then it runs on the event loop, as the emulator's other methods do.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from fakes.bigquery.exceptions import InvalidArgument
from fakes.bigquery.models import Job

DEFAULT_WAIT_MS = 10_000
#: How long ``jobs.insert`` waits for its query before answering it RUNNING. BigQuery answers at
#: once; waiting a moment answers the usual quick query DONE in one round trip, and a slow one is
#: still handed back while it runs, so a client can poll or cancel it.
INSERT_WAIT_MS = 1_000
_ACCEPT_POLL_SECONDS = 0.005
#: A statement whose last run took less than this runs on the event loop: handing it to a worker
#: thread and waking the loop when it ends cost more than running it (two thread switches per
#: request, each a scheduler wake-up on a busy machine).
QUICK_SECONDS = 0.002
#: A request that waits less than this for its job keeps the worker thread, so it can be answered
#: before the job ends (``timeoutMs: 0`` answers ``jobComplete: false``).
QUICK_MIN_WAIT_MS = 1_000
#: How many statement texts :class:`QuickStatements` remembers (the least recently run go first).
QUICK_MEMORY = 1_024


def wait_ms(body: Mapping[str, Any]) -> int:
    """The request's ``timeoutMs`` (a uint32; a JSON field of jobs.query, a query parameter of
    getQueryResults), BigQuery's 10 s when absent; a 400 naming the field when it is not a
    non-negative whole number."""
    raw = body.get("timeoutMs")
    if raw is None:
        return DEFAULT_WAIT_MS
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(name="timeoutMs", value=raw) from exc
    if value < 0:
        raise InvalidArgument(name="timeoutMs", value=raw)
    return value


class QuickStatements:
    """How long each statement text took when it last ran, to tell the quick ones: a statement is
    quick when its last run took under ``threshold`` seconds (:data:`QUICK_SECONDS` unless given)
    of ``timer`` (real time: this is about the emulator's own cost, not the clock the tests
    drive). A statement never run is not quick,
    nor one whose last job failed, so a slow query runs beside the event loop; one that was quick
    and grew slow is measured again on its next run and goes back to a worker thread. Nothing is
    quick while another job runs: a statement on the loop could wait for the engine that job holds,
    and the loop could not answer anyone meanwhile, not even the job's cancel."""

    def __init__(
        self,
        threshold: float | None = None,
        *,
        memory: int = QUICK_MEMORY,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._threshold = QUICK_SECONDS if threshold is None else threshold
        self._memory = memory
        self._timer = timer
        self._last: OrderedDict[str, float] = OrderedDict()
        self._running = 0
        self._lock = threading.Lock()

    def is_quick(self, sql: str) -> bool:
        with self._lock:
            last = self._last.get(sql)
            idle = self._running == 0
        return idle and last is not None and last < self._threshold

    def timed(self, sql: str, run: Callable[[], Job]) -> Callable[[], Job]:
        """``run``, remembering how long it took when its job succeeded. A failed job says
        nothing of the statement's cost (a slow query stopped at its deadline or cancelled ends
        early), so the statement is forgotten and its next run goes to a worker thread."""

        def measured() -> Job:
            with self._lock:
                self._running += 1
            started = self._timer()
            job = None
            try:
                job = run()
                return job
            finally:
                with self._lock:
                    self._running -= 1
                    self._last.pop(sql, None)
                    if job is not None and job.error is None:
                        self._last[sql] = self._timer() - started
                        while len(self._last) > self._memory:
                            self._last.popitem(last=False)

        return measured


async def run_waiting(
    run: Callable[[], Job],
    find: Callable[[], Job | None],
    timeout_ms: int,
    quick: tuple[QuickStatements, str] | None = None,
) -> tuple[Job, bool]:
    """Run the job in a worker thread and wait for it up to ``timeout_ms``: the job and whether
    it is complete. A job not yet stored when the wait ends (still being validated) is waited for
    until it is, so a request never answers with a job nobody can poll. With ``quick`` (the
    statements' memory and this one's text), a statement known to be quick runs on the event loop
    when the request waits long enough for it, and every run is measured."""
    if quick is not None:
        statements, sql = quick
        run = statements.timed(sql, run)
        if timeout_ms >= QUICK_MIN_WAIT_MS and statements.is_quick(sql):
            return run(), True
    task = asyncio.ensure_future(run_in_threadpool(run))
    task.add_done_callback(_retrieve)
    await asyncio.wait({task}, timeout=timeout_ms / 1000)
    while not task.done():
        job = find()
        if job is not None:
            return job, False
        await asyncio.sleep(_ACCEPT_POLL_SECONDS)  # validation takes moments: until it is stored
    return task.result(), True


def _retrieve(task: asyncio.Future[Job]) -> None:
    """A job left running reports its outcome through the job store; its task's exception (a
    request refused before the job was stored) was already raised to the caller, or nobody waits."""
    if not task.cancelled():
        task.exception()


async def until_ended(job: Job, timeout_ms: int) -> None:
    """Wait up to ``timeout_ms`` for a running query to end (getQueryResults' ``timeoutMs``)."""
    if job.running:
        await run_in_threadpool(job.wait_ended, timeout_ms / 1000)
