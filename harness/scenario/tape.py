"""Provider exchanges on the fake tier: listed on every run, served back on replay.

The services reach OpenAI / Anthropic through the respx routes of ``ProviderMocks`` (one route per
provider, named ``openai`` / ``anthropic``). :class:`ProviderTape` wraps each route's side effect:

* **record**: every exchange is appended to ``calls`` with the step it happened in, the method,
  path, query, status and timing; with ``keep_bodies`` (``harness run --record``) the response
  headers and body too (or the transport error, e.g. a ``ReadTimeout``).
* **replay**: given the exchanges of a record, the *n*-th request for a (provider, method, path)
  is answered with the *n*-th recorded response for that triple (its status, headers and body —
  as scrubbed in the record — or its transport error) instead of the fake's generated one. When a
  triple's recordings run out, the fake answers. A served recording also consumes one pending
  fault of that provider, as the original request did, so faults armed by the scenario line up.

The query string is not part of the match: it carries times derived from the clock, which a
replay restores anyway, and a recorded response is better than none when a page boundary moved.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from harness.scenario.records import ProviderExchange, Scrubber

_DROPPED = frozenset({"content-length", "content-encoding", "transfer-encoding", "date"})


class ProviderTape:
    def __init__(
        self,
        mocks: Any,
        scrub: Scrubber,
        *,
        keep_bodies: bool = False,
        replay: Iterable[ProviderExchange] = (),
    ) -> None:
        self.calls: list[ProviderExchange] = []
        self.served = 0
        self.step: int | None = None
        self._scrub = scrub
        self._keep = keep_bodies
        self._queues: dict[tuple[str, str, str], deque[ProviderExchange]] = defaultdict(deque)
        for exchange in replay:
            if exchange.recorded:
                self._queues[(exchange.provider, exchange.method, exchange.path)].append(exchange)
        self._states = {"openai": mocks.openai, "anthropic": mocks.anthropic}
        self._routes = {name: mocks.router.routes[name] for name in ("openai", "anthropic")}
        self._originals = {name: route.side_effect for name, route in self._routes.items()}
        for name, route in self._routes.items():
            route.side_effect = self._wrap(name, self._originals[name])

    def close(self) -> None:
        """Give the routes their own side effects back (backends may outlive the run)."""
        for name, route in self._routes.items():
            route.side_effect = self._originals[name]

    def _wrap(
        self, provider: str, inner: Callable[[httpx.Request], httpx.Response]
    ) -> Callable[[httpx.Request], httpx.Response]:
        def side_effect(request: httpx.Request) -> httpx.Response:
            started = time.perf_counter()
            exchange = ProviderExchange(
                step=self.step,
                provider=provider,
                method=request.method,
                path=request.url.path,
                query=request.url.query.decode() if isinstance(request.url.query, bytes) else "",
                request_headers=self._scrub.headers(
                    {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "x-api-key")}
                ),
            )
            self.calls.append(exchange)
            queue = self._queues.get((provider, request.method, request.url.path))
            try:
                response = self._serve(provider, queue.popleft(), request) if queue else inner(request)
            except httpx.TransportError as exc:
                exchange.error = f"{type(exc).__name__}: {exc}"
                exchange.elapsed_ms = (time.perf_counter() - started) * 1000
                raise
            exchange.status = response.status_code
            exchange.elapsed_ms = (time.perf_counter() - started) * 1000
            if self._keep:
                body = response.content.decode("utf-8", errors="replace")
                self._scrub.learn(body)
                exchange.headers = {k: v for k, v in response.headers.items() if k.lower() not in _DROPPED}
                exchange.body = body
            return response

        return side_effect

    def _serve(self, provider: str, recorded: ProviderExchange, request: httpx.Request) -> httpx.Response:
        self.served += 1
        self._states[provider].take_fault()
        if recorded.error is not None:
            name, _, message = recorded.error.partition(": ")
            error = getattr(httpx, name, None)
            if not (isinstance(error, type) and issubclass(error, httpx.TransportError)):
                error = httpx.TransportError
            raise error(f"(recorded) {message}", request=request)
        headers = {k: v for k, v in (recorded.headers or {}).items() if k.lower() not in _DROPPED}
        return httpx.Response(
            recorded.status or 200, headers=headers, content=(recorded.body or "").encode("utf-8")
        )
