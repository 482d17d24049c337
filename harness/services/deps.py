"""Request-scoped dependencies: the platform, who is calling, and what the request carried.

Root-key and org-key checks are constant-time; an org key used on another org's path is a 403,
a missing or unknown key a 401.
"""

from __future__ import annotations

import hmac
import re
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from harness.onboarding import api_keys, orgs
from harness.onboarding.audit import Actor, ActorType
from harness.onboarding.errors import NotFound, Unauthenticated
from harness.onboarding.models import SLUG_PATTERN
from harness.onboarding.platform import Platform
from harness.services.settings import Settings

SLUG = re.compile(SLUG_PATTERN)


# The dependencies that neither block nor do I/O are coroutines: FastAPI runs a plain function
# dependency on a worker thread, a round trip per dependency per request.


async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


@dataclass(frozen=True)
class RequestMeta:
    method: str
    path: str
    body: bytes
    request_id: str
    idempotency_key: str | None
    ip_address: str | None
    user_agent: str | None

    def actor(self, actor_type: ActorType, actor_id: str | None) -> Actor:
        return Actor(actor_type, actor_id, self.request_id, self.ip_address, self.user_agent)


async def request_meta(
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    request_id: Annotated[str | None, Header(alias="X-Request-ID")] = None,
) -> RequestMeta:
    return RequestMeta(
        method=request.method,
        path=request.url.path,
        body=await request.body(),
        request_id=request_id or str(uuid.uuid4()),
        idempotency_key=idempotency_key,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


OrgSlug = Annotated[str, Path(pattern=SLUG_PATTERN, description="Organization slug")]
RootKey = Annotated[str | None, Header(alias="X-CA-Root-Key")]
OrgKey = Annotated[str | None, Header(alias="X-API-Key")]


def _is_root(settings: Settings, given: str) -> bool:
    return hmac.compare_digest(
        given.encode("utf-8"), settings.ca_root_api_key.get_secret_value().encode("utf-8")
    )


async def require_root(
    meta: Annotated[RequestMeta, Depends(request_meta)],
    settings: Annotated[Settings, Depends(get_settings)],
    root_key: RootKey = None,
) -> Actor:
    if not root_key:
        raise Unauthenticated("Missing root key: send it in the X-CA-Root-Key header")
    if not _is_root(settings, root_key):
        raise Unauthenticated("Invalid root key")
    return meta.actor(ActorType.ROOT, "root")


def require_org_access(
    org_slug: OrgSlug,
    meta: Annotated[RequestMeta, Depends(request_meta)],
    settings: Annotated[Settings, Depends(get_settings)],
    platform: Annotated[Platform, Depends(get_platform)],
    root_key: RootKey = None,
    api_key: OrgKey = None,
) -> Actor:
    """The org's own key, or the platform root key (an admin may act for any org)."""
    if root_key:
        if not _is_root(settings, root_key):
            raise Unauthenticated("Invalid root key")
        if not orgs.exists(platform, org_slug):  # an org key implies its org; root does not
            raise NotFound(f"Organization '{org_slug}' not found", code="ORG_NOT_FOUND")
        return meta.actor(ActorType.ROOT, "root")
    identity = api_keys.authenticate(platform, org_slug, api_key)
    return meta.actor(ActorType.ORG_API_KEY, identity.key_id)
