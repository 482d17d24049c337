"""Anthropic credential validation: ``GET {base}/v1/models`` with ``x-api-key`` and
``anthropic-version: 2023-06-01``.

``x-api-key`` is the documented header; the version is pinned because Anthropic rejects a request
without one (400 "anthropic-version: header is required") and because 2023-06-01 is accepted by
every API version line so far, so an upgrade on their side cannot break validation.
"""

from __future__ import annotations

from harness.ports import Provider
from harness.providers.http import ModelsEndpointValidator

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


class AnthropicValidator(ModelsEndpointValidator):
    """A :class:`~harness.ports.CredentialValidator` for Anthropic keys (constructor: see the base
    class — ``base_url``, ``client``, ``timeout``, ``retry``, ``sleep``, ``clock``)."""

    provider = Provider.ANTHROPIC
    default_base_url = ANTHROPIC_BASE_URL

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
