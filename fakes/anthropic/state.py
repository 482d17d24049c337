"""State of the fake Anthropic API: which keys exist, which fail, and what clients sent.

Keys look like real ones (``sk-ant-api03-`` + url-safe characters ending in ``AA``, 108 characters)
and are deterministic from the seed; request ids look like the real ``req_011C...`` ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fakes.providers_common import ID_ALPHABET, ProviderState, random_chars

# The four documented ModelInfo fields (platform.claude.com/docs/en/api/models). Newer API
# versions add optional fields (capabilities, max_tokens...); a test can add them per model.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    {
        "type": "model",
        "id": "claude-opus-4-20250514",
        "display_name": "Claude Opus 4",
        "created_at": "2025-05-22T00:00:00Z",
    },
    {
        "type": "model",
        "id": "claude-sonnet-4-20250514",
        "display_name": "Claude Sonnet 4",
        "created_at": "2025-05-22T00:00:00Z",
    },
    {
        "type": "model",
        "id": "claude-3-5-haiku-20241022",
        "display_name": "Claude Haiku 3.5",
        "created_at": "2024-10-22T00:00:00Z",
    },
)

# anthropic-version values the API accepts (platform.claude.com/docs/en/api/versioning lists
# 2023-01-01, 2023-06-01 and 2026-10-21; anthropic SDK 2.x sends 2026-10-21).
SUPPORTED_VERSIONS = frozenset({"2023-01-01", "2023-06-01", "2026-10-21"})


@dataclass
class AnthropicState(ProviderState):
    """Keys, faults and request log of the fake Anthropic API (see :class:`ProviderState`)."""

    organization_id: str = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"

    def default_models(self) -> list[dict[str, Any]]:
        return [dict(m) for m in DEFAULT_MODELS]

    def _mint_key(self, rng: random.Random) -> str:
        return f"sk-ant-api03-{random_chars(rng, 93)}AA"

    def _mint_request_id(self, rng: random.Random) -> str:
        return "req_011C" + random_chars(rng, 20, ID_ALPHABET)

    def sorted_models(self) -> list[dict[str, Any]]:
        """Most recently released first, as the real list is documented to be."""
        return sorted(self.models, key=lambda m: m["created_at"], reverse=True)

    def model(self, model_id: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m["id"] == model_id), None)


__all__ = ["DEFAULT_MODELS", "SUPPORTED_VERSIONS", "AnthropicState"]
