"""State shared by the OpenAI and Anthropic fakes: keys, faults, request log.

Both fakes answer the same questions — is this key issued, revoked or rate limited, must the
next request fail, what did clients send — so the bookkeeping lives here once and each provider
package only adds its key format, its error bodies and its routes (the moto split: state here,
wire format in ``app.py``). Nothing here knows about HTTP frameworks or respx, so the same state
drives the in-process mount and a fake served on a port.

Time: request timestamps come from the injected :class:`~harness.ports.Clock`. Delays are
*recorded*, never slept; the in-process mount turns a delay longer than the client's read timeout
into ``ReadTimeout``.

Usage and cost data (the providers' organization usage/cost reports) is generated here too, the
same way for both providers: an *admin key* stands for one organization; for every
``(seed, admin key, UTC day, model)`` a hash-seeded RNG decides whether the model was used that day
and draws the finest-grained rows (one per project/workspace, API key, batch/tier...). The first
usage model is used every day; the others are active with probability ``activity_rate``. The
provider packages turn rows into their wire shapes and say how a row maps to a
:class:`~harness.ports.UsageRecord` and what it costs; ``expected_usage`` / ``expected_costs`` are
computed from the generator, never from the HTTP layer, so tests compare a client's pull with an
independent truth. ``corrupt(day, kind)`` makes one day's served data break one data-quality rule
(see :data:`CORRUPTION_KINDS`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import random
import string
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from harness.ports import Clock, UsageRecord

SECRET_HEADERS = frozenset({"authorization", "x-api-key"})
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
ID_ALPHABET = string.ascii_letters + string.digits

# A timeout fault "takes" this long: longer than any sane client read timeout.
NEVER = math.inf

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


def mask_key(key: str) -> str:
    """Mask a key the way OpenAI's "Incorrect API key provided" message does.

    Observed in many real 401 bodies: the first 8 characters, one ``*`` per hidden character, the
    last 4 (``sk-4sJHr*****...*****w8ZP`` for a 51-character key; ``test-ope***-key`` for
    ``test-openai-key``). Keys of 12 characters or fewer come back whole (``test-key``).
    """
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for the request log, with credentials masked so logs can be printed and stored."""
    masked: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} {mask_key(secret)}" if secret and lower == "authorization" else mask_key(value)
        masked[lower] = value
    return masked


@dataclass
class Fault:
    """The next ``remaining`` requests answer ``status`` (or, with ``status=None``, answer normally
    but take ``delay`` seconds). ``retry_after`` is seconds, or a raw header value such as an
    HTTP-date; ``headers`` are added to the faulty response (e.g. ``x-should-retry``)."""

    status: int | None
    remaining: int
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RateLimit:
    """A key that is over its limit until cleared."""

    retry_after: float | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it. Credentials in ``headers`` are masked."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    request_id: str
    status: int
    at: datetime
    delay: float = 0.0
    fault: bool = False


@dataclass
class ProviderState:
    """Keys, faults and the request log of one fake provider. Thread-safe (the emulator serves
    threads). Subclasses define :meth:`_mint_key`, :meth:`_mint_request_id` and the default models.
    """

    seed: int = 0
    clock: Clock | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    usage_model_count: int = 4
    """How many models appear in the usage/cost reports (a test can ask for 20)."""
    activity_rate: float = 0.7
    """Chance that a model other than the first was used on a given day (per org)."""
    admin_keys_list_models: bool = True
    """Whether admin keys are accepted by ``GET /v1/models``. True so one credential both validates
    and pulls usage in our flow; both real providers document that admin keys work only on
    administration endpoints, so set False for the real behaviour."""

    def __post_init__(self) -> None:
        if self.usage_model_count < 1:
            raise ValueError("usage_model_count must be >= 1")
        if not 0.0 <= self.activity_rate <= 1.0:
            raise ValueError("activity_rate must be between 0 and 1")
        self._lock = threading.RLock()
        if not self.models:
            self.models = self.default_models()
        self._initial_models = [dict(m) for m in self.models]
        self._clear()

    # ------------------------------------------------------------------ subclass hooks

    def default_models(self) -> list[dict[str, Any]]:
        return []

    def _mint_key(self, rng: random.Random) -> str:
        raise NotImplementedError

    def _mint_request_id(self, rng: random.Random) -> str:
        raise NotImplementedError

    def _mint_admin_key(self, rng: random.Random) -> str:
        raise NotImplementedError

    def _usage_model_names(self, count: int) -> list[str]:
        """``count`` distinct model ids as they appear in usage reports."""
        raise NotImplementedError

    def _org(self, key: str) -> dict[str, Any]:
        """The organization behind an admin key: ids of its projects/workspaces, API keys..."""
        raise NotImplementedError

    def _draw_rows(self, rng: random.Random, org: Mapping[str, Any], model: str) -> list[UsageRow]:
        """The finest-grained usage rows of one active (org, day, model)."""
        raise NotImplementedError

    def _cost_rows(self, model: str, row: UsageRow) -> list[UsageRow]:
        """The cost rows (provider units, metric ``amount``) of one usage row; the output-token row
        carries ``dims["token_kind"] == "output"``."""
        raise NotImplementedError

    def _record(self, day: date, model: str, rows: Sequence[UsageRow]) -> UsageRecord:
        """The provider-neutral record a correct client makes of one (day, model)."""
        raise NotImplementedError

    def price_usage(self, record: UsageRecord) -> Decimal:
        """What ``record`` costs in dollars at this fake's prices (the same prices the cost report
        is computed with, so ``expected_costs`` equals ``price_usage`` of ``expected_usage``)."""
        raise NotImplementedError

    cost_mismatch_delta: ClassVar[Decimal] = COST_MISMATCH_USD
    """``cost_mismatch`` in the provider's amount unit (dollars; Anthropic overrides: cents)."""

    # ------------------------------------------------------------------ lifecycle

    def _clear(self) -> None:
        self._key_rng = random.Random(f"{self.seed}:keys")
        self._id_rng = random.Random(f"{self.seed}:ids")
        self.valid_keys: set[str] = set()
        self.revoked_keys: set[str] = set()
        self.rate_limited: dict[str, RateLimit] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._admin_rng = random.Random(f"{self.seed}:admin-keys")
        self.admin_keys: set[str] = set()
        self._corruptions: list[Corruption] = []

    def reset(self) -> None:
        """Back to the freshly built state: same seed, so the same keys get issued again."""
        with self._lock:
            self.models = [dict(m) for m in self._initial_models]
            self._clear()

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    # ------------------------------------------------------------------ keys

    def issue_key(self) -> str:
        """Mint a realistic-looking key (deterministic from the seed) and make it valid."""
        with self._lock:
            key = self._mint_key(self._key_rng)
            self.valid_keys.add(key)
            return key

    def add_key(self, key: str) -> str:
        """Accept a key chosen by the caller (e.g. one quoted in a scenario file)."""
        with self._lock:
            self.valid_keys.add(key)
            self.revoked_keys.discard(key)
            return key

    def issue_admin_key(self) -> str:
        """Mint a realistic admin key (deterministic from the seed): valid on the usage and cost
        endpoints, and on ``GET /v1/models`` while ``admin_keys_list_models`` is True."""
        with self._lock:
            key = self._mint_admin_key(self._admin_rng)
            self.valid_keys.add(key)
            self.admin_keys.add(key)
            return key

    def add_admin_key(self, key: str) -> str:
        """Accept a caller-chosen key as an admin key."""
        with self._lock:
            self.valid_keys.add(key)
            self.revoked_keys.discard(key)
            self.admin_keys.add(key)
            return key

    def is_admin(self, key: str) -> bool:
        with self._lock:
            return key in self.admin_keys

    def revoke(self, key: str) -> None:
        with self._lock:
            self.valid_keys.discard(key)
            self.revoked_keys.add(key)

    def is_valid(self, key: str) -> bool:
        with self._lock:
            return key in self.valid_keys

    def rate_limit(self, key: str, *, retry_after: float | None = None) -> None:
        """Every request with ``key`` answers 429 until :meth:`clear_rate_limit`."""
        with self._lock:
            self.rate_limited[key] = RateLimit(retry_after)

    def clear_rate_limit(self, key: str) -> None:
        with self._lock:
            self.rate_limited.pop(key, None)

    def rate_limit_for(self, key: str) -> RateLimit | None:
        with self._lock:
            return self.rate_limited.get(key)

    # ------------------------------------------------------------------ faults

    def add_fault(
        self,
        status: int | None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        retry_after_ms: int | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue a fault: the next ``times`` requests answer ``status`` (429, 500, 503, 529...).

        ``status=None`` with a ``delay`` answers normally but slowly; faults queue in order.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"a fault status must be 4xx or 5xx, got {status}")
        if delay < 0:
            raise ValueError("delay must be >= 0")
        with self._lock:
            self._faults.append(Fault(status, times, retry_after, retry_after_ms, delay, dict(headers or {})))

    def add_timeout(self, *, times: int = 1, delay: float = NEVER) -> None:
        """The next ``times`` requests take ``delay`` seconds (default: never answer), which the
        in-process mount turns into ``ReadTimeout`` when it exceeds the client's read timeout."""
        self.add_fault(None, times=times, delay=delay)

    def take_fault(self) -> Fault | None:
        """Consume one use of the head fault; the app calls this once per request."""
        with self._lock:
            if not self._faults:
                return None
            head = self._faults[0]
            head.remaining -= 1
            if head.remaining == 0:
                self._faults.pop(0)
            return replace(head, headers=dict(head.headers))

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [replace(f) for f in self._faults]

    # ------------------------------------------------------------------ usage data

    def usage_models(self) -> list[str]:
        """The models of the usage/cost reports, in report order; the first is used every day."""
        return self._usage_model_names(self.usage_model_count)

    def _clean_rows(self, key: str, day: date, model: str, index: int) -> list[UsageRow]:
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
                    metrics = dict(row.metrics)
                    metrics["output_tokens"] = -abs(metrics["output_tokens"])
                    row = UsageRow(row.dims, metrics)
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
                        row = UsageRow(row.dims, metrics)
                        shifted.discard(model)
                    rows.append(row)
        return rows

    def bucket_copies(self, day: date) -> int:
        """How many times the bucket of ``day`` is served (2 under ``duplicate_row``)."""
        return 2 if self._targets(day, "duplicate_row") else 1

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
        return corruption

    @property
    def corruptions(self) -> list[Corruption]:
        with self._lock:
            return list(self._corruptions)

    def _targets(self, day: date, kind: str) -> set[str | None]:
        with self._lock:
            return {c.model for c in self._corruptions if c.day == day and c.kind == kind}

    # ------------------------------------------------------------------ request log

    def new_request_id(self) -> str:
        with self._lock:
            return self._mint_request_id(self._id_rng)

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        request_id: str,
        status: int,
        delay: float = 0.0,
        fault: bool = False,
    ) -> RecordedRequest:
        entry = RecordedRequest(
            method=method,
            path=path,
            query=query,
            headers=mask_headers(headers),
            request_id=request_id,
            status=status,
            at=self.now(),
            delay=delay,
            fault=fault,
        )
        with self._lock:
            self._requests.append(entry)
        return entry

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def find_request(self, request_id: str | None) -> RecordedRequest | None:
        if not request_id:
            return None
        with self._lock:
            for entry in reversed(self._requests):
                if entry.request_id == request_id:
                    return entry
        return None


def random_chars(rng: random.Random, n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def retry_after_headers(retry_after: float | str | None, retry_after_ms: int | None) -> dict[str, str]:
    """``retry-after`` in whole seconds when integral (what servers send) or verbatim when given as
    text (an HTTP-date), plus ``retry-after-ms``."""
    headers: dict[str, str] = {}
    if isinstance(retry_after, str):
        headers["retry-after"] = retry_after
    elif retry_after is not None:
        headers["retry-after"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return headers


# ------------------------------------------------------------------------------- usage data


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


# ------------------------------------------------------------------------- buckets and cursors

BUCKET_WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


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


def format_decimal(value: Decimal) -> str:
    """A Decimal as plain positional text, never scientific (``Decimal("1E+2")`` -> ``"100"``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
