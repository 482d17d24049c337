"""Starlette's ``TestClient``, crossing to the app's event loop once per request.

``TestClient`` runs the ASGI app on a blocking portal (a thread with an event loop) and hands
every step of an exchange across threads: the events it waits on, the body stream, each body
chunk, the cancel check, the close; eight or more round trips, which is most of what a small
in-process request costs (about three quarters of a ``GET /health``). :class:`AsgiClient` is that
``TestClient`` (the same portal and lifespan, base URL, headers, cookies, client address and
``raise_server_exceptions``) whose HTTP requests go through the HTTP library's own
``ASGITransport`` in one call on the portal: the request body goes in whole and the response comes
back whole once the app has returned. WebSocket sessions are not served.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from starlette import testclient

httpx = testclient.httpx
"""The HTTP library Starlette's ``TestClient`` is built on."""

TESTCLIENT_ADDRESS = ("testclient", 50000)
"""The client address ``TestClient`` gives the app, kept so the apps see the same requests."""


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
