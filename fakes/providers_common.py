"""State shared by the OpenAI and Anthropic fakes: keys, faults, request log.

Both fakes answer the same questions — is this key issued, revoked or rate limited, must the
next request fail, what did clients send — so the bookkeeping lives here once and each provider
package only adds its key format, its error bodies and its routes (the moto split: state here,
wire format in ``app.py``). Nothing here knows about HTTP frameworks or respx, so the same state
drives the in-process mount and a fake served on a port.

Time: request timestamps come from the injected :class:`~harness.ports.Clock`. Delays are
*recorded*, never slept; the in-process mount turns a delay longer than the client's read timeout
into ``ReadTimeout``.
"""

from __future__ import annotations

import math
import random
import string
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from harness.ports import Clock

SECRET_HEADERS = frozenset({"authorization", "x-api-key"})
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
ID_ALPHABET = string.ascii_letters + string.digits

# A timeout fault "takes" this long: longer than any sane client read timeout.
NEVER = math.inf


def mask_key(key: str) -> str:
    """Mask a key the way OpenAI's "Incorrect API key provided" message does.

    Observed in many real 401 bodies: the first 8 characters, one ``*`` per hidden character, the
    last 4 (``sk-4sJHr*****...*****w8ZP`` for a 51-character key; ``test-ope***-key`` for
    ``test-openai-key``). Keys of 12 characters or fewer come back whole (``test-key``).
    """
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for the request log, with credentials masked so logs can be printed and stored."""
    masked: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} {mask_key(secret)}" if secret and lower == "authorization" else mask_key(value)
        masked[lower] = value
    return masked


@dataclass
class Fault:
    """The next ``remaining`` requests answer ``status`` (or, with ``status=None``, answer normally
    but take ``delay`` seconds). ``retry_after`` is seconds, or a raw header value such as an
    HTTP-date; ``headers`` are added to the faulty response (e.g. ``x-should-retry``)."""

    status: int | None
    remaining: int
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RateLimit:
    """A key that is over its limit until cleared."""

    retry_after: float | None = None


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


@dataclass
class ProviderState:
    """Keys, faults and the request log of one fake provider. Thread-safe (the emulator serves
    threads). Subclasses define :meth:`_mint_key`, :meth:`_mint_request_id` and the default models.
    """

    seed: int = 0
    clock: Clock | None = None
    models: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        if not self.models:
            self.models = self.default_models()
        self._initial_models = [dict(m) for m in self.models]
        self._clear()

    # ------------------------------------------------------------------ subclass hooks

    def default_models(self) -> list[dict[str, Any]]:
        return []

    def _mint_key(self, rng: random.Random) -> str:
        raise NotImplementedError

    def _mint_request_id(self, rng: random.Random) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle

    def _clear(self) -> None:
        self._key_rng = random.Random(f"{self.seed}:keys")
        self._id_rng = random.Random(f"{self.seed}:ids")
        self.valid_keys: set[str] = set()
        self.revoked_keys: set[str] = set()
        self.rate_limited: dict[str, RateLimit] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []

    def reset(self) -> None:
        """Back to the freshly built state: same seed, so the same keys get issued again."""
        with self._lock:
            self.models = [dict(m) for m in self._initial_models]
            self._clear()

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    # ------------------------------------------------------------------ keys

    def issue_key(self) -> str:
        """Mint a realistic-looking key (deterministic from the seed) and make it valid."""
        with self._lock:
            key = self._mint_key(self._key_rng)
            self.valid_keys.add(key)
            return key

    def add_key(self, key: str) -> str:
        """Accept a key chosen by the caller (e.g. one quoted in a scenario file)."""
        with self._lock:
            self.valid_keys.add(key)
            self.revoked_keys.discard(key)
            return key

    def revoke(self, key: str) -> None:
        with self._lock:
            self.valid_keys.discard(key)
            self.revoked_keys.add(key)

    def is_valid(self, key: str) -> bool:
        with self._lock:
            return key in self.valid_keys

    def rate_limit(self, key: str, *, retry_after: float | None = None) -> None:
        """Every request with ``key`` answers 429 until :meth:`clear_rate_limit`."""
        with self._lock:
            self.rate_limited[key] = RateLimit(retry_after)

    def clear_rate_limit(self, key: str) -> None:
        with self._lock:
            self.rate_limited.pop(key, None)

    def rate_limit_for(self, key: str) -> RateLimit | None:
        with self._lock:
            return self.rate_limited.get(key)

    # ------------------------------------------------------------------ faults

    def add_fault(
        self,
        status: int | None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        retry_after_ms: int | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a fault: the next ``times`` requests answer ``status`` (429, 500, 503, 529...).

        ``status=None`` with a ``delay`` answers normally but slowly; faults queue in order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, got {status}")
        if delay < 0:
            raise ValueError("delay must be >= 0")
        with self._lock:
            self._faults.append(Fault(status, times, retry_after, retry_after_ms, delay, dict(headers or {})))

    def add_timeout(self, *, times: int = 1, delay: float = NEVER) -> None:
        """The next ``times`` requests take ``delay`` seconds (default: never answer), which the
        in-process mount turns into ``ReadTimeout`` when it exceeds the client's read timeout."""
        self.add_fault(None, times=times, delay=delay)

    def take_fault(self) -> Fault | None:
        """Consume one use of the head fault; the app calls this once per request."""
        with self._lock:
            if not self._faults:
                return None
            head = self._faults[0]
            head.remaining -= 1
            if head.remaining == 0:
                self._faults.pop(0)
            return replace(head, headers=dict(head.headers))

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [replace(f) for f in self._faults]

    # ------------------------------------------------------------------ request log

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


def random_chars(rng: random.Random, n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def retry_after_headers(retry_after: float | str | None, retry_after_ms: int | None) -> dict[str, str]:
    """``retry-after`` in whole seconds when integral (what servers send) or verbatim when given as
    text (an HTTP-date), plus ``retry-after-ms``."""
    headers: dict[str, str] = {}
    if isinstance(retry_after, str):
        headers["retry-after"] = retry_after
    elif retry_after is not None:
        headers["retry-after"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return headers
