"""Usage and cost data of a fake provider, generated the same way for OpenAI and Anthropic.

An *admin key* stands for one organization; for every ``(seed, admin key, UTC day, model)`` a
hash-seeded RNG decides whether the model was used that day and draws the finest-grained rows (one
per project/workspace, API key, batch/tier...). The first usage model is used every day; the others
are active with probability ``activity_rate``. The provider packages turn rows into their wire
shapes and say how a row maps to a :class:`~harness.ports.UsageRecord` and what it costs (the
abstract hooks below); ``expected_usage`` / ``expected_costs`` are computed from the generator,
never from the HTTP layer, so tests compare a client's pull with an independent truth.
``corrupt(day, kind)`` makes one day's served data break one data-quality rule
(see :data:`CORRUPTION_KINDS`); ``quiet(day)`` makes a day with no usage at all, as a real account
has on a day nobody called the API (the buckets are served, empty).
"""

from __future__ import annotations

import hashlib
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from harness.ports import UsageRecord

# What ``ProviderState.corrupt(day, kind)`` can do to the data served for one UTC day. Each breaks
# exactly one data-quality rule in what a client pulls, and nothing else:
#
# * ``negative_tokens`` — every usage row of the target model (default: the first usage model,
#   which is active every day) reports ``output_tokens`` negated. The client's record for
#   (day, model) has ``output_tokens == -expected``; other fields, other models, costs: unchanged.
#   Rule broken: token counts are non-negative.
# * ``duplicate_row`` — the day's bucket is served twice, back to back in the same page, by the
#   usage *and* the cost endpoint. A client that emits one record per (bucket, model) returns two
#   identical records for every model active that day. Rule broken: one row per (day, model).
# * ``cost_mismatch`` — the target model's output-token cost line for the day reports $1.00 more
#   (OpenAI ``amount.value`` + 1.0; Anthropic ``amount`` + "100" cents). The client's cost record
#   is ``expected_costs + Decimal("1.00")`` while usage is unchanged, so the cost no longer equals
#   ``price_usage(usage record)``. Rule broken: reported cost equals priced usage.
CORRUPTION_KINDS = ("negative_tokens", "duplicate_row", "cost_mismatch")
COST_MISMATCH_USD = Decimal("1.00")


@dataclass(frozen=True)
class UsageRow:
    """One finest-grained row of a usage or cost report: dimension values and summable metrics
    (token counts as ints, amounts as exact ``Decimal`` in the provider's unit)."""

    dims: Mapping[str, Any]
    metrics: Mapping[str, Any]


@dataclass(frozen=True)
class Corruption:
    """A data-quality defect injected into one day (``model`` is None for ``duplicate_row``)."""

    day: date
    kind: str
    model: str | None


def usage_rng(*parts: object) -> random.Random:
    """An RNG seeded from a stable hash of ``parts`` (``hash()`` is salted per process)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def days_between(start: date, end: date) -> list[date]:
    """``start``..``end`` inclusive."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def group_rows(
    rows: Iterable[UsageRow], group_by: Sequence[str], dims: Sequence[str]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Aggregate ``rows`` the way the report APIs do: one result per distinct combination of the
    ``group_by`` dimensions (first-seen order), metrics summed; every dimension in ``dims`` that is
    not grouped on comes back None."""
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}
    for row in rows:
        group_key = tuple(row.dims.get(name) for name in group_by)
        if group_key not in groups:
            shown = {name: (row.dims.get(name) if name in group_by else None) for name in dims}
            groups[group_key] = (shown, {})
        totals = groups[group_key][1]
        for metric, value in row.metrics.items():
            totals[metric] = totals.get(metric, 0) + value
    return list(groups.values())


def format_decimal(value: Decimal) -> str:
    """A Decimal as plain positional text, never scientific (``Decimal("1E+2")`` -> ``"100"``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class UsageGenerator(ABC):
    """The usage/cost reports of every organization, drawn from the seed, with injected defects."""

    seed: int
    usage_model_count: int
    activity_rate: float
    _lock: threading.RLock

    @abstractmethod
    def _changed(self) -> None:
        """Called after every change (a persistent fake saves itself)."""

    cost_mismatch_delta: ClassVar[Decimal] = COST_MISMATCH_USD
    """``cost_mismatch`` in the provider's amount unit (dollars; Anthropic overrides: cents)."""

    # ------------------------------------------------------------------ provider hooks

    @abstractmethod
    def _usage_model_names(self, count: int) -> list[str]:
        """``count`` distinct model ids as they appear in usage reports."""

    @abstractmethod
    def _org(self, key: str) -> dict[str, Any]:
        """The organization behind an admin key: ids of its projects/workspaces, API keys..."""

    @abstractmethod
    def _draw_rows(self, rng: random.Random, org: Mapping[str, Any], model: str) -> list[UsageRow]:
        """The finest-grained usage rows of one active (org, day, model)."""

    @abstractmethod
    def _cost_rows(self, model: str, row: UsageRow) -> list[UsageRow]:
        """The cost rows (provider units, metric ``amount``) of one usage row; the output-token row
        carries ``dims["token_kind"] == "output"``."""

    @abstractmethod
    def _record(self, day: date, model: str, rows: Sequence[UsageRow]) -> UsageRecord:
        """The provider-neutral record a correct client makes of one (day, model)."""

    @abstractmethod
    def price_usage(self, record: UsageRecord) -> Decimal:
        """What ``record`` costs in dollars at this fake's prices (the same prices the cost report
        is computed with, so ``expected_costs`` equals ``price_usage`` of ``expected_usage``)."""

    # ------------------------------------------------------------------ generated rows

    def _clear_usage(self) -> None:
        self._corruptions: list[Corruption] = []
        self._quiet_days: set[date] = set()

    def usage_models(self) -> list[str]:
        """The models of the usage/cost reports, in report order; the first is used every day."""
        return self._usage_model_names(self.usage_model_count)

    def _clean_rows(self, key: str, day: date, model: str, index: int) -> list[UsageRow]:
        if day in self._quiet_days:
            return []
        rng = usage_rng(self.seed, key, day.isoformat(), model)
        active = rng.random() < self.activity_rate
        if index > 0 and not active:
            return []
        return self._draw_rows(rng, self._org(key), model)

    def usage_rows(self, key: str, day: date, *, clean: bool = False) -> list[UsageRow]:
        """Every finest-grained usage row of ``key``'s org on ``day`` (all models), with the
        day's corruptions applied unless ``clean``. Row dims include ``model``."""
        rows: list[UsageRow] = []
        negated = set() if clean else self._targets(day, "negative_tokens")
        for index, model in enumerate(self.usage_models()):
            for row in self._clean_rows(key, day, model, index):
                if model in negated:
                    metrics = {**row.metrics, "output_tokens": -abs(row.metrics["output_tokens"])}
                    rows.append(UsageRow(row.dims, metrics))
                else:
                    rows.append(row)
        return rows

    def cost_rows(self, key: str, day: date, *, clean: bool = False) -> list[UsageRow]:
        """Every finest-grained cost row (metric ``amount`` in the provider's unit) of ``key``'s org
        on ``day``, with ``cost_mismatch`` applied unless ``clean``. Costs are priced from the clean
        usage: ``negative_tokens`` does not change them."""
        rows: list[UsageRow] = []
        shifted = set() if clean else self._targets(day, "cost_mismatch")
        for index, model in enumerate(self.usage_models()):
            for usage in self._clean_rows(key, day, model, index):
                for row in self._cost_rows(model, usage):
                    if model in shifted and row.dims.get("token_kind") == "output":
                        metrics = {**row.metrics, "amount": row.metrics["amount"] + self.cost_mismatch_delta}
                        rows.append(UsageRow(row.dims, metrics))
                        shifted.discard(model)
                    else:
                        rows.append(row)
        return rows

    def bucket_copies(self, day: date) -> int:
        """How many times the bucket of ``day`` is served (2 under ``duplicate_row``)."""
        return 2 if self._targets(day, "duplicate_row") else 1

    # ------------------------------------------------------------------ the truth

    def expected_usage(self, key: str, start: date, end: date) -> dict[tuple[date, str], UsageRecord]:
        """The clean truth for ``start``..``end`` (inclusive): one record per (day, model) that had
        activity, mapped exactly as a correct client maps the report."""
        expected: dict[tuple[date, str], UsageRecord] = {}
        for day in days_between(start, end):
            for index, model in enumerate(self.usage_models()):
                rows = self._clean_rows(key, day, model, index)
                if rows:
                    expected[(day, model)] = self._record(day, model, rows)
        return expected

    def expected_costs(self, key: str, start: date, end: date) -> dict[tuple[date, str], Decimal]:
        """The clean cost truth in exact dollars per (day, model) that had activity."""
        expected: dict[tuple[date, str], Decimal] = {}
        for (day, model), record in self.expected_usage(key, start, end).items():
            expected[(day, model)] = self.price_usage(record)
        return expected

    # ------------------------------------------------------------------ defects

    def corrupt(self, day: date, kind: str, *, model: str | None = None) -> Corruption:
        """Make the data served for ``day`` break one data-quality rule (see
        :data:`CORRUPTION_KINDS` for exactly what each kind does). ``model`` defaults to the first
        usage model, which is active every day; ``duplicate_row`` affects the whole day."""
        if kind not in CORRUPTION_KINDS:
            raise ValueError(f"unknown corruption {kind!r}; expected one of {', '.join(CORRUPTION_KINDS)}")
        if kind == "duplicate_row":
            target = None
        else:
            target = model if model is not None else self.usage_models()[0]
            if target not in self.usage_models():
                raise ValueError(f"{target!r} is not one of this fake's usage models")
        corruption = Corruption(day, kind, target)
        with self._lock:
            self._corruptions.append(corruption)
            self._changed()
        return corruption

    def quiet(self, day: date) -> None:
        """No usage and no cost on ``day`` for every org: its buckets come back with no results."""
        with self._lock:
            self._quiet_days.add(day)
            self._changed()

    @property
    def quiet_days(self) -> list[date]:
        with self._lock:
            return sorted(self._quiet_days)

    @property
    def corruptions(self) -> list[Corruption]:
        with self._lock:
            return list(self._corruptions)

    def _targets(self, day: date, kind: str) -> set[str | None]:
        with self._lock:
            return {c.model for c in self._corruptions if c.day == day and c.kind == kind}
