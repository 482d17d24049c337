"""OpenAI usage and costs: ``GET /v1/organization/usage/completions`` and ``GET /v1/organization/costs``.

Both need an **Admin API key** (``sk-admin-...``, ``Authorization: Bearer``); a project key gets
403 "Missing scopes: api.usage.read" → :class:`~harness.ports.ProviderAuthError`. Queries:
``start_time`` / ``end_time`` in unix seconds (inclusive / exclusive), ``bucket_width=1d``,
``limit`` (usage max 31, costs max 180), ``group_by[]=model`` (usage) or ``group_by[]=line_item``
(costs: the costs report cannot group by model), ``page`` = the previous ``next_page``.

Field mapping (one record per bucket day and model, every row of that model summed — projects, API
keys, users, batch and non-batch, line items):

=========================  ==========================================================================
``UsageRecord``            usage result fields
=========================  ==========================================================================
``day``                    the bucket's ``start_time`` as a UTC date
``model``                  ``model`` (``"unknown"`` when null)
``input_tokens``           Σ ``input_tokens`` **as reported: it already includes cached tokens**
                           (OpenAI: "including cached and cache-write tokens")
``cached_input_tokens``    Σ ``input_cached_tokens`` (a subset of ``input_tokens``; null → 0)
``output_tokens``          Σ ``output_tokens``
``requests``               Σ ``num_model_requests``
=========================  ==========================================================================

``CostRecord``: ``cost_usd`` = Σ ``amount.value`` (dollars; parsed from the JSON text as an exact
``Decimal``, never a float) over the line items of the model; the model is the ``line_item`` up to
its last ``", "`` (``"gpt-4o-2024-08-06, input"`` → ``gpt-4o-2024-08-06``; a line item without a
comma is its own model, a null one is ``"unknown"``); ``line_item`` is None because items are summed.
A currency other than ``usd`` is a :class:`~harness.providers.reports.UsageFormatError`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from harness.ports import CostRecord, Provider, UsageRecord
from harness.providers.openai import OPENAI_BASE_URL
from harness.providers.reports import (
    UNKNOWN_MODEL,
    ReportSource,
    UsageFormatError,
    decimal_amount,
    range_bounds,
    tokens,
)


def line_item_model(line_item: Any) -> str:
    """The model a costs line item is for: ``"gpt-4o, input"`` → ``"gpt-4o"``."""
    if not isinstance(line_item, str) or not line_item:
        return UNKNOWN_MODEL
    return line_item.rsplit(", ", 1)[0]


class OpenAIUsageSource(ReportSource):
    """A :class:`~harness.ports.UsageSource` for OpenAI (constructor: ``base_url``, ``client``,
    ``timeout``, ``retry``, ``sleep``, ``clock``, ``page_size``, ``group_by``)."""

    provider = Provider.OPENAI
    default_base_url = OPENAI_BASE_URL
    usage_path = "/v1/organization/usage/completions"
    costs_path = "/v1/organization/costs"
    usage_page_max = 31
    costs_page_max = 180

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def range_params(self, start: date, end: date) -> list[tuple[str, str]]:
        first, stop = range_bounds(start, end)
        return [
            ("start_time", str(int(first.timestamp()))),
            ("end_time", str(int(stop.timestamp()))),
            ("bucket_width", "1d"),
        ]

    def costs_params(self) -> list[tuple[str, str]]:
        return [("group_by[]", "line_item")]

    def bucket_day(self, bucket: dict[str, Any]) -> date:
        start = bucket.get("start_time")
        if isinstance(start, bool) or not isinstance(start, int):
            raise UsageFormatError(f"openai bucket start_time is not unix seconds: {start!r}")
        return datetime.fromtimestamp(start, UTC).date()

    def usage_records(self, day: date, results: list[dict[str, Any]]) -> list[UsageRecord]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for result in results:
            model = result.get("model") or UNKNOWN_MODEL
            sums = totals[model]
            sums[0] += tokens(result.get("input_tokens"))
            sums[1] += tokens(result.get("output_tokens"))
            sums[2] += tokens(result.get("input_cached_tokens"))
            sums[3] += tokens(result.get("num_model_requests"))
        return [
            UsageRecord(
                day=day,
                model=model,
                input_tokens=sums[0],
                output_tokens=sums[1],
                cached_input_tokens=sums[2],
                requests=sums[3],
            )
            for model, sums in sorted(totals.items())
        ]

    def cost_records(self, day: date, results: list[dict[str, Any]]) -> list[CostRecord]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for result in results:
            amount = result.get("amount")
            if not isinstance(amount, dict):
                raise UsageFormatError(f"openai cost result without an amount: {result!r:.200}")
            currency = amount.get("currency")
            if not isinstance(currency, str) or currency.lower() != "usd":
                raise UsageFormatError(f"openai cost in {currency!r}, expected usd")
            totals[line_item_model(result.get("line_item"))] += decimal_amount(amount.get("value"))
        return [CostRecord(day=day, model=model, cost_usd=cost) for model, cost in sorted(totals.items())]


__all__ = ["OpenAIUsageSource", "line_item_model"]
