"""One Google API exchange as plain data, and the error outcome a snapshot compares on every tier.

An exchange is a JSON-ready dict (what a recorder writes and a snapshot stores)::

    {"method": "POST", "path": "/bigquery/v2/projects/p/datasets/d/tables",
     "query": {"prettyPrint": "false"}, "request": {...} or None,
     "status": 400, "response": {...} or a text or None}

``query`` maps a parameter to its value (a list when it is repeated). The fake tier makes no HTTP
call, so what it can be compared on is the error's :class:`Outcome` (status, reason, message),
which every error response of a Google API carries in its body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Exchange = dict[str, Any]
"""``method``, ``path``, ``query``, ``request``, ``status``, ``response`` (see the module doc)."""

FIELDS = ("method", "path", "query", "request", "status", "response")


@dataclass(frozen=True)
class Outcome:
    """What an error answer says: HTTP status, reason and message.

    ``reason`` is BigQuery's ``error.errors[0].reason`` (``invalid``, ``notFound``...) or, for APIs
    without it such as Cloud KMS, the canonical code in ``error.status`` (``NOT_FOUND``)."""

    status: int
    reason: str | None
    message: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def exchange(
    method: str,
    path: str,
    *,
    status: int,
    query: Mapping[str, Any] | None = None,
    request: Any = None,
    response: Any = None,
) -> Exchange:
    """An exchange dict with every field present, in the stored order."""
    return {
        "method": method.upper(),
        "path": path,
        "query": dict(query or {}),
        "request": request,
        "status": status,
        "response": response,
    }


def check(value: Any, where: str) -> Exchange:
    """``value`` as an exchange, or a ``ValueError`` naming ``where`` and the missing field."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: an exchange is an object with {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if name not in value]
    if missing:
        raise ValueError(f"{where}: exchange without {', '.join(missing)}")
    if not isinstance(value["status"], int):
        raise ValueError(f"{where}: status: an HTTP status code, got {value['status']!r}")
    return exchange(
        str(value["method"]),
        str(value["path"]),
        status=value["status"],
        query=value["query"],
        request=value["request"],
        response=value["response"],
    )


def outcome_of(item: Exchange) -> Outcome | None:
    """The error outcome of an exchange, ``None`` when it succeeded (status below 400)."""
    status = int(item["status"])
    if status < 400:
        return None
    body = item.get("response")
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return Outcome(status, None, body if isinstance(body, str) else None)
    reason = None
    details = error.get("errors")
    if isinstance(details, Sequence) and details and isinstance(details[0], Mapping):
        reason = details[0].get("reason")
    return Outcome(status, reason or error.get("status"), error.get("message"))


def error_outcomes(exchanges: Sequence[Exchange]) -> list[Outcome]:
    """The outcomes of the exchanges that failed, in order."""
    return [outcome for item in exchanges if (outcome := outcome_of(item)) is not None]
