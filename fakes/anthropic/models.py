"""State of the fake Anthropic API: which keys exist, which fail, what clients sent, and the usage
and cost data of each organization.

Keys look like real ones (``sk-ant-api03-`` + url-safe characters ending in ``AA``, 108 characters)
and are deterministic from the seed; request ids look like the real ``req_011C...`` ids. Admin keys
(``sk-ant-admin01-...``, the only keys the Usage & Cost Admin API accepts) have the same shape.

Usage data (``GET /v1/organizations/usage_report/messages``): per active (org, day, model), one row
per workspace (the default workspace, ``workspace_id`` null, always; a second one sometimes), in
the ``standard`` tier and sometimes also ``batch``, with ``uncached_input_tokens``,
``cache_creation.{ephemeral_5m,ephemeral_1h}_input_tokens``, ``cache_read_input_tokens`` and
``output_tokens`` (the documented fields; no request counts: Anthropic does not report them).
Costs (``GET /v1/organizations/cost_report``): per usage row and token type, an amount in *cents*
(decimal string on the wire) at :data:`USAGE_PRICES`; cache reads cost 10% of the input price and,
as a documented simplification, cache writes cost the plain input price (real: 1.25x for 5 min,
2x for 1 h) and batch is not discounted, so a cost can be recomputed from a ``UsageRecord``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from fakes.providers.base import ProviderState
from fakes.providers.keys import ID_ALPHABET, random_chars
from fakes.providers.usage import UsageRow, usage_rng
from harness.ports import UsageRecord

# The four documented ModelInfo fields (platform.claude.com/docs/en/api/models). Newer API
# versions add optional fields (capabilities, max_tokens...); a test can add them per model. Under
# anthropic-version 2026-10-21 the app also serves ``lifecycle`` (see ``app.model_object``).
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

# Usage-report model ids: display name (for cost descriptions) and (input, output) dollars per 1M
# tokens. Illustrative list prices, close to the published ones.
USAGE_PRICES: dict[str, tuple[str, Decimal, Decimal]] = {
    "claude-sonnet-4-20250514": ("Claude Sonnet 4", Decimal("3"), Decimal("15")),
    "claude-3-5-haiku-20241022": ("Claude Haiku 3.5", Decimal("0.80"), Decimal("4")),
    "claude-opus-4-20250514": ("Claude Opus 4", Decimal("15"), Decimal("75")),
    "claude-3-7-sonnet-20250219": ("Claude Sonnet 3.7", Decimal("3"), Decimal("15")),
    "claude-opus-4-1-20250805": ("Claude Opus 4.1", Decimal("15"), Decimal("75")),
    "claude-sonnet-4-5-20250929": ("Claude Sonnet 4.5", Decimal("3"), Decimal("15")),
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", Decimal("1"), Decimal("5")),
}
EXTRA_MODEL_PRICE = (Decimal("3"), Decimal("15"))
CACHE_READ_FACTOR = Decimal("0.1")

# Dimensions of a usage result (all valid group_by[] values) and of a cost result.
USAGE_DIMS = (
    "api_key_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
    "account_id",
    "service_account_id",
)
COST_GROUP_BY = ("workspace_id", "description")
# Grouping a cost report by description also fills these (null otherwise).
DESCRIPTION_DIMS = ("model", "cost_type", "token_type", "context_window", "service_tier")
COST_DIMS = ("workspace_id", "description", *DESCRIPTION_DIMS, "inference_geo")
# Token types of the cost report (the usage field each one prices) and their description suffix;
# the ``token_type`` values are documented, the description wording is illustrative.
TOKEN_TYPES = (
    ("uncached_input_tokens", "Input Tokens"),
    ("output_tokens", "Output Tokens"),
    ("cache_read_input_tokens", "Input Tokens, Cache Read"),
    ("cache_creation.ephemeral_5m_input_tokens", "Input Tokens, Cache Write (5m)"),
    ("cache_creation.ephemeral_1h_input_tokens", "Input Tokens, Cache Write (1h)"),
)


@dataclass
class AnthropicState(ProviderState):
    """Keys, faults and request log of the fake Anthropic API (see :class:`ProviderState`)."""

    organization_id: str = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    organization_attribute: ClassVar[str] = "organization_id"

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

    # ------------------------------------------------------------------ usage data

    cost_mismatch_delta: ClassVar[Decimal] = Decimal("100")  # cents

    def _mint_admin_key(self, rng: random.Random) -> str:
        return f"sk-ant-admin01-{random_chars(rng, 93)}AA"

    def _usage_model_names(self, count: int) -> list[str]:
        names = list(USAGE_PRICES)[:count]
        names.extend(f"claude-harness-test-{index:02d}" for index in range(len(names), count))
        return names

    def display_name(self, model: str) -> str:
        if model in USAGE_PRICES:
            return USAGE_PRICES[model][0]
        return "Claude Harness Test " + model.rsplit("-", 1)[-1]

    def prices(self, model: str) -> dict[str, Decimal]:
        """Dollars per token for each usage field."""
        per_million = USAGE_PRICES[model][1:] if model in USAGE_PRICES else EXTRA_MODEL_PRICE
        price_in, price_out = (p / Decimal(1_000_000) for p in per_million)
        return {
            "uncached_input_tokens": price_in,
            "output_tokens": price_out,
            "cache_read_input_tokens": price_in * CACHE_READ_FACTOR,
            "cache_creation.ephemeral_5m_input_tokens": price_in,
            "cache_creation.ephemeral_1h_input_tokens": price_in,
        }

    def _org(self, key: str) -> dict[str, Any]:
        rng = usage_rng(self.seed, key, "org")
        workspaces = [None, "wrkspc_01" + random_chars(rng, 22, ID_ALPHABET)]
        return {
            "workspaces": [
                {"workspace_id": ws, "api_key_id": "apikey_01" + random_chars(rng, 22, ID_ALPHABET)}
                for ws in workspaces
            ]
        }

    def _draw_rows(self, rng: random.Random, org: Mapping[str, Any], model: str) -> list[UsageRow]:
        rows: list[UsageRow] = []
        for index, workspace in enumerate(org["workspaces"]):
            if index > 0 and rng.random() >= 0.6:
                continue
            for tier in ("standard", "batch"):
                if tier == "batch" and rng.random() >= 0.25:
                    continue
                calls = rng.randint(1, 300)
                uncached = calls * rng.randint(100, 2000)
                one_hour = rng.randint(0, uncached // 10) if rng.random() < 0.5 else 0
                dims = {
                    **workspace,
                    "model": model,
                    "service_tier": tier,
                    "context_window": "0-200k",
                    "inference_geo": "not_available",
                    "speed": "standard",
                    "account_id": None,
                    "service_account_id": None,
                }
                metrics = {
                    "uncached_input_tokens": uncached,
                    "cache_creation.ephemeral_5m_input_tokens": rng.randint(0, uncached // 4),
                    "cache_creation.ephemeral_1h_input_tokens": one_hour,
                    "cache_read_input_tokens": rng.randint(0, uncached),
                    "output_tokens": calls * rng.randint(20, 800),
                    "server_tool_use.web_search_requests": 0,
                }
                rows.append(UsageRow(dims, metrics))
        return rows

    def _cost_rows(self, model: str, row: UsageRow) -> list[UsageRow]:
        prices = self.prices(model)
        display = self.display_name(model)
        rows: list[UsageRow] = []
        for token_type, label in TOKEN_TYPES:
            tokens = row.metrics[token_type]
            if tokens == 0:
                continue
            dims = {
                "workspace_id": row.dims["workspace_id"],
                "description": f"{display} Usage - {label}",
                "model": model,
                "cost_type": "tokens",
                "token_type": token_type,
                "context_window": row.dims["context_window"],
                "service_tier": row.dims["service_tier"],
                "inference_geo": None,
                "token_kind": "output" if token_type == "output_tokens" else "input",
            }
            rows.append(UsageRow(dims, {"amount": tokens * prices[token_type] * 100}))
        return rows

    def _record(self, day: date, model: str, rows: Sequence[UsageRow]) -> UsageRecord:
        def total(name: str) -> int:
            return sum(r.metrics[name] for r in rows)

        return UsageRecord(
            day=day,
            model=model,
            input_tokens=total("uncached_input_tokens")
            + total("cache_creation.ephemeral_5m_input_tokens")
            + total("cache_creation.ephemeral_1h_input_tokens"),
            output_tokens=total("output_tokens"),
            cached_input_tokens=total("cache_read_input_tokens"),
            requests=None,
        )

    def price_usage(self, record: UsageRecord) -> Decimal:
        """Dollars: (uncached + cache-write input) x input price + cache reads x 10% of it +
        output x output price (cache writes at the plain input price, see the module docstring)."""
        prices = self.prices(record.model)
        return (
            record.input_tokens * prices["uncached_input_tokens"]
            + record.cached_input_tokens * prices["cache_read_input_tokens"]
            + record.output_tokens * prices["output_tokens"]
        )


__all__ = [
    "COST_DIMS",
    "COST_GROUP_BY",
    "DEFAULT_MODELS",
    "DESCRIPTION_DIMS",
    "SUPPORTED_VERSIONS",
    "USAGE_DIMS",
    "USAGE_PRICES",
    "AnthropicState",
]
