"""A service's routes declared straight on its FastAPI app, under a path prefix and a tag.

FastAPI builds a route's state (the analysis of its parameters and dependencies, its request
and response models) when the route is declared, and an included ``APIRouter``'s routes once
more for the app, at its first request: each route of a service built on routers cost two
builds. Declared on the app, as here, each is built once, with what an included router gave
it: the prefixed path, the tag, and the app's own responses and dependency overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Routes:
    """``app.get`` / ``post`` / ``put`` / ``delete`` with ``prefix`` before each path and ``tag``."""

    def __init__(self, app: FastAPI, tag: str, prefix: str = "") -> None:
        self._app = app
        self._tag = tag
        self._prefix = prefix

    def get(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._app.get(self._prefix + path, tags=[self._tag], **options)

    def post(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._app.post(self._prefix + path, tags=[self._tag], **options)

    def put(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._app.put(self._prefix + path, tags=[self._tag], **options)

    def delete(self, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self._app.delete(self._prefix + path, tags=[self._tag], **options)
