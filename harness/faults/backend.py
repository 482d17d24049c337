"""Warehouse and KMS faults as a scenario, a control request or a test asks for them, and the queue
that decides which call each one hits.

The same :class:`BackendFault` is armed on every tier that has something of ours behind the port:
on the ``fake`` tier :mod:`harness.faults.wrappers` raise the error at the port; on the ``emulator``
tier the BigQuery and KMS emulators answer it **on the wire** (status, reason, message), so the real
Google clients see it and apply their own retry policy. The gcp tier refuses faults.

A fault is aimed by ``operation`` (the vocabulary below, the same on the port and on the wire), by
``table`` (a meta or org table the call touches), by count (skip ``after`` matching calls, then fail
``times`` of them) or by time (``for_seconds``: every matching call fails until that many seconds of
the injected clock have passed since the first failure, which is how a scenario says "BigQuery is
down for 20 s" and sees whether the client's retries outlast it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from harness.ports import Clock

ANY = "*"
"""An ``operation`` that matches every call of the port."""


class Port(StrEnum):
    WAREHOUSE = "warehouse"
    KMS = "kms"


WAREHOUSE_ERRORS: dict[str, str] = {
    "rate_limit_exceeded": "403 rateLimitExceeded (retried by the BigQuery client)",
    "quota_exceeded": "403 quotaExceeded (not retried by the client)",
    "backend_error": "500 backendError (retried)",
    "service_unavailable": "503 backendError (retried)",
    "invalid_query": "400 invalidQuery (permanent)",
    "job_failed": "the job is accepted, then fails with 400 jobBackendError (the query is re-run)",
    "timeout": "the job is accepted, then fails with 400 timeout (permanent)",
}
"""Every warehouse fault kind and what the caller sees; the texts live in
``fakes.bigquery.exceptions`` with where each was observed."""

KMS_ERRORS: dict[str, str] = {
    "unavailable": "503 UNAVAILABLE (retried by the Cloud KMS client)",
    "deadline_exceeded": "504 DEADLINE_EXCEEDED (not retried over REST, the adapters' transport)",
    "resource_exhausted": "429 RESOURCE_EXHAUSTED (not retried)",
    "key_disabled": "400 FAILED_PRECONDITION: the key version is DISABLED",
    "key_destroyed": "400 FAILED_PRECONDITION: the key version is DESTROYED",
    "crc32c_mismatch": "a response whose CRC32C does not match its bytes (discarded by the adapter)",
}

ONLY_ON: dict[str, frozenset[str]] = {"crc32c_mismatch": frozenset({"encrypt", "decrypt"})}
"""Kinds only some operations can show (a GetCryptoKey response carries no checksum to get wrong):
such a fault lets the other calls through, even aimed at every operation."""

WAREHOUSE_OPERATIONS: dict[str, str] = {
    "query": "a SELECT job",
    "dml": "an INSERT, UPDATE, DELETE or MERGE job (rows written with DML included)",
    "insert_rows": "rows added to a table: a streaming insert or an INSERT statement",
    "ddl": "a CREATE, ALTER or DROP statement",
    "create_dataset": "datasets.insert",
    "get_dataset": "datasets.get",
    "list_datasets": "datasets.list",
    "delete_dataset": "datasets.delete",
    "create_table": "tables.insert",
    "get_table": "tables.get",
    "list_tables": "tables.list",
    "patch_table": "tables.patch / tables.update",
    "delete_table": "tables.delete",
}

KMS_OPERATIONS: dict[str, str] = {
    "encrypt": "cryptoKeys.encrypt",
    "decrypt": "cryptoKeys.decrypt",
    "get_crypto_key": "cryptoKeys.get (the primary version)",
}

ERRORS: dict[Port, dict[str, str]] = {Port.WAREHOUSE: WAREHOUSE_ERRORS, Port.KMS: KMS_ERRORS}
OPERATIONS: dict[Port, dict[str, str]] = {Port.WAREHOUSE: WAREHOUSE_OPERATIONS, Port.KMS: KMS_OPERATIONS}


class FaultSpecError(ValueError):
    """A fault that names an unknown error, operation or port, or no way to end."""


@dataclass(frozen=True)
class BackendFault:
    """One warehouse or KMS fault: which error, at which calls, how many or for how long."""

    port: Port
    error: str
    operation: str = ANY
    table: str | None = None
    times: int | None = 1
    """How many matching calls fail; ``None`` with ``for_seconds`` (or alone: every one)."""
    after: int = 0
    """How many matching calls pass untouched first (aim at the N-th with ``after: N-1``)."""
    for_seconds: float | None = None
    """Fail every matching call until this many seconds of the clock passed since the first failure."""

    def __post_init__(self) -> None:
        port = Port(self.port)
        object.__setattr__(self, "port", port)
        if self.error not in ERRORS[port]:
            raise FaultSpecError(
                f"unknown {port.value} error {self.error!r}; one of: {', '.join(ERRORS[port])}"
            )
        if self.operation != ANY and self.operation not in OPERATIONS[port]:
            raise FaultSpecError(
                f"unknown {port.value} operation {self.operation!r}; one of: "
                f"{', '.join([ANY, *OPERATIONS[port]])}"
            )
        only = ONLY_ON.get(self.error)
        if only is not None and self.operation != ANY and self.operation not in only:
            raise FaultSpecError(f"{self.error} hits only {', '.join(sorted(only))}, not {self.operation}")
        if self.table is not None and port is not Port.WAREHOUSE:
            raise FaultSpecError("table: aims warehouse faults only")
        if self.times is not None and self.times < 1:
            raise FaultSpecError("times must be at least 1")
        if self.after < 0:
            raise FaultSpecError("after must not be negative")
        if self.for_seconds is not None:
            if self.for_seconds <= 0:
                raise FaultSpecError("for_seconds must be positive")
            object.__setattr__(self, "times", None)

    def describe(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None} | {
            "port": self.port.value
        }


@dataclass(frozen=True)
class PortCall:
    """One call as a fault sees it: the operations it counts as and the tables it touches."""

    port: Port
    operations: frozenset[str]
    tables: frozenset[str] = frozenset()


@dataclass
class ArmedFault:
    spec: BackendFault
    seen: int = 0
    fired: int = 0
    first_fired: datetime | None = None

    def matches(self, call: PortCall) -> bool:
        spec = self.spec
        if spec.port is not call.port:
            return False
        if spec.operation != ANY and spec.operation not in call.operations:
            return False
        only = ONLY_ON.get(spec.error)
        if only is not None and not only & call.operations:
            return False
        return spec.table is None or spec.table in call.tables

    def exhausted(self, now: datetime) -> bool:
        spec = self.spec
        if spec.for_seconds is not None and self.first_fired is not None:
            return now >= self.first_fired + timedelta(seconds=spec.for_seconds)
        return spec.times is not None and self.fired >= spec.times

    def fires(self, call: PortCall, now: datetime) -> bool:
        """Count a matching call and say whether this one fails (under the queue's lock)."""
        if not self.matches(call):
            return False
        self.seen += 1
        if self.seen <= self.spec.after or self.exhausted(now):
            return False
        self.fired += 1
        if self.first_fired is None:
            self.first_fired = now
        return True

    def describe(self, now: datetime) -> dict[str, Any]:
        return self.spec.describe() | {
            "seen": self.seen,
            "fired": self.fired,
            "done": self.exhausted(now),
        }


@dataclass(frozen=True)
class Fired:
    """A fault that hit a call: what the record of the run shows."""

    at: datetime
    fault: BackendFault
    call: PortCall


@dataclass
class FaultQueue:
    """The armed warehouse and KMS faults of one set of backends, shared by every thread and app
    that serves them. The first armed fault that matches a call decides it."""

    clock: Callable[[], Clock]
    """Called per use: an emulator reset swaps the clock behind a running server."""
    armed: list[ArmedFault] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def arm(self, fault: BackendFault) -> ArmedFault:
        armed = ArmedFault(fault)
        with self._lock:
            self.armed.append(armed)
        return armed

    def take(self, call: PortCall) -> BackendFault | None:
        """The fault this call must fail with, or None to let it through."""
        if not self.armed:
            return None
        now = self.clock().now()
        with self._lock:
            for armed in self.armed:
                if armed.fires(call, now):
                    self.fired.append(Fired(now, armed.spec, call))
                    return armed.spec
        return None

    def pending(self, port: Port | None = None) -> list[dict[str, Any]]:
        now = self.clock().now()
        with self._lock:
            return [
                armed.describe(now)
                for armed in self.armed
                if (port is None or armed.spec.port is port) and not armed.exhausted(now)
            ]

    def clear(self, port: Port | None = None) -> int:
        """Drop the queued faults (of one port, or all); answers how many were still pending."""
        now = self.clock().now()
        with self._lock:
            dropped = [a for a in self.armed if port is None or a.spec.port is port]
            self.armed = [a for a in self.armed if not (port is None or a.spec.port is port)]
        return sum(1 for armed in dropped if not armed.exhausted(now))


__all__ = [
    "ANY",
    "ERRORS",
    "KMS_ERRORS",
    "KMS_OPERATIONS",
    "ONLY_ON",
    "OPERATIONS",
    "WAREHOUSE_ERRORS",
    "WAREHOUSE_OPERATIONS",
    "ArmedFault",
    "BackendFault",
    "FaultQueue",
    "FaultSpecError",
    "Fired",
    "Port",
    "PortCall",
]
