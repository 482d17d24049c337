"""Time buckets, their pages and the opaque page cursor of the providers' report endpoints, and the
array query parameters those endpoints take."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

BUCKET_WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


@dataclass(frozen=True)
class ReportQuery:
    """A usage or cost report request, parsed and checked by the provider's ``reports`` module."""

    start: datetime
    stop: datetime
    width: timedelta
    limit: int
    group_by: list[str]
    cursor: datetime | None
    filters: dict[str, set[Any]]


def snap(moment: datetime, width: timedelta) -> datetime:
    """``moment`` (tz-aware) floored to the start of its minute/hour/day in UTC."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    seconds = int((moment.astimezone(UTC) - epoch).total_seconds())
    step = int(width.total_seconds())
    return epoch + timedelta(seconds=seconds - seconds % step)


def bucket_day(start: datetime, width: timedelta) -> date | None:
    """The day whose usage a bucket carries. Usage is generated per day: a 1d bucket carries its
    day; for 1h/1m buckets the whole day's usage sits in the bucket containing 12:00 UTC (so the
    sub-day buckets of a day add up to its 1d bucket)."""
    if width >= timedelta(days=1):
        return start.date()
    noon = datetime.combine(start.date(), datetime.min.time(), UTC) + timedelta(hours=12)
    return start.date() if start <= noon < start + width else None


@dataclass(frozen=True)
class BucketPage:
    starts: list[datetime]
    has_more: bool
    next_start: datetime | None


def bucket_page(
    first: datetime,
    stop: datetime,
    width: timedelta,
    limit: int,
    *,
    cursor: datetime | None = None,
    whole_buckets_only: bool = False,
) -> BucketPage:
    """One page of buckets from ``first`` (snapped) up to ``stop``: at most ``limit`` buckets
    starting at ``cursor`` (a previous page's ``next_start``). With ``whole_buckets_only`` a bucket
    must end by ``stop`` (Anthropic: "buckets that end before ending_at"); otherwise it must start
    before ``stop`` (OpenAI: ``end_time`` exclusive)."""
    current = snap(first, width) if cursor is None else cursor
    starts: list[datetime] = []

    def fits(start: datetime) -> bool:
        return start + width <= stop if whole_buckets_only else start < stop

    while len(starts) < limit and fits(current):
        starts.append(current)
        current += width
    has_more = fits(current)
    return BucketPage(starts, has_more, current if has_more else None)


def encode_cursor(moment: datetime) -> str:
    """An opaque page token: ``page_`` + base64 of the next bucket's RFC 3339 start (the shape of
    Anthropic's documented example ``page_MjAyNS0wNS0xNFQwMDowMDowMFo=``)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "page_" + base64.b64encode(text.encode()).decode()


def decode_cursor(token: str) -> datetime | None:
    """The bucket start a token from :func:`encode_cursor` points at; None when it is not one."""
    if not token.startswith("page_"):
        return None
    try:
        text = base64.b64decode(token[5:], validate=True).decode()
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return moment


def query_list(params: Any, name: str, *, plain: bool = False) -> list[str] | None:
    """Values of array parameter ``name[]`` (and, with ``plain``, of ``name`` too, comma-split);
    None when absent. ``params`` is a Starlette ``QueryParams``."""
    values = list(params.getlist(f"{name}[]"))
    if plain:
        for raw in params.getlist(name):
            values.extend(part for part in raw.split(",") if part)
    if not values and f"{name}[]" not in params and not (plain and name in params):
        return None
    return values
