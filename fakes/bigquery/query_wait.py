"""jobs.query's ``timeoutMs``: how long the request waits for its job, not how long the job may run.

In BigQuery a ``jobs.query`` whose job has not finished within ``timeoutMs`` (10 s when absent)
answers ``jobComplete: false`` with the job's reference; the job keeps running and the client
polls ``getQueryResults``. Stopping the job is ``jobTimeoutMs``'s business
(:mod:`fakes.bigquery.deadlines`). The job runs in a worker thread either way, so the event loop
keeps answering other clients while it runs.
"""

from __future__ import annotations

import asyncio
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


async def run_waiting(
    run: Callable[[], Job], find: Callable[[], Job | None], timeout_ms: int
) -> tuple[Job, bool]:
    """Run the job in a worker thread and wait for it up to ``timeout_ms``: the job and whether
    it is complete. A job not yet stored when the wait ends (still being validated) is waited for
    until it is, so a request never answers with a job nobody can poll."""
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
        await run_in_threadpool(job.ended.wait, timeout_ms / 1000)
