"""The query side of the fake Anthropic Usage & Cost Admin API: what each report accepts
(:class:`ReportSpec`), parsing a request into a :class:`ReportQuery` (raising Anthropic's 400
errors, ``fakes.anthropic.exceptions``), and shaping one grouped result.

Kept apart from the routes (``rest``) because it is the one part that is about the report
parameters rather than the HTTP pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fakes.anthropic.exceptions import (
    BracketsRequired,
    FieldRequired,
    InvalidDatetime,
    InvalidLiteral,
    InvalidPageToken,
    LimitAboveMaximum,
    LimitBelowMinimum,
    LimitNotInteger,
    MissingTimezone,
)
from fakes.anthropic.models import COST_GROUP_BY, USAGE_DIMS
from fakes.providers.paging import BUCKET_WIDTHS, ReportQuery, decode_cursor, query_list
from fakes.providers.usage import UsageRow, format_decimal


@dataclass(frozen=True)
class ReportSpec:
    widths: Mapping[str, tuple[int, int]]
    group_by: tuple[str, ...]
    filters: Mapping[str, str]


MESSAGES_USAGE = ReportSpec(
    widths={"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)},
    group_by=USAGE_DIMS,
    filters={
        "models": "model",
        "workspace_ids": "workspace_id",
        "api_key_ids": "api_key_id",
        "service_tiers": "service_tier",
        "context_window": "context_window",
        "inference_geos": "inference_geo",
    },
)
COST_REPORT = ReportSpec(
    widths={"1d": (7, 31)}, group_by=COST_GROUP_BY, filters={"workspace_ids": "workspace_id"}
)


def literal_list(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"


def timestamp_param(params: Any, name: str, *, required: bool = False) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise FieldRequired(name=name)
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidDatetime(name=name) from None
    if moment.tzinfo is None:
        raise MissingTimezone(name=name)
    return moment.astimezone(UTC)


def array_param(params: Any, name: str) -> list[str] | None:
    if name in params:
        raise BracketsRequired(name=name)
    return query_list(params, name)


def parse_query(params: Any, spec: ReportSpec, now: datetime) -> ReportQuery:
    start = timestamp_param(params, "starting_at", required=True)
    assert start is not None
    stop = timestamp_param(params, "ending_at") or now
    width_name = params.get("bucket_width", "1d")
    if width_name not in spec.widths:
        raise InvalidLiteral(name="bucket_width", choices=literal_list(list(spec.widths)))
    default_limit, max_limit = spec.widths[width_name]
    limit = default_limit
    if (raw_limit := params.get("limit")) is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise LimitNotInteger() from None
        if limit < 1:
            raise LimitBelowMinimum()
        if limit > max_limit:
            raise LimitAboveMaximum(maximum=max_limit)
    group_by = array_param(params, "group_by") or []
    for index, value in enumerate(group_by):
        if value not in spec.group_by:
            raise InvalidLiteral(name=f"group_by.{index}", choices=literal_list(spec.group_by))
    cursor = None
    if (page := params.get("page")) is not None:
        cursor = decode_cursor(page)
        if cursor is None:
            raise InvalidPageToken()
    filters: dict[str, set[Any]] = {}
    for name, dim in spec.filters.items():
        values = array_param(params, name)
        if values is not None:
            filters[dim] = set(values)
    return ReportQuery(start, stop, BUCKET_WIDTHS[width_name], limit, group_by, cursor, filters)


def kept(row: UsageRow, filters: Mapping[str, set[Any]]) -> bool:
    return all(row.dims.get(dim) in values for dim, values in filters.items())


def usage_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **dims,
        "uncached_input_tokens": metrics["uncached_input_tokens"],
        "cache_creation": {
            "ephemeral_1h_input_tokens": metrics["cache_creation.ephemeral_1h_input_tokens"],
            "ephemeral_5m_input_tokens": metrics["cache_creation.ephemeral_5m_input_tokens"],
        },
        "cache_read_input_tokens": metrics["cache_read_input_tokens"],
        "output_tokens": metrics["output_tokens"],
        "server_tool_use": {"web_search_requests": metrics["server_tool_use.web_search_requests"]},
    }


def cost_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {"currency": "USD", "amount": format_decimal(metrics["amount"]), **dims}
