"""Warehouse faults answered on the wire by the BigQuery REST emulator.

Each request that is a call to BigQuery (not a poll of a job: ``jobs.get`` and
``jobs.getQueryResults`` never count) is described as a :class:`~harness.faults.PortCall` in the
same words as a port call on the fake tier, and the emulator's :class:`~harness.faults.FaultQueue`
decides whether it fails. A refused request answers the real error as every emulator error is
answered (Google's JSON error body); ``job_failed`` and ``timeout`` are what BigQuery reports on a
job it accepted, so :mod:`fakes.bigquery.rest` accepts the job and reports the failure when the
client asks for the job or its results.
"""

from __future__ import annotations

from collections.abc import Iterable

from fakes.bigquery.faults import JOB_FAILURES, error_for
from harness.faults.backend import BackendFault, FaultQueue, Port, PortCall
from harness.faults.calls import sql_call


def call(operation: str, tables: Iterable[str | None] = ()) -> PortCall:
    """A datasets.* / tables.* / tabledata.insertAll request as the fault vocabulary names it."""
    return PortCall(Port.WAREHOUSE, frozenset({operation}), frozenset(t for t in tables if t))


class WireFaults:
    """The queue as the REST handlers consult it; a queue of None lets everything through."""

    def __init__(self, queue: FaultQueue | None) -> None:
        self.queue = queue

    def check(self, request: PortCall) -> BackendFault | None:
        """Raise the error of a fault that refuses this request; answer a fault the caller must
        report on the job instead (:data:`~fakes.bigquery.faults.JOB_FAILURES`); None: no fault."""
        fault = self.queue.take(request) if self.queue is not None else None
        if fault is None or fault.error in JOB_FAILURES:
            return fault
        raise error_for(fault, request)

    def check_sql(self, sql: str) -> tuple[BackendFault, PortCall] | None:
        """:meth:`check` for a query statement: the fault to report on its job and the call it
        matched, or None. The statement is read as a call only while a fault is armed (reading
        it is most of what a quiet check would cost, on every query)."""
        if self.queue is None or not self.queue.armed:
            return None
        statement = sql_call(sql)
        fault = self.check(statement)
        return None if fault is None else (fault, statement)


__all__ = ["WireFaults", "call"]
