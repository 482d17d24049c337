"""OpenAI credential validation: ``GET {base}/v1/models`` with ``Authorization: Bearer <key>``.

A 401 comes back as ``CredentialCheck(valid=False, status=401, error_type="invalid_request_error",
message="Incorrect API key provided: sk-proj-****...")`` — OpenAI's own words, so the API can show
the user exactly what OpenAI said.
"""

from __future__ import annotations

from harness.ports import Provider
from harness.providers.http import ModelsEndpointValidator

OPENAI_BASE_URL = "https://api.openai.com"


class OpenAIValidator(ModelsEndpointValidator):
    """A :class:`~harness.ports.CredentialValidator` for OpenAI keys (see the base class for the
    constructor: ``base_url``, ``client``, ``timeout``, ``retry``, ``sleep``, ``clock``)."""

    provider = Provider.OPENAI
    default_base_url = OPENAI_BASE_URL

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}
