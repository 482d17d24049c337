"""The control plane in front of a service that is not a FastAPI app of ours (each emulator's
port): ``/_harness`` goes to a small app of its own, every other path to the service untouched.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from harness.control import CONTROL_PREFIX
from harness.control.routes import control_router
from harness.control.target import Controlled
from harness.services import errors
from harness.services.settings import Settings


def control_app(controlled: Controlled, settings: Settings) -> FastAPI:
    """Only the controls; ``settings`` holds the root key. No OpenAPI document, no docs pages."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    errors.install(app)
    app.include_router(control_router(controlled))
    return app


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class WithControls:
    """An ASGI app: the control paths to ``controls``, everything else to ``service``."""

    def __init__(self, controls: Any, service: Any) -> None:
        self.controls = controls
        self.service = service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_control_path(scope["path"]):
            await self.controls(scope, receive, send)
        else:
            await self.service(scope, receive, send)


__all__ = ["WithControls", "control_app", "is_control_path"]
