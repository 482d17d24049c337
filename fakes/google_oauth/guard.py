"""The bearer check Google's front end makes before any API method runs, as one ASGI middleware
both the BigQuery and the Cloud KMS emulators put in front of their routes.

A request without a usable ``Authorization: Bearer`` credential never reaches the service: it is
answered 401 with Google's JSON error for that service (:mod:`fakes.google_oauth.services`) and
the ``WWW-Authenticate`` challenge Google sends. The harness's own ``/_harness`` controls are
dispatched before the service's app (``harness.control.app.WithControls``), so they stay open.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.google_oauth.exceptions import Unauthenticated
from fakes.google_oauth.models import TokenAuthority
from fakes.google_oauth.services import ServiceProfile


class GoogleAuthGuard:
    """ASGI middleware: HTTP requests pass only with a credential ``authority`` accepts."""

    def __init__(self, app: Any, *, authority: TokenAuthority, profile: ServiceProfile) -> None:
        self.app = app
        self.authority = authority
        self.profile = profile

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key.lower() == b"authorization"),
            None,
        )
        try:
            self.authority.authenticate(authorization)
        except Unauthenticated as exc:
            await self._refuse(exc, scope, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, exc: Unauthenticated, scope: Any, send: Any) -> None:
        method = self.profile.method_name(scope["method"], scope["path"])
        body = exc.body(service=self.profile.service, method=method, legacy_errors=self.profile.legacy_errors)
        payload = json.dumps(body, indent=2).encode()
        headers = [
            (b"content-type", b"application/json; charset=UTF-8"),
            (b"www-authenticate", exc.www_authenticate.encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


__all__ = ["GoogleAuthGuard"]
