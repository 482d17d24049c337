"""Mount the fake OpenAI and Anthropic apps in-process: no socket is ever opened.

``ProviderMocks`` is one object usable as a context manager and as a decorator (respx style)::

    with ProviderMocks(openai_state, anthropic_state) as mocks:
        OpenAIValidator().validate(key)        # httpx → respx → fake OpenAI app
        openai.OpenAI(api_key=key).models.list()  # httpx2 (the SDKs' stack) → same router

How: one strict :class:`respx.MockRouter` (an unmatched host raises ``AllMockedAssertionError``, as
respx does by default) with one route per provider base URL. Each route's side effect runs the
provider's FastAPI app synchronously through Starlette's ``TestClient`` (one blocking portal per
app, opened on its first request; one portal call per request: :mod:`harness.asgi_client`).
The apps are built once per process and lent to one mount at a time, each serving the state of
the mount it is lent to.
respx intercepts ``httpx``; the official ``openai``/``anthropic`` SDKs now
ship on ``httpx2``, which respx does not see, so while active we also patch
``httpx2.HTTPTransport`` (and its async twin) to send through the *same* router — one set of
routes, one call log, the same strictness for both stacks.

Timeouts without waiting: the apps record each request's injected delay (see
``ProviderState.add_timeout``); after the app answers, the mount looks the delay up by the response's
request id and raises ``ReadTimeout`` if it exceeds the client's read timeout. Nothing sleeps.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from unittest import mock

import httpx
import httpx2
import respx
from fastapi import FastAPI
from respx.models import PassThrough
from starlette.testclient import TestClient

from fakes.anthropic import AnthropicState
from fakes.openai import OpenAIState
from fakes.providers.base import ProviderState
from harness.asgi_client import AsgiClient
from harness.lending import Shelf

OPENAI_BASE_URL = "https://api.openai.com"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"

# Hop-by-hop or encoding headers that no longer describe the (already decoded) body we forward.
_DROPPED_RESPONSE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

F = TypeVar("F", bound=Callable[..., Any])


class _StateSlot:
    """The state a kept provider app serves: the state of the mount that borrowed the app. The
    apps read their state only while answering, through this slot."""

    def __init__(self) -> None:
        self.target: ProviderState | None = None

    def __getattr__(self, name: str) -> Any:
        if self.target is None:  # pragma: no cover - an app is only reached while lent
            raise RuntimeError("this provider app is not lent to any mocks")
        return getattr(self.target, name)


def create_openai_app(state: Any) -> FastAPI:
    """The fake OpenAI app, its module imported on the first request to it."""
    from fakes.openai.rest import create_app

    return create_app(state)


def create_anthropic_app(state: Any) -> FastAPI:
    """The fake Anthropic app, its module imported on the first request to it."""
    from fakes.anthropic.rest import create_app

    return create_app(state)


_SHELF: Shelf[tuple[FastAPI, _StateSlot]] = Shelf()
"""Provider apps, each with the slot it reads its state through, by factory."""


@contextmanager
def _lent_app(factory: Callable[[Any], FastAPI], state: ProviderState) -> Iterator[FastAPI]:
    """``factory``'s app serving ``state``: a kept one, or a new one; kept again afterwards."""

    def build() -> tuple[FastAPI, _StateSlot]:
        slot = _StateSlot()
        return factory(slot), slot

    with _SHELF.lend(factory, build) as (app, slot):
        slot.target = state
        try:
            yield app
        finally:
            slot.target = None


@dataclass
class _Mount:
    """One provider app behind one base URL. The app is lent (:func:`_lent_app`), and its client
    (a blocking portal: a thread with an event loop) opened, on the first request that reaches
    it: a run that never calls a provider pays for neither."""

    name: str
    base_url: httpx.URL
    state: ProviderState
    factory: Callable[[Any], FastAPI]
    request_id_header: str
    client: TestClient | None = None

    def app_url(self, url: httpx.URL) -> str:
        """The URL as the app sees it: a base-URL path prefix (``https://proxy/openai``) is removed."""
        prefix = self.base_url.path.rstrip("/")
        path = url.path[len(prefix) :] if prefix and url.path.startswith(prefix) else url.path
        return str(url.copy_with(path=path or "/"))


def _forward_headers(headers: httpx.Headers | httpx2.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k.lower() not in _DROPPED_RESPONSE_HEADERS]


def _read_timeout(extensions: dict[str, Any]) -> float | None:
    timeout = extensions.get("timeout") or {}
    return timeout.get("read")


class ProviderMocks:
    """Route ``api.openai.com`` / ``api.anthropic.com`` (or the given base URLs) into the fakes.

    ``openai`` and ``anthropic`` are the states (built fresh when not given); ``router`` is the
    respx router, ``calls`` its call log. ``pass_through_hosts`` lets named hosts reach the network
    (everything else that is not a provider fails loudly). Not re-entrant; the states outlive it.
    """

    def __init__(
        self,
        openai_state: OpenAIState | None = None,
        anthropic_state: AnthropicState | None = None,
        *,
        openai_base_url: str = OPENAI_BASE_URL,
        anthropic_base_url: str = ANTHROPIC_BASE_URL,
        pass_through_hosts: Iterable[str] = (),
    ) -> None:
        self.openai = openai_state if openai_state is not None else OpenAIState()
        self.anthropic = anthropic_state if anthropic_state is not None else AnthropicState()
        self._mounts = [
            _Mount(
                "openai",
                httpx.URL(openai_base_url),
                self.openai,
                create_openai_app,
                "x-request-id",
            ),
            _Mount(
                "anthropic",
                httpx.URL(anthropic_base_url),
                self.anthropic,
                create_anthropic_app,
                "request-id",
            ),
        ]
        self.router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
        for mount in self._mounts:
            prefix = str(mount.base_url).rstrip("/")
            self.router.route(url__regex=rf"^{re.escape(prefix)}(/|\?|$)", name=mount.name).mock(
                side_effect=functools.partial(self._dispatch, mount)
            )
        for host in pass_through_hosts:
            self.router.route(host=host).pass_through()
        self._stack: ExitStack | None = None
        self._opening = threading.Lock()

    # ------------------------------------------------------------------ activation

    def __enter__(self) -> ProviderMocks:
        if self._stack is not None:
            raise RuntimeError("ProviderMocks is already active")
        stack = ExitStack()
        try:
            stack.enter_context(self.router)
            stack.enter_context(
                mock.patch.object(httpx2.HTTPTransport, "handle_request", self._httpx2_sync())
            )
            stack.enter_context(
                mock.patch.object(httpx2.AsyncHTTPTransport, "handle_async_request", self._httpx2_async())
            )
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        for mount in self._mounts:
            mount.client = None
        if stack is not None:
            stack.close()

    def __call__(self, func: F) -> F:
        """Decorator form: the function runs with the mocks active."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    @property
    def calls(self) -> respx.models.CallList:
        return self.router.calls

    def reset(self) -> None:
        """Reset both states and the call log."""
        self.openai.reset()
        self.anthropic.reset()
        self.router.reset()

    # ------------------------------------------------------------------ dispatch (httpx)

    def _client(self, mount: _Mount) -> TestClient:
        """The mount's client, opened on its first request and closed with the mocks."""
        with self._opening:
            if mount.client is None:
                if self._stack is None:  # pragma: no cover - the router only runs while active
                    raise RuntimeError("ProviderMocks is not active")
                app = self._stack.enter_context(_lent_app(mount.factory, mount.state))
                client = AsgiClient(app, base_url=str(mount.base_url), raise_server_exceptions=True)
                mount.client = self._stack.enter_context(client)
            return mount.client

    def _dispatch(self, mount: _Mount, request: httpx.Request) -> httpx.Response:
        """respx side effect: run the app for this request, enact a recorded delay as a timeout."""
        client = self._client(mount)
        request.read()
        inner = httpx2.Request(
            request.method,
            mount.app_url(request.url),
            headers=request.headers.multi_items(),
            content=request.content,
        )
        response = client.send(inner)
        body = response.read()
        entry = mount.state.find_request(response.headers.get(mount.request_id_header))
        delay = entry.delay if entry is not None else 0.0
        timeout = _read_timeout(request.extensions)
        if delay > 0 and (math.isinf(delay) or (timeout is not None and delay > timeout)):
            raise httpx.ReadTimeout(
                f"{mount.name} fake: response delayed {delay:g}s, read timeout is {timeout}s",
                request=request,
            )
        return httpx.Response(response.status_code, headers=_forward_headers(response.headers), content=body)

    # ------------------------------------------------------------------ httpx2 bridge

    def _to_httpx(self, request: httpx2.Request) -> httpx.Request:
        extensions = {"timeout": request.extensions["timeout"]} if "timeout" in request.extensions else {}
        return httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            content=request.content,
            extensions=extensions,
        )

    def _from_httpx(self, response: httpx.Response, request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            response.status_code,
            headers=_forward_headers(response.headers),
            content=response.content,
            request=request,
        )

    def _httpx2_sync(self) -> Callable[[httpx2.HTTPTransport, httpx2.Request], httpx2.Response]:
        original = httpx2.HTTPTransport.handle_request
        mocks = self

        def handle_request(transport: httpx2.HTTPTransport, request: httpx2.Request) -> httpx2.Response:
            request.read()
            try:
                response = mocks.router.handler(mocks._to_httpx(request))
            except PassThrough:
                return original(transport, request)
            except httpx.TransportError as exc:
                raise _as_httpx2_error(exc, request) from exc
            return mocks._from_httpx(response, request)

        return handle_request

    def _httpx2_async(self) -> Callable[..., Any]:
        original = httpx2.AsyncHTTPTransport.handle_async_request
        mocks = self

        async def handle_async_request(
            transport: httpx2.AsyncHTTPTransport, request: httpx2.Request
        ) -> httpx2.Response:
            await request.aread()
            try:
                response = mocks.router.handler(mocks._to_httpx(request))
            except PassThrough:
                return await original(transport, request)
            except httpx.TransportError as exc:
                raise _as_httpx2_error(exc, request) from exc
            return mocks._from_httpx(response, request)

        return handle_async_request


def _as_httpx2_error(exc: httpx.TransportError, request: httpx2.Request) -> Exception:
    """The httpx2 twin of an httpx transport error (``ReadTimeout`` → ``httpx2.ReadTimeout``)."""
    cls = getattr(httpx2, type(exc).__name__, httpx2.TransportError)
    return cls(str(exc), request=request)


__all__ = ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "ProviderMocks"]
