"""Fault injection around the ports: make a chosen warehouse or KMS call fail, a chosen number of times.

Wrappers, not patches: the domain code runs unchanged against a ``FaultyWarehouse`` or
``FaultyKeyManager`` exactly as against the real thing, which is how tests prove that a failure
at any step leaves nothing behind, and how scenario files will inject backend faults.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.ports import KeyManager, Warehouse


@dataclass
class Fault:
    """Fail calls of ``operation`` whose arguments mention ``match`` (all calls when empty)."""

    operation: str
    error: Callable[[], BaseException]
    match: str = ""
    times: int | None = 1
    """How many matching calls fail; ``None`` = every one."""
    fired: int = 0

    def applies(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if operation != self.operation or (self.times is not None and self.fired >= self.times):
            return False
        if not self.match:
            return True
        text = " ".join(str(a) for a in (*args, *kwargs.values()))
        return self.match in text


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def check(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with self._lock:
            for fault in self.faults:
                if fault.applies(operation, args, kwargs):
                    fault.fired += 1
                    raise fault.error()


class _Faulty:
    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self._inner = inner
        self.plan = plan

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.plan.check(name, args, kwargs)
            return attribute(*args, **kwargs)

        return call


class FaultyWarehouse(_Faulty):
    """A ``Warehouse`` whose calls consult a :class:`FaultPlan` first."""

    def __init__(self, inner: Warehouse, plan: FaultPlan | None = None) -> None:
        super().__init__(inner, plan or FaultPlan())
        self.project = inner.project


class FaultyKeyManager(_Faulty):
    """A ``KeyManager`` whose calls consult a :class:`FaultPlan` first."""

    def __init__(self, inner: KeyManager, plan: FaultPlan | None = None) -> None:
        super().__init__(inner, plan or FaultPlan())
        self.key_name = inner.key_name
