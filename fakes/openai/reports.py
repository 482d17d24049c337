"""The query side of the fake OpenAI organization usage and cost reports: what each endpoint
accepts (:class:`ReportSpec`), parsing a request into a :class:`ReportQuery` (raising OpenAI's 400
errors, ``fakes.openai.exceptions``), and shaping one grouped result.

Kept apart from the routes (``rest``) because it is the one part that is about the report
parameters rather than the HTTP pipeline; the ranges are the ones the official ``openai`` SDK
(``types/admin/organization``) documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fakes.openai.exceptions import (
    IntegerAboveMaxValue,
    IntegerBelowMinValue,
    InvalidPage,
    InvalidType,
    InvalidValue,
    MissingRequiredParameter,
)
from fakes.openai.models import COST_DIMS, USAGE_DIMS
from fakes.providers.paging import BUCKET_WIDTHS, ReportQuery, decode_cursor, query_list
from fakes.providers.usage import UsageRow


@dataclass(frozen=True)
class ReportSpec:
    """What one report endpoint accepts: bucket widths with (default, max) limit, group_by values,
    the dimensions its results carry, and its filter parameters (query name -> dimension)."""

    widths: Mapping[str, tuple[int, int]]
    dims: tuple[str, ...]
    filters: Mapping[str, str]


COMPLETIONS = ReportSpec(
    widths={"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)},
    dims=USAGE_DIMS,
    filters={
        "models": "model",
        "project_ids": "project_id",
        "api_key_ids": "api_key_id",
        "user_ids": "user_id",
    },
)
COSTS = ReportSpec(
    widths={"1d": (7, 180)},
    dims=COST_DIMS,
    filters={"project_ids": "project_id", "api_key_ids": "api_key_id", "line_items": "line_item"},
)


def supported(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f"{quoted[0]} and {quoted[1]}"
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def int_param(params: Any, name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise MissingRequiredParameter(param=name, name=name)
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidType(param=name, name=name) from None


def parse_query(params: Any, spec: ReportSpec, now: datetime) -> ReportQuery:
    start_time = int_param(params, "start_time", required=True)
    end_time = int_param(params, "end_time")
    width_name = params.get("bucket_width", "1d")
    if width_name not in spec.widths:
        raise InvalidValue(param="bucket_width", value=width_name, supported=supported(list(spec.widths)))
    default_limit, max_limit = spec.widths[width_name]
    limit = int_param(params, "limit")
    if limit is None:
        limit = default_limit
    elif limit < 1:
        raise IntegerBelowMinValue(param="limit", value=limit)
    elif limit > max_limit:
        raise IntegerAboveMaxValue(param="limit", value=limit, maximum=max_limit)
    group_by = query_list(params, "group_by", plain=True) or []
    for value in group_by:
        if value not in spec.dims:
            raise InvalidValue(param="group_by", value=value, supported=supported(spec.dims))
    cursor = None
    if (page := params.get("page")) is not None:
        cursor = decode_cursor(page)
        if cursor is None:
            raise InvalidPage(param="page", page=page)
    filters: dict[str, set[Any]] = {}
    for name, dim in spec.filters.items():
        values = query_list(params, name, plain=True)
        if values is not None:
            filters[dim] = set(values)
    if "batch" in params and "batch" in spec.dims:
        filters["batch"] = {params["batch"].lower() == "true"}
    start = datetime.fromtimestamp(start_time, UTC)
    stop = datetime.fromtimestamp(end_time, UTC) if end_time is not None else now
    return ReportQuery(start, stop, BUCKET_WIDTHS[width_name], limit, group_by, cursor, filters)


def kept(row: UsageRow, filters: Mapping[str, set[Any]]) -> bool:
    return all(row.dims.get(dim) in values for dim, values in filters.items())


def usage_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {"object": "organization.usage.completions.result", **metrics, **dims}


def cost_result(dims: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    by_line_item = dims.get("line_item") is not None
    return {
        "object": "organization.costs.result",
        "amount": {"value": float(metrics["amount"]), "currency": "usd"},
        **dims,
        "quantity": float(metrics["quantity"]) if by_line_item else None,
        "quantity_unit": "tokens" if by_line_item else None,
    }
