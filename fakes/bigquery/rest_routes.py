"""The routes every query goes through, registered as plain Starlette routes.

A FastAPI route resolves its endpoint's parameters per request (path parameters validated into
the signature, dependencies solved); jobs.query and getQueryResults read their path parameters
themselves, so they skip that work, which costs more than the rest of routing a ``SELECT 1``.
They stay inside the app, behind its middleware, so their errors go through the same exception
handlers as every other method's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.routing import Route

Endpoint = Callable[[Request], Awaitable[Response]]


def hot_route(app: FastAPI, path: str, endpoint: Endpoint, method: str) -> None:
    """Serve ``method`` on ``path`` with ``endpoint`` (path parameters in ``request.path_params``).
    Only ``method``: Starlette would add HEAD to a GET route, which FastAPI's routes answer 405."""
    route = Route(path, endpoint, methods=[method])
    route.methods = {method}
    app.router.routes.append(route)
