"""How each emulated Google API names itself in a 401: its service name, its body shape, and the
RPC method a REST request maps to (``details[0].metadata.method`` of the ErrorInfo).

The method names follow the services' published protos (``google.cloud.bigquery.v2.JobService``,
``google.cloud.kms.v1.KeyManagementService``); two were seen in real 401 bodies
(``...JobService.InsertJob``, ``...KeyManagementService.Decrypt``, see
:class:`~fakes.google_oauth.exceptions.AccessTokenExpired`), the others are the same pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_BIGQUERY = "google.cloud.bigquery.v2."
_KMS = "google.cloud.kms.v1.KeyManagementService."


@dataclass(frozen=True)
class ServiceProfile:
    """``legacy_errors``: the body carries the v2 ``errors`` list (BigQuery) or not (Cloud KMS)."""

    service: str
    legacy_errors: bool
    method_name: Callable[[str, str], str | None]


_BIGQUERY_ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (
        re.compile(r"/projects/[^/]+/datasets/[^/]+/tables/[^/]+/insertAll$"),
        {"POST": "TableDataService.InsertAll"},
    ),
    (re.compile(r"/projects/[^/]+/datasets/[^/]+/tables/[^/]+/data$"), {"GET": "TableDataService.List"}),
    (
        re.compile(r"/projects/[^/]+/datasets/[^/]+/tables/[^/]+$"),
        {
            "GET": "TableService.GetTable",
            "PATCH": "TableService.PatchTable",
            "PUT": "TableService.UpdateTable",
            "DELETE": "TableService.DeleteTable",
        },
    ),
    (
        re.compile(r"/projects/[^/]+/datasets/[^/]+/tables$"),
        {"GET": "TableService.ListTables", "POST": "TableService.InsertTable"},
    ),
    (
        re.compile(r"/projects/[^/]+/datasets/[^/]+$"),
        {
            "GET": "DatasetService.GetDataset",
            "PATCH": "DatasetService.PatchDataset",
            "PUT": "DatasetService.UpdateDataset",
            "DELETE": "DatasetService.DeleteDataset",
        },
    ),
    (
        re.compile(r"/projects/[^/]+/datasets$"),
        {"GET": "DatasetService.ListDatasets", "POST": "DatasetService.InsertDataset"},
    ),
    (re.compile(r"/projects/[^/]+/queries/[^/]+$"), {"GET": "JobService.GetQueryResults"}),
    (re.compile(r"/projects/[^/]+/queries$"), {"POST": "JobService.Query"}),
    (re.compile(r"/projects/[^/]+/jobs/[^/]+/cancel$"), {"POST": "JobService.CancelJob"}),
    (re.compile(r"/projects/[^/]+/jobs/[^/]+/delete$"), {"DELETE": "JobService.DeleteJob"}),
    (re.compile(r"/projects/[^/]+/jobs/[^/]+$"), {"GET": "JobService.GetJob"}),
    (re.compile(r"/projects/[^/]+/jobs$"), {"GET": "JobService.ListJobs", "POST": "JobService.InsertJob"}),
]


def bigquery_method(http_method: str, path: str) -> str | None:
    """``POST /bigquery/v2/projects/p/jobs`` -> ``google.cloud.bigquery.v2.JobService.InsertJob``."""
    for pattern, methods in _BIGQUERY_ROUTES:
        if pattern.search(path) and http_method in methods:
            return _BIGQUERY + methods[http_method]
    return None


_KMS_TYPES = {
    "keyRings": "KeyRing",
    "cryptoKeys": "CryptoKey",
    "cryptoKeyVersions": "CryptoKeyVersion",
    "importJobs": "ImportJob",
}


def kms_method(http_method: str, path: str) -> str | None:
    """``POST /v1/.../cryptoKeys/k:encrypt`` -> ``...KeyManagementService.Encrypt``; a resource or
    collection path -> ``Get``/``Update``/``List``/``Create`` of its type."""
    name, _, verb = path.removeprefix("/v1/").partition(":")
    if verb:
        return _KMS + verb[:1].upper() + verb[1:]
    segments = name.split("/")
    collection = len(segments) % 2 == 1  # projects/p/locations/l/keyRings: an odd count is a collection
    kind = _KMS_TYPES.get(segments[-1] if collection else segments[-2] if len(segments) > 1 else "")
    if kind is None:
        return None
    verbs = {"GET": "List", "POST": "Create"} if collection else {"GET": "Get", "PATCH": "Update"}
    if http_method not in verbs:
        return None
    return _KMS + verbs[http_method] + kind + ("s" if verbs[http_method] == "List" else "")


BIGQUERY = ServiceProfile("bigquery.googleapis.com", legacy_errors=True, method_name=bigquery_method)
KMS = ServiceProfile("cloudkms.googleapis.com", legacy_errors=False, method_name=kms_method)

__all__ = ["BIGQUERY", "KMS", "ServiceProfile", "bigquery_method", "kms_method"]
