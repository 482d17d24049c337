"""The fake tier's fault injection: port wrappers that consult a :class:`FaultQueue` before every
call and raise what the real service would have answered (the error is built by the tier, from the
fake's catalogue of real errors, so this package stays free of any one service's texts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.faults.backend import BackendFault, FaultQueue, PortCall
from harness.faults.calls import kms_call, warehouse_call
from harness.faults.proxy import PortProxy
from harness.ports import KeyManager, Warehouse

ErrorFactory = Callable[[BackendFault, PortCall], BaseException]
"""Builds the exception a fault raises at the port for the call it hit."""


class _Faulting(PortProxy):
    def __init__(
        self,
        inner: Any,
        queue: FaultQueue,
        error: ErrorFactory,
        classify: Callable[[str, tuple[Any, ...], dict[str, Any]], PortCall | None],
    ) -> None:
        super().__init__(inner)
        self._queue = queue
        self._error = error
        self._classify = classify

    def _call(
        self, name: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not self._queue.armed:  # nothing armed (most calls): no call to classify
            return method(*args, **kwargs)
        port_call = self._classify(name, args, kwargs)
        fault = self._queue.take(port_call) if port_call is not None else None
        if fault is not None and port_call is not None:
            raise self._error(fault, port_call)
        return method(*args, **kwargs)


class FaultingWarehouse(_Faulting):
    """A ``Warehouse`` whose calls fail as the queue's armed warehouse faults say."""

    def __init__(self, inner: Warehouse, queue: FaultQueue, error: ErrorFactory) -> None:
        super().__init__(inner, queue, error, warehouse_call)
        self.project = inner.project


class FaultingKeyManager(_Faulting):
    """A ``KeyManager`` whose calls fail as the queue's armed KMS faults say."""

    def __init__(self, inner: KeyManager, queue: FaultQueue, error: ErrorFactory) -> None:
        super().__init__(inner, queue, error, lambda name, args, kwargs: kms_call(name))
        self.key_name = inner.key_name


__all__ = ["ErrorFactory", "FaultingKeyManager", "FaultingWarehouse"]
