"""The token endpoint's app: ``POST /token``, as ``https://oauth2.googleapis.com/token`` answers it.

The form body is read as ``application/x-www-form-urlencoded`` (what google-auth posts); a good
grant answers ``{"access_token", "expires_in", "token_type": "Bearer"}``, a bad one Google's
``{"error", "error_description"}`` with HTTP 400 (:mod:`fakes.google_oauth.exceptions`). Anything
else is a 404 in the same OAuth error shape, worded by us (Google answers an HTML page there).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fakes.google_oauth.exceptions import TokenEndpointError
from fakes.google_oauth.models import TokenAuthority

TOKEN_PATH = "/token"
_NO_STORE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}


def create_app(authority: TokenAuthority) -> Starlette:
    """The token endpoint over ``authority`` (which also judges the APIs' bearer credentials)."""

    async def token(request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            answer = authority.grant(form)
        except TokenEndpointError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=_NO_STORE)
        return JSONResponse(answer, headers=_NO_STORE)

    async def not_found(request: Request) -> JSONResponse:
        return JSONResponse(
            {"error": "invalid_request", "error_description": f"this endpoint serves only POST {TOKEN_PATH}"},
            status_code=404,
        )

    return Starlette(
        routes=[Route(TOKEN_PATH, token, methods=["POST"])],
        exception_handlers={404: not_found, 405: not_found},
    )


__all__ = ["TOKEN_PATH", "create_app"]
