"""Anthropic usage and costs: ``GET /v1/organizations/usage_report/messages`` and
``GET /v1/organizations/cost_report`` (the Usage & Cost Admin API).

Both need an **Admin API key** (``sk-ant-admin...``) in ``x-api-key`` plus ``anthropic-version:
2023-06-01``; another key gets 401 → :class:`~harness.ports.ProviderAuthError`. Queries:
``starting_at`` / ``ending_at`` in RFC 3339 (buckets starting at / ending by them),
``bucket_width=1d``, ``limit`` (max 31 for both), ``group_by[]=model`` (usage) or
``group_by[]=description`` (costs: grouping by description is what fills a cost row's ``model``),
``page`` = the previous ``next_page``. Array parameters must carry brackets.

Field mapping (one record per bucket day and model, every row of that model summed — workspaces,
API keys, service tiers, context windows, token types):

=========================  ==========================================================================
``UsageRecord``            usage result fields
=========================  ==========================================================================
``day``                    the bucket's ``starting_at`` as a UTC date
``model``                  ``model`` (``"unknown"`` when null)
``input_tokens``           Σ ``uncached_input_tokens`` + ``cache_creation.ephemeral_5m_input_tokens``
                           + ``cache_creation.ephemeral_1h_input_tokens``: input processed and
                           billed at (at least) the input rate. **Cache reads are not included**
``cached_input_tokens``    Σ ``cache_read_input_tokens`` (*not* a subset of ``input_tokens``)
``output_tokens``          Σ ``output_tokens``
``requests``               None: the report has no request counts
=========================  ==========================================================================

So Anthropic's total input is ``input_tokens + cached_input_tokens``, where OpenAI's is
``input_tokens`` alone (OpenAI's ``input_tokens`` already includes cached tokens).

``CostRecord``: ``cost_usd`` = Σ ``amount`` / 100 — ``amount`` is a decimal string in cents
("123.45" USD = $1.2345), converted exactly (``Decimal(amount).scaleb(-2)``); the model is the row's
``model``, else its ``description`` (non-token costs such as web search carry no model), else
``"unknown"``; ``line_item`` is None because rows are summed. A currency other than ``USD`` is a
:class:`~harness.providers.reports.UsageFormatError`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from harness.ports import CostRecord, Provider, UsageRecord
from harness.providers.anthropic import ANTHROPIC_BASE_URL, ANTHROPIC_VERSION
from harness.providers.reports import (
    UNKNOWN_MODEL,
    ReportSource,
    UsageFormatError,
    decimal_amount,
    range_bounds,
    tokens,
)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cents_to_dollars(amount: Any) -> Decimal:
    """Anthropic's cost ``amount`` (cents, decimal string) in exact dollars: "123.45" → 1.2345."""
    return decimal_amount(amount).scaleb(-2)


class AnthropicUsageSource(ReportSource):
    """A :class:`~harness.ports.UsageSource` for Anthropic (constructor: ``base_url``, ``client``,
    ``timeout``, ``retry``, ``sleep``, ``clock``, ``page_size``, ``group_by``)."""

    provider = Provider.ANTHROPIC
    default_base_url = ANTHROPIC_BASE_URL
    usage_path = "/v1/organizations/usage_report/messages"
    costs_path = "/v1/organizations/cost_report"
    usage_page_max = 31
    costs_page_max = 31

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}

    def range_params(self, start: date, end: date) -> list[tuple[str, str]]:
        first, stop = range_bounds(start, end)
        return [("starting_at", rfc3339(first)), ("ending_at", rfc3339(stop)), ("bucket_width", "1d")]

    def costs_params(self) -> list[tuple[str, str]]:
        return [("group_by[]", "description")]

    def bucket_day(self, bucket: dict[str, Any]) -> date:
        start = bucket.get("starting_at")
        try:
            moment = datetime.fromisoformat(start) if isinstance(start, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise UsageFormatError(f"anthropic bucket starting_at is not RFC 3339: {start!r}")
        return moment.astimezone(UTC).date()

    def usage_records(self, day: date, results: list[dict[str, Any]]) -> list[UsageRecord]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for result in results:
            model = result.get("model") or UNKNOWN_MODEL
            creation = result.get("cache_creation") or {}
            if not isinstance(creation, dict):
                raise UsageFormatError(f"anthropic cache_creation is not an object: {creation!r}")
            sums = totals[model]
            sums[0] += (
                tokens(result.get("uncached_input_tokens"))
                + tokens(creation.get("ephemeral_5m_input_tokens"))
                + tokens(creation.get("ephemeral_1h_input_tokens"))
            )
            sums[1] += tokens(result.get("output_tokens"))
            sums[2] += tokens(result.get("cache_read_input_tokens"))
        return [
            UsageRecord(
                day=day,
                model=model,
                input_tokens=sums[0],
                output_tokens=sums[1],
                cached_input_tokens=sums[2],
                requests=None,
            )
            for model, sums in sorted(totals.items())
        ]

    def cost_records(self, day: date, results: list[dict[str, Any]]) -> list[CostRecord]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for result in results:
            currency = result.get("currency")
            if currency != "USD":
                raise UsageFormatError(f"anthropic cost in {currency!r}, expected USD")
            model = result.get("model") or result.get("description") or UNKNOWN_MODEL
            totals[model] += cents_to_dollars(result.get("amount"))
        return [CostRecord(day=day, model=model, cost_usd=cost) for model, cost in sorted(totals.items())]


__all__ = ["AnthropicUsageSource", "cents_to_dollars"]
