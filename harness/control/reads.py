"""State reads of the control plane: BigQuery datasets, tables (with schema), a table's rows
(paged), and KMS key rings with their keys and versions (state, algorithm; never key material).

They read the emulators' state directly rather than through the emulated APIs, so a test in
another language can check what its own code wrote without a BigQuery or KMS client of its own.
Values are plain JSON: timestamps and dates in ISO 8601, NUMERIC as a string (no float rounding),
BYTES in base64 as BigQuery's REST API sends them.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from harness.control.target import Controlled
from harness.onboarding.errors import NotFound
from harness.ports import NotFoundError, TableInfo

T = TypeVar("T")
MAX_PAGE = 10_000
BigQueryId = Annotated[str, Query(pattern=r"^[A-Za-z0-9_.:-]{1,1024}$")]
_LOCATION = r"^projects/[^/]+/locations/[^/]+$"


def state_router(controlled: Controlled) -> APIRouter:
    """Read-only routes; mounted by :func:`harness.control.routes.control_router` under its prefix
    and root-key dependency."""
    router = APIRouter()

    @router.get("/bigquery/datasets")
    def datasets(project: BigQueryId | None = None) -> dict[str, Any]:
        project = project or controlled.project
        found = controlled.engine().list_datasets(project)
        return {"project": project, "datasets": [_json(dataclasses.asdict(d)) for d in found]}

    @router.get("/bigquery/datasets/{dataset}/tables")
    def tables(dataset: str, project: BigQueryId | None = None) -> dict[str, Any]:
        project = project or controlled.project
        found = _or_404(lambda: controlled.engine().list_tables(project, dataset))
        return {"project": project, "dataset_id": dataset, "tables": [_table(t) for t in found]}

    @router.get("/bigquery/datasets/{dataset}/tables/{table}")
    def table(dataset: str, table: str, project: BigQueryId | None = None) -> dict[str, Any]:
        project = project or controlled.project
        return _table(_or_404(lambda: controlled.engine().get_table(project, dataset, table)))

    @router.get("/bigquery/datasets/{dataset}/tables/{table}/rows")
    def rows(
        dataset: str,
        table: str,
        project: BigQueryId | None = None,
        start: Annotated[int, Query(ge=0)] = 0,
        max_results: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
    ) -> dict[str, Any]:
        """One page of rows in insertion order; ``next_start`` is None on the last page."""
        project = project or controlled.project
        page, total = _or_404(
            lambda: controlled.engine().list_rows(
                project, dataset, table, start_index=start, max_results=max_results
            )
        )
        following = start + len(page)
        return {
            "project": project,
            "dataset_id": dataset,
            "table_id": table,
            "rows": [_json(row) for row in page],
            "total_rows": total,
            "next_start": following if following < total else None,
        }

    @router.get("/kms/keyRings")
    def key_rings(location: Annotated[str | None, Query(pattern=_LOCATION)] = None) -> dict[str, Any]:
        """Every key ring of ``location`` with its keys and their versions."""
        location = location or controlled.kms_location
        kms = controlled.key_rings()
        rings = []
        for ring in kms.list_key_rings(location):
            keys = []
            for key in kms.list_crypto_keys(ring["name"]):
                versions = [_version(v) for v in kms.list_crypto_key_versions(key["name"])]
                primary = key.get("primary")
                keys.append(
                    {
                        "name": key["name"],
                        "purpose": key["purpose"],
                        "primary": primary["name"] if primary else None,
                        "labels": dict(key["labels"]),
                        "create_time": key["createTime"].isoformat(),
                        "versions": versions,
                    }
                )
            rings.append({"name": ring["name"], "create_time": ring["createTime"].isoformat(), "keys": keys})
        return {"location": location, "key_rings": rings}

    return router


def _or_404(read: Callable[[], T]) -> T:
    try:
        return read()
    except NotFoundError as exc:
        raise NotFound(exc.message) from exc


def _table(info: TableInfo) -> dict[str, Any]:
    spec = info.spec
    return _json(
        {
            "project": info.project,
            "dataset_id": info.dataset_id,
            "table_id": spec.table_id,
            "schema": [dataclasses.asdict(field) for field in spec.schema],
            "time_partitioning": (
                dataclasses.asdict(spec.time_partitioning) if spec.time_partitioning else None
            ),
            "clustering_fields": list(spec.clustering_fields),
            "num_rows": info.num_rows,
            "created": info.created,
            "modified": info.modified,
        }
    )


def _version(version: dict[str, Any]) -> dict[str, Any]:
    """A version's public face: no key material is ever in a KMS resource, and none is added."""
    keep = ("name", "state", "algorithm", "protectionLevel", "createTime", "destroyTime")
    return _json({name: version[name] for name in keep if name in version})


def _json(value: Any) -> Any:
    """Plain JSON for a BigQuery row or a catalog entry (see the module docstring)."""
    return jsonable_encoder(
        value,
        custom_encoder={
            bytes: lambda raw: base64.b64encode(raw).decode("ascii"),
            Decimal: str,
            datetime: datetime.isoformat,
            date: date.isoformat,
            time: time.isoformat,
        },
    )


__all__ = ["MAX_PAGE", "state_router"]
