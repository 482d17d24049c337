"""Reading a copy or extract job's configuration: its table references and its job-level fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes.bigquery.exceptions import RequiredParameterMissing, UnsupportedByFake
from fakes.bigquery.sql import TableRef


def table_ref(value: Any, name: str, project: str) -> TableRef:
    """A ``TableReference`` of the configuration; the job's project when it names none."""
    if not isinstance(value, Mapping) or not value.get("datasetId") or not value.get("tableId"):
        raise RequiredParameterMissing(name=name)
    return TableRef(str(value.get("projectId") or project), str(value["datasetId"]), str(value["tableId"]))


def check_job_fields(configuration: Mapping[str, Any], kind: str) -> None:
    """A 400 naming a job-level field (``dryRun``, ``jobTimeoutMs``...) a copy or extract job of
    the emulator would otherwise ignore; ``labels`` are kept on the job."""
    for name, value in configuration.items():
        if name not in (kind, "labels", "jobType") and value is not None:
            raise UnsupportedByFake(
                f"The emulator does not support configuration.{name} for {kind} jobs", reason="invalid"
            )
