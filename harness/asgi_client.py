"""Starlette's ``TestClient``, crossing to the app's event loop once per request.

``TestClient`` runs the ASGI app on a blocking portal (a thread with an event loop) and hands
every step of an exchange across threads: the events it waits on, the body stream, each body
chunk, the cancel check, the close; eight or more round trips, which is most of what a small
in-process request costs (about three quarters of a ``GET /health``). :class:`AsgiClient` is that
``TestClient`` (the same portal and lifespan, scope, base URL, headers, cookies, and errors as
``raise_server_exceptions`` asks) whose HTTP transport runs the whole exchange in one call on the
portal: the request body goes in at once and the response comes back whole, once the app has
returned (streamed bodies and background tasks included, which is when ``TestClient``'s reading
of a body ends too). WebSocket sessions are ``TestClient``'s own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import anyio
from starlette import testclient
from starlette.types import Message

httpx = testclient.httpx
"""The HTTP library Starlette's ``TestClient`` is built on."""


class AsgiClient(testclient.TestClient):
    """A ``TestClient`` whose HTTP requests take one portal call each (see the module docstring)."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made = self._transport
        assert isinstance(made, testclient._TestClientTransport)
        self._transport = _OneCallTransport(
            made.app,
            portal_factory=made.portal_factory,
            raise_server_exceptions=made.raise_server_exceptions,
            root_path=made.root_path,
            client=made.client,
            app_state=made.app_state,
        )


@dataclass
class _Exchange:
    """What the app answered: ``status`` None when it never started a response."""

    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    body_complete: bool = False
    trailers_expected: bool = False
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    debug: dict[str, Any] | None = None
    error: Exception | None = None


class _OneCallTransport(testclient._TestClientTransport):
    def handle_request(self, request: Any) -> Any:
        if request.url.scheme in {"ws", "wss"}:
            return super().handle_request(request)
        scope = self._scope(request)
        with self.portal_factory() as portal:
            exchange = portal.call(self._exchange, scope, request.read())
        if exchange.error is not None and self.raise_server_exceptions:
            raise exchange.error
        if exchange.status is None:
            if self.raise_server_exceptions:
                raise AssertionError("TestClient did not receive any response.")
            return httpx.Response(500, headers=[], stream=httpx.ByteStream(b""), request=request)
        body = b"" if request.method == "HEAD" else b"".join(exchange.chunks)
        response = httpx.Response(
            exchange.status, headers=exchange.headers, stream=httpx.ByteStream(body), request=request
        )
        if exchange.trailers_expected:
            response.extensions["http.response.trailers"] = exchange.trailers
        if exchange.debug is not None:
            response.extensions["http.response.debug"] = exchange.debug
            if "template" in exchange.debug:
                response.template = exchange.debug["template"]  # type: ignore[attr-defined]
            if "context" in exchange.debug:
                response.context = exchange.debug["context"]  # type: ignore[attr-defined]
        return response

    def _scope(self, request: Any) -> dict[str, Any]:
        """The ASGI scope ``TestClient`` builds for an HTTP request."""
        url = request.url
        port = url.port if url.port is not None else {"http": 80, "https": 443}[url.scheme]
        headers = [] if "host" in request.headers else [(b"host", url.netloc)]
        headers += [(key.lower().encode(), value.encode()) for key, value in request.headers.multi_items()]
        return {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": self.root_path,
            "scheme": url.scheme,
            "query_string": url.query.decode(encoding="ascii").encode(),
            "headers": headers,
            "client": self.client,
            "server": [url.raw_host.decode(encoding="ascii"), port],
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": self.app_state.copy(),
        }

    async def _exchange(self, scope: dict[str, Any], body: bytes) -> _Exchange:
        """Run the app over one request on the portal's event loop; what it sent, whole."""
        exchange = _Exchange()
        complete = anyio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if request_sent:
                await complete.wait()
                return {"type": "http.disconnect"}
            request_sent = True
            return {"type": "http.request", "body": body}

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                assert exchange.status is None, 'Received multiple "http.response.start" messages.'
                exchange.status = message["status"]
                exchange.headers = [(k.decode(), v.decode()) for k, v in message.get("headers", [])]
                exchange.trailers_expected = message.get("trailers", False)
            elif kind == "http.response.body":
                assert exchange.status is not None, (
                    'Received "http.response.body" without "http.response.start".'
                )
                assert not complete.is_set(), 'Received "http.response.body" after response completed.'
                assert not exchange.body_complete, 'Received "http.response.body" after body completed.'
                exchange.chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    exchange.body_complete = True
                    if not exchange.trailers_expected:
                        complete.set()
            elif kind == "http.response.trailers":
                assert exchange.trailers_expected, (
                    'Received "http.response.trailers" without declaring trailers.'
                )
                assert exchange.body_complete, 'Received "http.response.trailers" before body completed.'
                assert not complete.is_set(), 'Received "http.response.trailers" after response completed.'
                exchange.trailers.extend(message.get("headers", []))
                if not message.get("more_trailers", False):
                    complete.set()
            elif kind == "http.response.debug":
                exchange.debug = message["info"]

        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # the app's failure: raised or answered as TestClient does
            exchange.error = exc
        return exchange
