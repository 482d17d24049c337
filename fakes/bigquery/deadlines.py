"""A job's deadline (``jobTimeoutMs``) and its cancellation (``jobs.cancel``): the running
statement is interrupted and the job fails.

BigQuery stops a job that runs past its ``jobTimeoutMs``, or that a client cancels, and reports it
failed with reason ``stopped``; the engine stays available to everyone else. Here the deadline
interrupts the DuckDB connection the job's statement runs on (``interrupt()``), the interrupted
statement's error becomes :class:`JobTimedOut` (or :class:`JobCancelled`), and the connection is
usable again at once. A :class:`Cancellation` is how ``jobs.cancel`` reaches the statement a job
runs now: it stops the job as an expired deadline would.

A deadline is real time (a statement runs in real time, whatever the injected clock says), so the
timer is injectable: :class:`TimerDeadlines` arms a ``threading.Timer``; a test passes its own
:class:`Deadlines` and expires the deadline itself, never after a wait.

A read runs on a cursor of its own (:mod:`fakes.bigquery.readers`) with nothing to clean up, so
once expired that cursor is interrupted again and again until the read has stopped: an expiry that
lands before DuckDB started the statement is never lost. Statements on the engine's main
connection (DML, DDL, scripts) are interrupted once, when the deadline expires: interrupting again
could land on the ``ROLLBACK`` that undoes a failed DML. An expiry between two of those statements
is lost (the job then runs to its end).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import duckdb

from fakes.bigquery.exceptions import InvalidArgument, JobCancelled, JobTimedOut
from harness.ports import WarehouseError

_REPEAT_SECONDS = 0.01
_CURRENT: ContextVar[StatementDeadline | None] = ContextVar("bq_job_deadline", default=None)


class Deadlines(Protocol):
    """Arms deadlines: ``expire`` is called once ``seconds`` have passed, unless the returned
    disarm function was called first."""

    def arm(self, seconds: float, expire: Callable[[], None]) -> Callable[[], None]: ...


class TimerDeadlines:
    """Deadlines on real time (the emulator's default)."""

    def arm(self, seconds: float, expire: Callable[[], None]) -> Callable[[], None]:
        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        return timer.cancel


class StatementDeadline:
    """One job's deadline over the connections its statements run on (:meth:`watch`)."""

    def __init__(self, deadlines: Deadlines, timeout_ms: int | None) -> None:
        """``timeout_ms`` None: no deadline of its own, only a cancellation stops the job."""
        self.timeout_ms = timeout_ms
        self.expired = False
        self.cancelled = False
        self._lock = threading.Lock()
        self._target: duckdb.DuckDBPyConnection | None = None
        self._repeat = False
        self._closed = False
        #: Stops the thread that keeps interrupting an expired read; made when it starts.
        self._done: threading.Event | None = None
        self._disarm = deadlines.arm(timeout_ms / 1000, self._expire) if timeout_ms else lambda: None

    @contextmanager
    def watch(self, conn: duckdb.DuckDBPyConnection, *, repeat: bool) -> Iterator[None]:
        """Statements run on ``conn`` inside the block are the ones the deadline interrupts
        (``repeat``: again and again once expired, for a read's own cursor)."""
        with self._lock:
            self._target, self._repeat = conn, repeat
        try:
            yield
        finally:
            with self._lock:
                self._target, self._repeat = None, False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            done = self._done
        if done is not None:
            done.set()
        self._disarm()

    def cancel(self) -> None:
        """Stop the job now (``jobs.cancel``), as an expired deadline does."""
        self.cancelled = True
        self._expire()

    def stopped(self) -> JobTimedOut | JobCancelled:
        """The job's error once it was stopped."""
        if self.cancelled or self.timeout_ms is None:
            return JobCancelled()
        return JobTimedOut(seconds=f"{self.timeout_ms / 1000:g}")

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            if self._target is not None:
                self._target.interrupt()
            if self._done is None:
                self._done = threading.Event()
                if self._closed:
                    self._done.set()
            done = self._done
        threading.Thread(
            target=self._keep_interrupting, args=(done,), name="bq-deadline", daemon=True
        ).start()

    def _keep_interrupting(self, done: threading.Event) -> None:
        while not done.wait(_REPEAT_SECONDS):
            with self._lock:
                if self._target is not None and self._repeat:
                    self._target.interrupt()


class Cancellation:
    """A job's cancel request, reaching the deadline of the statement the job runs when it comes
    (or the next one, when it comes before the job started)."""

    def __init__(self) -> None:
        self.requested = False
        self._deadline: StatementDeadline | None = None
        self._lock = threading.Lock()

    def request(self) -> None:
        with self._lock:
            self.requested = True
            deadline = self._deadline
        if deadline is not None:
            deadline.cancel()

    def attach(self, deadline: StatementDeadline) -> None:
        with self._lock:
            self._deadline = deadline
            requested = self.requested
        if requested:
            deadline.cancel()


def job_timeout_ms(configuration: Mapping[str, Any]) -> int | None:
    """A job configuration's ``jobTimeoutMs`` (an int64, sent as a string): None when absent, a
    400 that names the field when it is not a positive whole number."""
    raw = configuration.get("jobTimeoutMs")
    if raw is None:
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(name="jobTimeoutMs", value=raw) from exc
    if value <= 0:
        raise InvalidArgument(name="jobTimeoutMs", value=raw)
    return value


@contextmanager
def job_deadline(
    deadlines: Deadlines, timeout_ms: int | None, cancellation: Cancellation | None = None
) -> Iterator[StatementDeadline | None]:
    """The job's deadline for the body (``None`` without ``jobTimeoutMs`` or a cancellation); an
    error the body raises once the job was stopped is BigQuery's job timeout or cancellation. A
    statement a script runs inside its job (no timeout of its own) keeps the job's deadline."""
    if timeout_ms is None and cancellation is None:
        yield _CURRENT.get()
        return
    deadline = StatementDeadline(deadlines, timeout_ms)
    token = _CURRENT.set(deadline)
    if cancellation is not None:
        cancellation.attach(deadline)
    try:
        yield deadline
    except (WarehouseError, duckdb.Error) as exc:
        if deadline.expired and _interrupted(exc):
            raise deadline.stopped() from exc
        raise
    finally:
        _CURRENT.reset(token)
        deadline.close()


@contextmanager
def watching(
    deadline: StatementDeadline | None, conn: duckdb.DuckDBPyConnection, *, repeat: bool = False
) -> Iterator[None]:
    """:meth:`StatementDeadline.watch` when there is a deadline; nothing otherwise."""
    if deadline is None:
        yield
        return
    with deadline.watch(conn, repeat=repeat):
        yield


def _interrupted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, duckdb.InterruptException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
