"""The request log of a fake provider: what clients sent, with credentials masked."""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fakes.providers.keys import mask_headers


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it. Credentials in ``headers`` are masked."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    request_id: str
    status: int
    at: datetime
    delay: float = 0.0
    fault: bool = False


class RequestLog(ABC):
    """Every request in order, stamped on the injected clock, with the request id the fake sent."""

    seed: int
    _lock: threading.RLock

    @abstractmethod
    def _mint_request_id(self, rng: random.Random) -> str:
        """A request id in the provider's format."""

    @abstractmethod
    def now(self) -> datetime:
        """The time a request is stamped with."""

    def _clear_requests(self) -> None:
        self._id_rng = random.Random(f"{self.seed}:ids")
        self._requests: list[RecordedRequest] = []

    def new_request_id(self) -> str:
        with self._lock:
            return self._mint_request_id(self._id_rng)

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        request_id: str,
        status: int,
        delay: float = 0.0,
        fault: bool = False,
    ) -> RecordedRequest:
        entry = RecordedRequest(
            method=method,
            path=path,
            query=query,
            headers=mask_headers(headers),
            request_id=request_id,
            status=status,
            at=self.now(),
            delay=delay,
            fault=fault,
        )
        with self._lock:
            self._requests.append(entry)
        return entry

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def find_request(self, request_id: str | None) -> RecordedRequest | None:
        if not request_id:
            return None
        with self._lock:
            for entry in reversed(self._requests):
                if entry.request_id == request_id:
                    return entry
        return None
