"""Provider delays enacted on the wire, for the OpenAI / Anthropic fakes served on a port.

The fake apps only *record* a fault's delay (``ProviderState.add_timeout`` / ``add_fault(delay=)``);
in-process, the respx mount turns it into ``ReadTimeout``. Served over HTTP, the client's own read
timeout must fire, so this ASGI wrapper holds the finished response back for the recorded delay —
forever for a timeout fault — and drops it once the client has given up and disconnected. The
harness's own emulator-tier clients may ask to be told at once instead (:mod:`harness.faults.held`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fakes.providers.base import ProviderState
from harness.faults.held import HELD, REPORT, TIMEOUT_FAULT_HEADER

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class DelayedResponses:
    """Wraps a provider fake app; ``request_id_header`` is how its responses name their request."""

    def __init__(self, app: Any, state: ProviderState, request_id_header: str) -> None:
        self.app = app
        self.state = state
        self._header = request_id_header.lower().encode()

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        delay = self._delay(held)
        if math.isinf(delay) and _asks_for_report(scope):
            await _report_held(send)
            return
        if delay > 0 and await self._client_left(receive, delay):
            return
        for message in held:
            await send(message)

    def _delay(self, held: list[Message]) -> float:
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is None:
            return 0.0
        request_id = next(
            (value.decode() for name, value in start.get("headers", []) if name.lower() == self._header), None
        )
        entry = self.state.find_request(request_id)
        return entry.delay if entry is not None else 0.0

    @staticmethod
    async def _client_left(receive: Receive, delay: float) -> bool:
        """Wait up to ``delay`` seconds (no limit when infinite); True if the client disconnected."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        try:
            await asyncio.wait_for(disconnected(), timeout=None if math.isinf(delay) else delay)
        except TimeoutError:
            return False
        return True


def _asks_for_report(scope: Message) -> bool:
    wanted = (TIMEOUT_FAULT_HEADER.encode(), REPORT.encode())
    return any((name.lower(), value) == wanted for name, value in scope.get("headers", []))


async def _report_held(send: Send) -> None:
    """The answer a harness client asked for instead of the hold (:mod:`harness.faults.held`)."""
    headers = [(TIMEOUT_FAULT_HEADER.encode(), HELD.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 504, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


__all__ = ["DelayedResponses"]
