"""Starlette's ``TestClient``, crossing to the app's event loop once per request.

``TestClient`` runs the ASGI app on a blocking portal (a thread with an event loop) and hands
every step of an exchange across threads: the events it waits on, the body stream, each body
chunk, the cancel check, the close; eight or more round trips, which is most of what a small
in-process request costs (about three quarters of a ``GET /health``). :class:`AsgiClient` is that
``TestClient`` (the same portal and lifespan, base URL, headers, cookies, client address and
``raise_server_exceptions``) whose HTTP requests go through the HTTP library's own
``ASGITransport`` in one call on the portal: the request body goes in whole and the response comes
back whole once the app has returned. WebSocket sessions are not served.

Starting a portal is a new thread and a new event loop, and the sync endpoints' worker threads
belong to that loop: together a few milliseconds a client, and an in-process scenario run opens
three (the two services and the provider fakes). So a client's portal is lent from a small pool
(:class:`PortalPool`) and kept for the next client when it closes, with its loop's worker threads;
clients open at the same time each get their own, as with ``TestClient``.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Self

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.stapled import StapledObjectStream
from starlette import testclient

httpx = testclient.httpx
"""The HTTP library Starlette's ``TestClient`` is built on."""

TESTCLIENT_ADDRESS = ("testclient", 50000)
"""The client address ``TestClient`` gives the app, kept so the apps see the same requests."""


class PortalPool:
    """Blocking portals kept between the clients that borrow them, one borrower at a time.

    At most ``keep`` idle portals are kept (their threads and loops idle); a portal returned
    beyond that, or by a borrower that failed, is stopped, as ``TestClient`` stops its own."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._idle: list[tuple[BlockingPortal, AbstractContextManager[BlockingPortal]]] = []

    @contextlib.contextmanager
    def lend(self) -> Iterator[BlockingPortal]:
        with self._lock:
            kept = self._idle.pop() if self._idle else None
        if kept is None:
            starter = start_blocking_portal()
            kept = (starter.__enter__(), starter)
        portal, starter = kept
        try:
            yield portal
        except BaseException as exc:
            starter.__exit__(type(exc), exc, exc.__traceback__)
            raise
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(kept)
                return
        starter.__exit__(None, None, None)

    def close(self) -> None:
        """Stop the idle portals. Run at exit, while their threads still run: left to the
        interpreter's finalisation, stopping one would wait for a thread that no longer runs."""
        with self._lock:
            idle, self._idle = self._idle, []
        for _, starter in idle:
            starter.__exit__(None, None, None)


PORTALS = PortalPool(keep=8)
"""The process's pool: enough for a few in-process runs at once (three clients each)."""
atexit.register(PORTALS.close)


class AsgiClient(testclient.TestClient):
    """A ``TestClient`` whose HTTP requests take one portal call each (see the module docstring)."""

    __test__ = False

    def __init__(
        self,
        app: Any,
        *args: Any,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            app, *args, raise_server_exceptions=raise_server_exceptions, root_path=root_path, **kwargs
        )
        inner = self.app  # as TestClient wraps it (an ASGI2 app becomes ASGI3)
        lifespan_state = self.app_state

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            """The app, given the lifespan's state in each request's scope as ``TestClient`` does."""
            await inner({**scope, "state": lifespan_state.copy()}, receive, send)

        asgi = httpx.ASGITransport(
            with_state,
            raise_app_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=TESTCLIENT_ADDRESS,
        )
        self._transport = _PortalTransport(self._portal_factory, asgi)

    def __enter__(self) -> Self:
        """``TestClient.__enter__`` (the app's lifespan started on the portal, stopped on exit),
        on a portal lent by :data:`PORTALS` instead of a new one."""
        if self.async_backend["backend"] != "asyncio" or self.async_backend["backend_options"]:
            return super().__enter__()  # the pool's portals run asyncio with its defaults
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(PORTALS.lend())

            @stack.callback
            def reset_portal() -> None:
                self.portal = None

            send = anyio.create_memory_object_stream[Any](math.inf)
            receive = anyio.create_memory_object_stream[Any](math.inf)
            for channel in (*send, *receive):
                stack.callback(channel.close)
            self.stream_send = StapledObjectStream(*send)
            self.stream_receive = StapledObjectStream(*receive)
            self.task = portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)

            @stack.callback
            def wait_shutdown() -> None:
                portal.call(self.wait_shutdown)

            stack.callback(self._transport.close)
            self.exit_stack = stack.pop_all()
        return self


class _PortalTransport(httpx.BaseTransport):
    def __init__(
        self,
        portal_factory: Callable[[], AbstractContextManager[Any]],  # TestClient's blocking portal
        asgi: Any,
    ) -> None:
        self._portal_factory = portal_factory
        self._asgi = asgi

    def handle_request(self, request: Any) -> Any:
        if request.url.scheme in {"ws", "wss"}:
            raise NotImplementedError("AsgiClient serves HTTP only; use TestClient for WebSockets")
        request.read()  # whole, so the async transport can stream it on the portal's loop
        with self._portal_factory() as portal:
            status, headers, body = portal.call(self._exchange, request)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    async def _exchange(self, request: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return response.status_code, response.headers.raw, body
