"""A small Python client for the control plane (``/_harness``) of any process the harness serves:
``harness emulators up`` (any of its ports, or the edge port), the container image, ``harness serve``.

    from harness.control_client import ControlClient

    with ControlClient("http://127.0.0.1:9050") as control:    # root key: $CA_ROOT_API_KEY or the default
        control.reset()
        key = control.mint_key("openai")
        control.add_fault("openai", status=429, times=2, retry_after=1)
        control.add_backend_fault("warehouse", error="service_unavailable", for_seconds=20)
        rows = control.rows("my_dataset", "events").rows

One method per control; results are typed (frozen dataclasses); a refusal raises
:class:`ControlError` carrying the structured body ``{"error", "message", "error_id"}``. Only httpx is
needed, so a user's suite can use it without the rest of the harness being imported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, overload

import httpx

from harness.control import CONTROL_PREFIX, ROOT_KEY_HEADER
from harness.tls import shared_tls_context

DEFAULT_ROOT_KEY = "local-root-key"
BACKEND_PORTS = ("warehouse", "kms")
"""The ports whose faults the control plane arms as ``harness.faults.BackendFault`` (kept as
words here so this client needs only httpx)."""
ROOT_KEY_ENV = "CA_ROOT_API_KEY"


class ControlError(Exception):
    """The control plane refused a request (or did not answer as one): ``status``, the structured
    ``code`` and ``message``, the server's ``error_id`` and the whole ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.code = str(body.get("error", "HTTP_ERROR"))
        self.message = str(body.get("message", ""))
        self.error_id = body.get("error_id")
        super().__init__(f"{status} {self.code}: {self.message} (error_id {self.error_id})")


@dataclass(frozen=True)
class Info:
    tier: str
    seed: int | None
    clock: datetime
    urls: dict[str, str]
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class MaskedKey:
    key: str
    admin: bool


@dataclass(frozen=True)
class Fault:
    status: int | None
    timeout: bool
    remaining: int
    retry_after: float | str | None


@dataclass(frozen=True)
class Table:
    project: str
    dataset_id: str
    table_id: str
    schema: list[dict[str, Any]]
    time_partitioning: dict[str, Any] | None
    clustering_fields: list[str]
    num_rows: int


@dataclass(frozen=True)
class RowPage:
    rows: list[dict[str, Any]]
    total_rows: int
    next_start: int | None


@dataclass(frozen=True)
class KmsVersion:
    name: str
    state: str
    algorithm: str


@dataclass(frozen=True)
class KmsKey:
    name: str
    purpose: str
    primary: str | None
    versions: list[KmsVersion]


@dataclass(frozen=True)
class KeyRing:
    name: str
    keys: list[KmsKey]


class ControlClient:
    """The controls of one served process. ``base_url`` is any URL of that process (an emulator's,
    the edge port's, or ``harness serve``'s api-service); ``root_key`` defaults to
    ``$CA_ROOT_API_KEY``, then the local default ``local-root-key``."""

    def __init__(
        self,
        base_url: str,
        *,
        root_key: str | None = None,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key = root_key or os.environ.get(ROOT_KEY_ENV) or DEFAULT_ROOT_KEY
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={ROOT_KEY_HEADER: key},
            timeout=timeout,
            transport=transport,
            verify=shared_tls_context(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ process, reset, clock

    def info(self) -> Info:
        body = self._call("GET", "")
        return Info(body["tier"], body.get("seed"), _time(body["clock"]), dict(body.get("urls", {})), body)

    def reset(self) -> None:
        """Every emulator's state back to fresh (same clock, same seed)."""
        self._call("POST", "/reset")

    def seed(self, text: str, *, json: bool = False) -> dict[str, Any]:
        """Seed the emulators from a seed file's text (YAML, or JSON with ``json=True``), all or
        nothing; the report names what was created and the provider keys minted for ``name:``
        entries. A broken file is a :class:`ControlError` ``SEED_INVALID`` with its line and field."""
        content_type = "application/json" if json else "application/yaml"
        return self._call("POST", "/seed", content=text.encode(), headers={"Content-Type": content_type})

    def now(self) -> datetime:
        return _time(self._call("GET", "/clock")["now"])

    def advance(self, delta: timedelta) -> datetime:
        """Move the process's clock ahead (never back); returns the new time."""
        return _time(self._call("POST", "/clock/advance", json={"seconds": delta.total_seconds()})["now"])

    # ------------------------------------------------------------------ providers

    def mint_key(self, provider: str, *, admin: bool = True) -> str:
        """A new key the provider emulator accepts (an admin key also reads usage and costs)."""
        return str(self._call("POST", f"/providers/{provider}/keys", json={"admin": admin})["key"])

    def keys(self, provider: str) -> list[MaskedKey]:
        """The keys the provider emulator accepts, masked."""
        body = self._call("GET", f"/providers/{provider}/keys")
        return [MaskedKey(k["key"], k["admin"]) for k in body["keys"]]

    def add_fault(
        self,
        provider: str,
        *,
        status: int | None = None,
        timeout: bool = False,
        times: int = 1,
        retry_after: float | None = None,
    ) -> int:
        """Queue a fault: the next ``times`` requests answer ``status``, or never answer with
        ``timeout=True``. Returns how many faults are pending."""
        body: dict[str, Any] = {"times": times}
        if timeout:
            body["timeout"] = True
        if status is not None:
            body["status"] = status
        if retry_after is not None:
            body["retry_after"] = retry_after
        return int(self._call("POST", f"/providers/{provider}/faults", json=body)["pending_faults"])

    @overload
    def faults(self) -> dict[str, Any]: ...

    @overload
    def faults(self, provider: str) -> list[Fault]: ...

    def faults(self, provider: str | None = None) -> dict[str, Any] | list[Fault]:
        """A provider's pending faults; without one, every pending fault of the process:
        ``{"backend": [warehouse and KMS faults], "providers": {name: [faults]}}``."""
        if provider is None:
            return self._call("GET", "/faults")
        body = self._call("GET", f"/providers/{provider}/faults")
        return [Fault(f["status"], f["timeout"], f["remaining"], f["retry_after"]) for f in body["faults"]]

    def clear_faults(self, port: str | None = None) -> int:
        """Drop the queued faults of one port (``warehouse``, ``kms``, or a provider), or of every
        port with None; returns how many were pending."""
        if port is None:
            path = "/faults"
        elif port in BACKEND_PORTS:
            path = f"/faults/{port}"
        else:
            path = f"/providers/{port}/faults"
        return int(self._call("DELETE", path)["cleared"])

    # ------------------------------------------------------------------ warehouse and KMS faults

    def add_backend_fault(self, port: str, **spec: Any) -> dict[str, Any]:
        """Arm a warehouse or KMS fault (``port`` is ``warehouse`` or ``kms``; ``spec``: ``error``,
        ``operation``, ``table``, ``times``, ``after``, ``for_seconds``). Returns
        ``{"port", "pending": [...]}``: that port's faults still pending."""
        return self._call("POST", f"/faults/{port}", json=spec)

    # ------------------------------------------------------------------ state reads

    def datasets(self, project: str | None = None) -> list[str]:
        body = self._call("GET", "/bigquery/datasets", params=_given(project=project))
        return [d["dataset_id"] for d in body["datasets"]]

    def tables(self, dataset: str, project: str | None = None) -> list[Table]:
        body = self._call("GET", f"/bigquery/datasets/{dataset}/tables", params=_given(project=project))
        return [_table(t) for t in body["tables"]]

    def table(self, dataset: str, table: str, project: str | None = None) -> Table:
        path = f"/bigquery/datasets/{dataset}/tables/{table}"
        return _table(self._call("GET", path, params=_given(project=project)))

    def rows(
        self, dataset: str, table: str, *, project: str | None = None, start: int = 0, max_results: int = 500
    ) -> RowPage:
        """One page of a table's rows, in insertion order (``next_start`` for the next page)."""
        params = _given(project=project, start=start, max_results=max_results)
        body = self._call("GET", f"/bigquery/datasets/{dataset}/tables/{table}/rows", params=params)
        return RowPage(body["rows"], body["total_rows"], body["next_start"])

    def key_rings(self, location: str | None = None) -> list[KeyRing]:
        """The KMS key rings of ``location`` (``projects/P/locations/L``; default: the configured
        key's) with their keys and versions; never key material."""
        body = self._call("GET", "/kms/keyRings", params=_given(location=location))
        return [
            KeyRing(
                ring["name"],
                [
                    KmsKey(
                        key["name"],
                        key["purpose"],
                        key["primary"],
                        [KmsVersion(v["name"], v["state"], v["algorithm"]) for v in key["versions"]],
                    )
                    for key in ring["keys"]
                ],
            )
            for ring in body["key_rings"]
        ]

    def org_rows(self, table: str, org_slug: str) -> int:
        """``harness serve`` only: an org's rows in a meta table, or all rows of a table in the
        org's own dataset (0 for a table that does not exist)."""
        return int(self._call("GET", f"/rows/{table}", params={"org_slug": org_slug})["rows"])

    # ------------------------------------------------------------------ internals

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, CONTROL_PREFIX + path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"error": "HTTP_ERROR", "message": response.text[:500]}
        if response.status_code >= 300 or not isinstance(body, dict):
            raise ControlError(response.status_code, body if isinstance(body, dict) else {"body": body})
        return body


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _given(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def _table(body: dict[str, Any]) -> Table:
    return Table(
        body["project"],
        body["dataset_id"],
        body["table_id"],
        body["schema"],
        body["time_partitioning"],
        body["clustering_fields"],
        body["num_rows"],
    )


__all__ = [
    "ControlClient",
    "ControlError",
    "Fault",
    "Info",
    "KeyRing",
    "KmsKey",
    "KmsVersion",
    "MaskedKey",
    "RowPage",
    "Table",
]
