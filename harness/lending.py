"""Objects dear to build, built once and lent to one borrower at a time.

A FastAPI app costs tens of milliseconds to build (its routes' dependency graphs, pydantic models)
and an in-process scenario run uses it for less; nothing in it depends on the run but the state it
serves. So the service apps (:mod:`harness.services.app_pool`) and the provider fakes' apps
(:mod:`fakes.provider_mocks`) are kept per factory on a :class:`Shelf` and lent: each borrower
sets its own state on the one it gets and clears it when done, so a finished run's state is not
kept alive. Borrowers in parallel each get their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Shelf(Generic[T]):
    """Kept objects by key (their factory), each lent to one borrower at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: dict[Hashable, list[T]] = {}

    @contextmanager
    def lend(self, key: Hashable, build: Callable[[], T]) -> Iterator[T]:
        """A kept object of ``key``, or ``build()``'s; kept again when the block ends."""
        with self._lock:
            free = self._free.setdefault(key, [])
            kept = free.pop() if free else None
        lent = build() if kept is None else kept
        try:
            yield lent
        finally:
            with self._lock:
                self._free[key].append(lent)
