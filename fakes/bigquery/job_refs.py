"""Table references inside a job's configuration (copy, extract and query destinations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes.bigquery.exceptions import RequiredParameterMissing
from fakes.bigquery.sql import TableRef


def table_ref(value: Any, name: str, project: str) -> TableRef:
    """A ``TableReference`` of the configuration; the job's project when it names none."""
    if not isinstance(value, Mapping) or not value.get("datasetId") or not value.get("tableId"):
        raise RequiredParameterMissing(name=name)
    return TableRef(str(value.get("projectId") or project), str(value["datasetId"]), str(value["tableId"]))
