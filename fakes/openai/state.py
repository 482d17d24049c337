"""State of the fake OpenAI API: which keys exist, which fail, and what clients sent.

Keys look like real project keys (``sk-proj-`` + url-safe characters with the ``T3BlbkFJ``
marker real keys carry) so code that sniffs prefixes or lengths behaves as in production; they
are deterministic from the seed so a scenario replays with the same keys.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fakes.providers_common import ProviderState, random_chars

# Illustrative catalogue in the real shape (id, object, created, owned_by); the ids are real
# models, the timestamps are plausible, not authoritative.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "gpt-3.5-turbo", "object": "model", "created": 1677610602, "owned_by": "openai"},
    {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"},
)


@dataclass
class OpenAIState(ProviderState):
    """Keys, faults and request log of the fake OpenAI API (see :class:`ProviderState`)."""

    organization: str = "org-harnessfake000000000000"

    def default_models(self) -> list[dict[str, Any]]:
        return [dict(m) for m in DEFAULT_MODELS]

    def _mint_key(self, rng: random.Random) -> str:
        return f"sk-proj-{random_chars(rng, 74)}T3BlbkFJ{random_chars(rng, 74)}"

    def _mint_request_id(self, rng: random.Random) -> str:
        return "req_" + "".join(rng.choice("0123456789abcdef") for _ in range(32))

    def model(self, model_id: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m["id"] == model_id), None)


__all__ = ["DEFAULT_MODELS", "OpenAIState"]
