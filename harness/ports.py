"""The ports the domain code talks to, and the error taxonomy every backend maps onto.

Domain logic imports only this module (and ``harness.schema``): the in-process fake, the REST
emulator behind the real Google client, and real BigQuery all raise these errors, so the same
onboarding code behaves the same on every tier.

It stays one module, longer than the house's ~400 lines, on purpose: it is the whole contract
between the domain and every backend (protocols, value types and the error taxonomy), read in one
place by whoever writes a new tier or a new fake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from harness.schema.spec import FieldSpec, TableSpec

# --------------------------------------------------------------------------------------- clock


@runtime_checkable
class Clock(Protocol):
    """The one source of time. ``now()`` is always timezone-aware UTC."""

    def now(self) -> datetime: ...


# -------------------------------------------------------------------------------------- errors


class WarehouseError(Exception):
    """A warehouse failure in BigQuery's terms: HTTP status, error reason and message."""

    status: int = 400
    reason: str = "invalid"
    retryable: bool = False

    def __init__(self, message: str, *, reason: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.reason}: {self.message!r})"


class NotFoundError(WarehouseError):
    status = 404
    reason = "notFound"


class AlreadyExistsError(WarehouseError):
    status = 409
    reason = "duplicate"


class InvalidRequestError(WarehouseError):
    """400 with BigQuery's reason (``invalid``, ``invalidQuery``...)."""

    status = 400
    reason = "invalid"


class ResourceInUseError(WarehouseError):
    status = 400
    reason = "resourceInUse"


class StreamingBufferError(InvalidRequestError):
    """DML that would touch rows still in the streaming buffer."""

    reason = "invalidQuery"


class TransientError(WarehouseError):
    """5xx, rate limits and other failures a caller may retry."""

    status = 503
    reason = "backendError"
    retryable = True


@dataclass(frozen=True)
class RowError:
    """One rejected row of a streaming insert (``insertErrors[]``)."""

    index: int
    reason: str
    message: str
    location: str | None = None


class InsertRowsError(InvalidRequestError):
    """Some rows of an insert were rejected; ``row_errors`` says which and why."""

    def __init__(self, message: str, row_errors: Sequence[RowError]) -> None:
        super().__init__(message)
        self.row_errors = tuple(row_errors)


# ------------------------------------------------------------------------------------ results


class InsertMode(StrEnum):
    """How rows reach a table: a DML ``INSERT`` job, or ``tabledata.insertAll`` streaming."""

    DML = "dml"
    STREAMING = "streaming"


@dataclass(frozen=True)
class QueryParam:
    """A query parameter with an explicit BigQuery type, for when the Python value is ambiguous."""

    type: str
    value: Any


_PYTHON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"),  # before int: a bool is an int
    (int, "INT64"),
    (float, "FLOAT64"),
    (Decimal, "NUMERIC"),
    (str, "STRING"),
    (bytes, "BYTES"),
    (date, "DATE"),
    (time, "TIME"),
)


def scalar_type(value: Any) -> str:
    """The BigQuery type of a plain Python parameter value, as google-cloud-bigquery's DB-API types
    it (None → STRING, aware datetime → TIMESTAMP, naive → DATETIME): one rule for every backend,
    so a value one tier refuses, every tier refuses with the same message."""
    if value is None:
        return "STRING"
    if isinstance(value, datetime):
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    for python_type, name in _PYTHON_TYPES:
        if isinstance(value, python_type):
            return name
    raise InvalidRequestError(
        f"Cannot infer a query parameter type for {type(value).__name__}; use QueryParam",
        reason="invalidQuery",
    )


@dataclass(frozen=True)
class DatasetInfo:
    project: str
    dataset_id: str
    location: str
    description: str | None
    labels: Mapping[str, str]
    created: datetime
    modified: datetime
    default_table_expiration_ms: int | None = None
    """``defaultTableExpirationMs``: new tables in the dataset expire this long after creation."""


@dataclass(frozen=True)
class StreamingBufferInfo:
    estimated_rows: int
    oldest_entry_time: datetime


@dataclass(frozen=True)
class TableInfo:
    project: str
    dataset_id: str
    spec: TableSpec
    num_rows: int
    created: datetime
    modified: datetime
    streaming_buffer: StreamingBufferInfo | None = None

    @property
    def table_id(self) -> str:
        return self.spec.table_id

    @property
    def full_id(self) -> str:
        return f"{self.project}.{self.dataset_id}.{self.spec.table_id}"


@dataclass(frozen=True)
class QueryResult:
    """Rows as plain Python values: tz-aware UTC datetimes, Decimal for NUMERIC, dicts/lists for
    RECORD/REPEATED. DDL and DML report ``statement_type`` and ``affected_rows``.

    ``total_bytes_processed`` is computed on first access: most callers never ask, and on the
    fake it costs a scan of the referenced columns.
    """

    rows: list[dict[str, Any]]
    schema: tuple[FieldSpec, ...] = ()
    statement_type: str = "SELECT"
    affected_rows: int | None = None
    job_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    bytes_processed: Callable[[], int] | int = field(default=0, repr=False, compare=False)

    @property
    def total_bytes_processed(self) -> int:
        value = self.bytes_processed
        if callable(value):
            value = value()
            object.__setattr__(self, "bytes_processed", value)
        return value

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def scalar(self) -> Any:
        """The single value of a one-row, one-column result."""
        if len(self.rows) != 1 or len(self.rows[0]) != 1:
            raise ValueError(f"expected one row with one column, got {len(self.rows)} rows")
        return next(iter(self.rows[0].values()))


# ----------------------------------------------------------------------------------- warehouse


@runtime_checkable
class Warehouse(Protocol):
    """BigQuery as the domain needs it, bound to one project.

    Queries are BigQuery SQL with named ``@params``; plain Python values are typed the way the
    google-cloud-bigquery client types them, a :class:`QueryParam` overrides that.
    """

    project: str

    def create_dataset(
        self,
        dataset_id: str,
        *,
        location: str = "US",
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        exists_ok: bool = False,
        default_table_expiration_ms: int | None = None,
    ) -> DatasetInfo: ...

    def get_dataset(self, dataset_id: str) -> DatasetInfo: ...

    def list_datasets(self) -> list[DatasetInfo]: ...

    def delete_dataset(
        self, dataset_id: str, *, delete_contents: bool = False, not_found_ok: bool = False
    ) -> None: ...

    def create_table(self, dataset_id: str, spec: TableSpec, *, exists_ok: bool = False) -> TableInfo: ...

    def get_table(self, dataset_id: str, table_id: str) -> TableInfo: ...

    def list_tables(self, dataset_id: str) -> list[TableInfo]: ...

    def patch_table(
        self,
        dataset_id: str,
        table_id: str,
        *,
        schema: Sequence[FieldSpec] | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        require_partition_filter: bool | None = None,
    ) -> TableInfo: ...

    def delete_table(self, dataset_id: str, table_id: str, *, not_found_ok: bool = False) -> None: ...

    def insert_rows(
        self,
        dataset_id: str,
        table_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        mode: InsertMode = InsertMode.DML,
    ) -> int: ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int: ...


# ---------------------------------------------------------------------------------- key manager


class KeyManagerError(Exception):
    """A Cloud KMS failure: HTTP status, the gRPC canonical code Cloud KMS reports, and its message."""

    status: int = 400
    code: str = "INVALID_ARGUMENT"
    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.code}: {self.message!r})"


class KeyNotFoundError(KeyManagerError):
    status = 404
    code = "NOT_FOUND"


class KeyAlreadyExistsError(KeyManagerError):
    status = 409
    code = "ALREADY_EXISTS"


class KeyStateError(KeyManagerError):
    """The key version is DISABLED, DESTROY_SCHEDULED or DESTROYED."""

    status = 400
    code = "FAILED_PRECONDITION"


class DecryptionError(KeyManagerError):
    """Tampered or foreign ciphertext, wrong key, or wrong additional authenticated data."""

    status = 400
    code = "INVALID_ARGUMENT"


class KeyPermissionError(KeyManagerError):
    status = 403
    code = "PERMISSION_DENIED"


class KeyManagerUnavailableError(KeyManagerError):
    status = 503
    code = "UNAVAILABLE"
    retryable = True


@dataclass(frozen=True)
class EncryptResult:
    ciphertext: bytes
    key_version: str
    """Full resource name of the version that encrypted, e.g. ``.../cryptoKeyVersions/1``."""


@runtime_checkable
class KeyManager(Protocol):
    """Cloud KMS symmetric encryption with one crypto key; the AAD binds a ciphertext to its owner."""

    key_name: str
    """``projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}``"""

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> EncryptResult: ...

    def decrypt(self, ciphertext: bytes, *, aad: bytes = b"") -> bytes: ...

    def primary_version(self) -> str:
        """Full name of the primary version; also the readiness probe (fails if KMS is unreachable)."""
        ...


# ---------------------------------------------------------------------------------- providers


class Provider(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of validating a provider credential with a real call."""

    valid: bool
    status: int
    error_type: str | None = None
    message: str | None = None


class ProviderUnavailableError(Exception):
    """The provider kept failing (429/5xx/timeouts) after bounded retries."""

    def __init__(self, provider: Provider, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status


@runtime_checkable
class CredentialValidator(Protocol):
    provider: Provider

    def validate(self, api_key: str) -> CredentialCheck: ...


@dataclass(frozen=True)
class UsageRecord:
    """One provider-neutral usage row: a UTC day, a model, token counts and request count."""

    day: date
    model: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    requests: int | None = None
    """Number of requests, where the provider reports it (OpenAI does, Anthropic does not)."""


@dataclass(frozen=True)
class CostRecord:
    """One provider-neutral cost row in USD. Anthropic reports cents as decimal strings, OpenAI
    dollars as numbers; both arrive here as exact ``Decimal`` dollars."""

    day: date
    model: str
    cost_usd: Decimal
    line_item: str | None = None


@dataclass(frozen=True)
class UsagePull:
    """What one fetch brought back, and how: records plus the pages and HTTP requests it took."""

    records: list[Any]
    pages: int
    requests: int


class ProviderAuthError(Exception):
    """The provider refused the stored credential (revoked or lacking permission since setup)."""

    def __init__(self, provider: Provider, status: int, message: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.message = message


class ProviderResponseError(Exception):
    """The provider answered in a way a client cannot use: a refused request (400/404, a bug on
    our side or an API change) or a 2xx that is not the documented shape. Never retried."""


@runtime_checkable
class UsageSource(Protocol):
    """A provider's usage and cost APIs, day-bucketed and grouped by model, all pages followed.

    ``start`` and ``end`` are inclusive UTC days. 401/403 raise :class:`ProviderAuthError`;
    429/5xx/timeouts are retried, then raise :class:`ProviderUnavailableError`.
    """

    provider: Provider

    def usage(self, api_key: str, start: date, end: date) -> UsagePull: ...

    def costs(self, api_key: str, start: date, end: date) -> UsagePull: ...
