"""State of the fake OpenAI API: which keys exist, which fail, what clients sent, and the usage and
cost data of each organization.

Keys look like real project keys (``sk-proj-`` + url-safe characters with the ``T3BlbkFJ``
marker real keys carry) so code that sniffs prefixes or lengths behaves as in production; they
are deterministic from the seed so a scenario replays with the same keys. Admin keys
(``sk-admin-...``, the only keys the organization usage/cost endpoints accept) follow the same
pattern; their exact length is illustrative.

Usage data (``GET /v1/organization/usage/completions``): per active (org, day, model), one row per
project (the first always, the second sometimes) and sometimes an extra ``batch=true`` row, with
``input_tokens`` (which *includes* ``input_cached_tokens``, as OpenAI documents), output tokens and
``num_model_requests``. Costs (``GET /v1/organization/costs``): per usage row, line items
``"<model>, input"`` (uncached input at the input price + cached input at the cached price) and
``"<model>, output"``, in dollars, at :data:`USAGE_PRICES` (illustrative list prices per 1M
tokens; batch rows are priced like the rest so a cost can be recomputed from usage).
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

# Illustrative catalogue in the real shape (id, object, created, owned_by); the ids are real
# models, the timestamps are plausible, not authoritative.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "gpt-3.5-turbo", "object": "model", "created": 1677610602, "owned_by": "openai"},
    {"id": "text-embedding-3-small", "object": "model", "created": 1705948997, "owned_by": "system"},
)

# Usage-report model ids with (input, cached input, output) dollars per 1M tokens. Illustrative list
# prices, close to the published ones; only their use (cost = tokens x price) is load-bearing.
USAGE_PRICES: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "gpt-4o-2024-08-06": (Decimal("2.50"), Decimal("1.25"), Decimal("10.00")),
    "gpt-4o-mini-2024-07-18": (Decimal("0.15"), Decimal("0.075"), Decimal("0.60")),
    "o3-mini-2025-01-31": (Decimal("1.10"), Decimal("0.55"), Decimal("4.40")),
    "gpt-4.1-2025-04-14": (Decimal("2.00"), Decimal("0.50"), Decimal("8.00")),
    "gpt-4.1-mini-2025-04-14": (Decimal("0.40"), Decimal("0.10"), Decimal("1.60")),
    "gpt-4.1-nano-2025-04-14": (Decimal("0.10"), Decimal("0.025"), Decimal("0.40")),
}
# Models beyond the list above are fine-tunes, named the way usage reports show them.
FINE_TUNE_BASE = "gpt-4o-mini-2024-07-18"
FINE_TUNE_PRICE = (Decimal("0.30"), Decimal("0.15"), Decimal("1.20"))
PER_MILLION = Decimal(1_000_000)

# Dimensions a usage / cost result carries (null unless grouped on).
USAGE_DIMS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier", "api_source")
COST_DIMS = ("project_id", "user_id", "line_item", "api_key_id", "api_source")


@dataclass
class OpenAIState(ProviderState):
    """Keys, faults and request log of the fake OpenAI API (see :class:`ProviderState`)."""

    organization: str = "org-harnessfake000000000000"
    organization_attribute: ClassVar[str] = "organization"

    def default_models(self) -> list[dict[str, Any]]:
        return [dict(m) for m in DEFAULT_MODELS]

    def _mint_key(self, rng: random.Random) -> str:
        return f"sk-proj-{random_chars(rng, 74)}T3BlbkFJ{random_chars(rng, 74)}"

    def _mint_request_id(self, rng: random.Random) -> str:
        return "req_" + "".join(rng.choice("0123456789abcdef") for _ in range(32))

    def model(self, model_id: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m["id"] == model_id), None)

    # ------------------------------------------------------------------ usage data

    def _mint_admin_key(self, rng: random.Random) -> str:
        return f"sk-admin-{random_chars(rng, 58)}T3BlbkFJ{random_chars(rng, 58)}"

    def _usage_model_names(self, count: int) -> list[str]:
        names = list(USAGE_PRICES)[:count]
        for index in range(len(names), count):
            suffix = random_chars(usage_rng("openai-fine-tune", index), 8, ID_ALPHABET)
            names.append(f"ft:{FINE_TUNE_BASE}:cloudact::{suffix}")
        return names

    def prices(self, model: str) -> tuple[Decimal, Decimal, Decimal]:
        """(input, cached input, output) dollars per token."""
        per_million = USAGE_PRICES.get(model, FINE_TUNE_PRICE)
        return (
            per_million[0] / PER_MILLION,
            per_million[1] / PER_MILLION,
            per_million[2] / PER_MILLION,
        )

    def _org(self, key: str) -> dict[str, Any]:
        rng = usage_rng(self.seed, key, "org")
        projects = [
            {
                "project_id": "proj_" + random_chars(rng, 24, ID_ALPHABET),
                "api_key_id": "key_" + random_chars(rng, 16, ID_ALPHABET),
                "user_id": "user-" + random_chars(rng, 24, ID_ALPHABET),
            }
            for _ in range(2)
        ]
        return {"projects": projects}

    def _draw_rows(self, rng: random.Random, org: Mapping[str, Any], model: str) -> list[UsageRow]:
        rows: list[UsageRow] = []
        for index, project in enumerate(org["projects"]):
            if index > 0 and rng.random() >= 0.6:
                continue
            for batch in (False, True):
                if batch and rng.random() >= 0.25:
                    continue
                requests = rng.randint(1, 300)
                input_tokens = requests * rng.randint(150, 2500)
                dims = {
                    **project,
                    "model": model,
                    "batch": batch,
                    "service_tier": "default",
                    "api_source": "unlabeled",
                }
                metrics = {
                    "input_tokens": input_tokens,
                    "output_tokens": requests * rng.randint(20, 600),
                    "input_cached_tokens": rng.randint(0, input_tokens // 2),
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": requests,
                }
                rows.append(UsageRow(dims, metrics))
        return rows

    def _cost_rows(self, model: str, row: UsageRow) -> list[UsageRow]:
        price_in, price_cached, price_out = self.prices(model)
        tokens = row.metrics
        uncached = tokens["input_tokens"] - tokens["input_cached_tokens"]
        base = {name: row.dims[name] for name in ("project_id", "user_id", "api_key_id", "api_source")}
        return [
            UsageRow(
                {**base, "line_item": f"{model}, input", "token_kind": "input"},
                {
                    "amount": uncached * price_in + tokens["input_cached_tokens"] * price_cached,
                    "quantity": tokens["input_tokens"],
                },
            ),
            UsageRow(
                {**base, "line_item": f"{model}, output", "token_kind": "output"},
                {"amount": tokens["output_tokens"] * price_out, "quantity": tokens["output_tokens"]},
            ),
        ]

    def _record(self, day: date, model: str, rows: Sequence[UsageRow]) -> UsageRecord:
        return UsageRecord(
            day=day,
            model=model,
            input_tokens=sum(r.metrics["input_tokens"] for r in rows),
            output_tokens=sum(r.metrics["output_tokens"] for r in rows),
            cached_input_tokens=sum(r.metrics["input_cached_tokens"] for r in rows),
            requests=sum(r.metrics["num_model_requests"] for r in rows),
        )

    def price_usage(self, record: UsageRecord) -> Decimal:
        """Dollars: uncached input x input price + cached x cached price + output x output price
        (``record.input_tokens`` includes the cached tokens, as OpenAI reports it)."""
        price_in, price_cached, price_out = self.prices(record.model)
        uncached = record.input_tokens - record.cached_input_tokens
        cached = record.cached_input_tokens
        return uncached * price_in + cached * price_cached + record.output_tokens * price_out


__all__ = ["COST_DIMS", "DEFAULT_MODELS", "USAGE_DIMS", "USAGE_PRICES", "OpenAIState"]
