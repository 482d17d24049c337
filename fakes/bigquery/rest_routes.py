"""The REST emulator's routes, as plain Starlette routes with FastAPI's decorator shape.

A FastAPI route analyses its endpoint's signature when it is added (a model per parameter) and
resolves the parameters on every request; the emulator's endpoints take only path parameters and
the request, so neither is needed. Building the app's routes the FastAPI way was most of the
cost of building the app (which :class:`harness.emulators.Emulators` does at every reset), and
resolving the parameters a large share of routing a ``SELECT 1``. The routes stay in the app,
behind its middleware, in the order they are added, so their errors go through the same exception
handlers and a path answers as it did.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


class PlainRoutes:
    """``routes.get(path)``, ``routes.post(path)``...: decorators that add ``app``'s routes."""

    def __init__(self, app: FastAPI) -> None:
        self._routes = app.router.routes

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, "GET")

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, "POST")

    def put(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, "PUT")

    def patch(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, "PATCH")

    def delete(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, "DELETE")

    def route(self, path: str, *methods: str) -> Callable[[Endpoint], Endpoint]:
        def decorator(endpoint: Endpoint) -> Endpoint:
            self.add(path, endpoint, *methods)
            return endpoint

        return decorator

    def add(self, path: str, endpoint: Callable[..., Awaitable[Response]], *methods: str) -> None:
        """Serve ``methods`` on ``path`` with the coroutine function ``endpoint``, called with the
        path parameters it names and, if it names it, ``request``. Only ``methods``: Starlette
        would add HEAD to a GET route, which the emulator answers 405 like Google."""
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__qualname__}: the emulator's endpoints are coroutine functions")
        names = list(inspect.signature(endpoint).parameters)
        wants_request = "request" in names
        params = [name for name in names if name != "request"]

        async def plain(request: Request) -> Response:
            values = request.path_params
            arguments: dict[str, Any] = {name: values[name] for name in params}
            if wants_request:
                arguments["request"] = request
            return await endpoint(**arguments)

        route = Route(path, plain, methods=list(methods), name=endpoint.__name__)
        unknown = set(params) - set(route.param_convertors)
        if unknown:
            raise TypeError(f"{endpoint.__qualname__}: {sorted(unknown)} are not parameters of {path}")
        route.methods = set(methods)
        self._routes.append(route)
