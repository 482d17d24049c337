"""Fault injection around the ports: make a chosen warehouse or KMS call fail, a chosen number of times.

Wrappers, not patches: the domain code runs unchanged against a ``FaultyWarehouse`` or
``FaultyKeyManager`` exactly as against the real thing, which is how tests prove that a failure
at any step leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.faults.backend import ANY
from harness.faults.proxy import PortProxy
from harness.ports import KeyManager, Warehouse


@dataclass
class Trigger:
    """Which calls something happens at: ``operation`` calls whose arguments mention ``match`` (all
    of them when empty), skipping the first ``after`` of those, then ``times`` of them."""

    operation: str
    match: str = field(default="", kw_only=True)
    times: int | None = field(default=1, kw_only=True)
    """How many matching calls it fires at; ``None`` = every one."""
    after: int = field(default=0, kw_only=True)
    """How many matching calls pass untouched first (aim at the N-th call with ``after=N-1``)."""
    seen: int = field(default=0, kw_only=True)
    fired: int = field(default=0, kw_only=True)

    def applies(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Count a matching call and say whether this one fires (call under the plan's lock)."""
        if operation != self.operation and self.operation != ANY:
            return False
        if self.match and self.match not in " ".join(str(a) for a in (*args, *kwargs.values())):
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass
class Fault(Trigger):
    """Make the matching call fail with ``error()`` instead of reaching the port."""

    error: Callable[[], BaseException]


@dataclass
class Hook(Trigger):
    """Run ``action`` just before the matching call reaches the port: how a test drives an
    interleaving (another request landing mid-flow) deterministically, without threads or sleeps."""

    action: Callable[[], object]


_T = TypeVar("_T", Fault, Hook)


@dataclass
class FaultPlan:
    faults: list[Fault | Hook] = field(default_factory=list)
    calls: int = 0
    """Every call that went through the plan, fired or not: how a test learns how many port calls
    a flow makes, to then fail each of them in turn."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: _T) -> _T:
        self.faults.append(fault)
        return fault

    def check(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with self._lock:
            self.calls += 1
            fired = [f for f in self.faults if f.applies(operation, args, kwargs)]
        # Hooks run outside the lock: they may call the port themselves (through the inner port).
        for trigger in fired:
            if isinstance(trigger, Hook):
                trigger.action()
        for trigger in fired:
            if isinstance(trigger, Fault):
                raise trigger.error()


class _Faulty(PortProxy):
    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        super().__init__(inner)
        self.plan = plan

    def _call(
        self, name: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        self.plan.check(name, args, kwargs)
        return method(*args, **kwargs)


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
