"""Usage and cost pulls from the providers' organization report APIs, over httpx: what both
providers' sources share (:class:`ReportSource`, the errors, the value helpers).

Each provider's source subclasses it (OpenAI: :mod:`harness.providers.usage_openai`, Anthropic:
:mod:`harness.providers.usage_anthropic`; each module documents its field mapping) and
``harness.providers.usage_source_for`` picks one; this module imports neither, so the sources can
import it without an import circle.

What both do, and how:

* one query per report, day buckets (``bucket_width=1d``) from ``start`` 00:00 UTC to the day after
  ``end`` (both inclusive), grouped by model, ``limit`` = ``page_size`` buckets per page (default:
  the endpoint's maximum, so a month is one page); every page is followed (``has_more`` /
  ``next_page``) and a cursor that does not advance is an error rather than a loop;
* every HTTP request goes through :func:`~harness.providers.http.send_with_retries` (429/5xx/
  timeouts retried with the server's ``retry-after``, then ``ProviderUnavailableError``), waits
  through the injected ``sleep``; ``UsagePull.requests`` counts HTTP requests including retries,
  ``UsagePull.pages`` the pages received;
* 401/403 raise :class:`~harness.ports.ProviderAuthError` with the provider's own message (OpenAI
  sometimes sends ``{"error": "<text>"}`` instead of ``{"error": {"message": ...}}``; both are read);
  any other refusal raises :class:`ProviderRequestError`, a body that is not the documented shape
  :class:`UsageFormatError`;
* bodies are parsed with ``parse_float=Decimal`` so money never passes through binary floats;
* one record per (bucket, model), summing every row of that model in the bucket (projects,
  workspaces, API keys, batch/tiers, line items), ordered by day then model. A bucket served twice
  therefore yields duplicate records — left for data-quality checks to see, not hidden here.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from harness.ports import (
    CostRecord,
    Provider,
    ProviderAuthError,
    ProviderResponseError,
    UsagePull,
    UsageRecord,
)
from harness.providers.http import (
    MALFORMED_KEY_MESSAGE,
    ProviderHttpClient,
    send_with_retries,
    sendable_header_value,
)

UNKNOWN_MODEL = "unknown"
"""The model of a row that names none (a report not grouped by model, a non-token cost)."""


class ProviderRequestError(ProviderResponseError):
    """The provider refused the report request itself (400, 404...): a bug on our side or an API
    change, never retried."""

    def __init__(self, provider: Provider, status: int, error_type: str | None, message: str | None) -> None:
        super().__init__(f"{provider.value} {status} {error_type or ''}: {message or ''}".strip())
        self.provider = provider
        self.status = status
        self.error_type = error_type
        self.message = message


class UsageFormatError(ProviderResponseError, ValueError):
    """A 2xx answer that is not the documented report shape (or not in USD)."""


def error_details(response: httpx.Response) -> tuple[str | None, str]:
    """``(type, message)`` of an error answer. Reads ``{"error": {"type", "message"}}`` (both
    providers), ``{"error": "<text>"}`` (OpenAI's missing-scope 403) and non-JSON bodies."""
    try:
        body: Any = response.json()
    except ValueError:
        return None, response.text.strip()[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return None, error
    if isinstance(error, dict):
        type_, message = error.get("type"), error.get("message")
        return (
            type_ if isinstance(type_, str) else None,
            message if isinstance(message, str) else response.reason_phrase,
        )
    return None, response.reason_phrase


@dataclass
class _Fetch:
    pages: int = 0
    requests: int = 0


class ReportSource(ProviderHttpClient):
    """The paging, retrying and error mapping shared by the providers' usage sources. Subclasses
    define the endpoints, auth headers, query parameters and how a bucket becomes records."""

    usage_path: str
    costs_path: str
    usage_page_max: int = 31
    costs_page_max: int = 31
    usage_group_by: tuple[str, ...] = ("model",)

    def __init__(
        self,
        *,
        page_size: int | None = None,
        group_by: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        """``page_size``: buckets per page (default: the endpoint's maximum); ``group_by``: the
        usage report's grouping (must include ``model``; extra dimensions are summed away)."""
        super().__init__(**options)
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.page_size = page_size
        if group_by is not None:
            if "model" not in group_by:
                raise ValueError("group_by must include 'model'")
            self.usage_group_by = tuple(group_by)

    # ------------------------------------------------------------------ subclass hooks

    @abstractmethod
    def range_params(self, start: date, end: date) -> list[tuple[str, str]]:
        """The query parameters selecting ``start`` to ``end`` (exclusive) in whole days."""

    def usage_params(self) -> list[tuple[str, str]]:
        return [("group_by[]", name) for name in self.usage_group_by]

    @abstractmethod
    def costs_params(self) -> list[tuple[str, str]]:
        """The cost report's own query parameters (grouping)."""

    @abstractmethod
    def bucket_day(self, bucket: dict[str, Any]) -> date:
        """The UTC day a report bucket covers."""

    @abstractmethod
    def usage_records(self, day: date, results: list[dict[str, Any]]) -> list[UsageRecord]:
        """One day's usage results as records (one per model)."""

    @abstractmethod
    def cost_records(self, day: date, results: list[dict[str, Any]]) -> list[CostRecord]:
        """One day's cost results as records."""

    # ------------------------------------------------------------------ UsageSource

    def usage(self, api_key: str, start: date, end: date) -> UsagePull:
        """Usage per (day, model) for ``start``..``end`` (inclusive UTC days)."""
        params = [*self.range_params(start, end), *self.usage_params()]
        limit = self.page_size or self.usage_page_max
        return self._pull(api_key, self.usage_path, params, limit, start, end, self.usage_records)

    def costs(self, api_key: str, start: date, end: date) -> UsagePull:
        """Cost in exact USD per (day, model) for ``start``..``end`` (inclusive UTC days)."""
        params = [*self.range_params(start, end), *self.costs_params()]
        limit = self.page_size or self.costs_page_max
        return self._pull(api_key, self.costs_path, params, limit, start, end, self.cost_records)

    # ------------------------------------------------------------------ plumbing

    def _pull(
        self,
        api_key: str,
        path: str,
        params: list[tuple[str, str]],
        limit: int,
        start: date,
        end: date,
        to_records: Any,
    ) -> UsagePull:
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        fetch = _Fetch()
        records: list[Any] = []
        for body in self._pages(api_key, path, [*params, ("limit", str(limit))], fetch):
            for bucket in body["data"]:
                if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
                    raise UsageFormatError(f"{self.provider.value} {path}: malformed bucket {bucket!r:.200}")
                day = self.bucket_day(bucket)
                if start <= day <= end:
                    records.extend(to_records(day, bucket["results"]))
        return UsagePull(records=records, pages=fetch.pages, requests=fetch.requests)

    def _pages(
        self, api_key: str, path: str, params: list[tuple[str, str]], fetch: _Fetch
    ) -> Iterator[dict[str, Any]]:
        key = api_key.strip()
        if not sendable_header_value(key):
            raise ProviderAuthError(self.provider, 0, MALFORMED_KEY_MESSAGE)
        headers = self.auth_headers(key)
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            query = params if cursor is None else [*params, ("page", cursor)]
            body = self._get(path, query, headers, fetch)
            fetch.pages += 1
            yield body
            next_page = body.get("next_page")
            if not body.get("has_more") or not next_page:
                return
            if not isinstance(next_page, str) or next_page in seen:
                raise UsageFormatError(f"{self.provider.value} {path}: pagination did not advance")
            seen.add(next_page)
            cursor = next_page

    def _get(
        self, path: str, query: list[tuple[str, str]], headers: dict[str, str], fetch: _Fetch
    ) -> dict[str, Any]:
        request = self.client.build_request("GET", self.base_url + path, params=query, headers=headers)
        retries = 0

        def counting_sleep(seconds: float) -> None:
            nonlocal retries
            retries += 1
            self._sleep(seconds)

        try:
            response = send_with_retries(
                self.client,
                request,
                provider=self.provider,
                policy=self.retry,
                sleep=counting_sleep,
                clock=self._clock,
            )
        finally:
            fetch.requests += retries + 1
        if response.status_code in (401, 403):
            _, message = error_details(response)
            raise ProviderAuthError(self.provider, response.status_code, message)
        if not response.is_success:
            error_type, message = error_details(response)
            raise ProviderRequestError(self.provider, response.status_code, error_type, message)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise UsageFormatError(f"{self.provider.value} {path}: response is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise UsageFormatError(f"{self.provider.value} {path}: no 'data' list in the response")
        return body


# ------------------------------------------------------------------------------------ helpers


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def range_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``start`` 00:00 UTC and the 00:00 UTC after ``end``: the inclusive day range, half-open."""
    return day_start(start), day_start(end + timedelta(days=1))


def tokens(value: Any) -> int:
    """A token count from a report row: ints only (a negative one is kept, for DQ to see)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageFormatError(f"token count is not an integer: {value!r}")
    return value


def decimal_amount(value: Any) -> Decimal:
    """An exact Decimal from a JSON number (already Decimal/int via ``parse_float``) or string."""
    if isinstance(value, bool):
        raise UsageFormatError(f"amount is not a number: {value!r}")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value)
        except ArithmeticError:
            raise UsageFormatError(f"amount is not a decimal string: {value!r}") from None
        if not amount.is_finite():
            raise UsageFormatError(f"amount is not finite: {value!r}")
        return amount
    raise UsageFormatError(f"amount is not a number: {value!r}")


__all__ = [
    "UNKNOWN_MODEL",
    "ProviderRequestError",
    "ReportSource",
    "UsageFormatError",
    "error_details",
]
