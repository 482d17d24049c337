"""The two faces of the BigQuery fake a case runs through: the engine's Python API, and the REST
emulator read by the real google-cloud-bigquery client (what a user's service sees).

Both share one engine (the emulator serves it), so a file's tables are loaded once; each face turns
what it got into an :class:`~harness.conformance.compare.Outcome`. A DML case is answered with the
number of rows it changed and the target table's rows afterwards, as the corpus prints it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

from harness.conformance.compare import Outcome
from harness.ports import QueryParam, QueryResult, WarehouseError
from harness.schema.spec import DatasetSpec, FieldSpec, TableSpec

PROJECT = "conformance"


class Face(ABC):
    name: str

    @abstractmethod
    def run(
        self, sql: str, params: dict[str, Any], dataset: str, dml_target: str | None, time_zone: str = "UTC"
    ) -> Outcome:
        """Run one case in ``time_zone`` (the reference's default zone); never raises for an error
        the query itself causes."""


class EngineFace(Face):
    name = "engine"

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def run(
        self, sql: str, params: dict[str, Any], dataset: str, dml_target: str | None, time_zone: str = "UTC"
    ) -> Outcome:
        try:
            result = self.engine.query(PROJECT, sql, params, default_dataset=dataset, time_zone=time_zone)
            outcome = _from_result(result)
            if dml_target is not None:
                after = self.engine.query(PROJECT, f"SELECT * FROM `{dataset}.{dml_target}`")
                return Outcome(after.schema, _positional(after), affected_rows=result.affected_rows)
            return outcome
        except WarehouseError as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            return Outcome(error=f"internal error {type(exc).__name__}: {exc}", internal=True)


def _from_result(result: QueryResult) -> Outcome:
    return Outcome(result.schema, _positional(result), affected_rows=result.affected_rows)


def _positional(result: QueryResult) -> list[tuple[Any, ...]]:
    names = [spec.name for spec in result.schema]
    return [tuple(row.get(name) for name in names) for row in result.rows]


class RestFace(Face):
    """google-cloud-bigquery against the emulator's REST API, with ``QueryJobConfig.default_dataset``,
    typed query parameters and the ``time_zone`` connection property, as a user's code calls it."""

    name = "rest"

    def __init__(self, url: str) -> None:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        logging.getLogger("google").setLevel(logging.ERROR)
        self._bigquery = bigquery
        self.client = bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=url),
        )

    def run(
        self, sql: str, params: dict[str, Any], dataset: str, dml_target: str | None, time_zone: str = "UTC"
    ) -> Outcome:
        from google.api_core import exceptions as google_errors

        bigquery = self._bigquery
        try:
            config = bigquery.QueryJobConfig(
                default_dataset=f"{PROJECT}.{dataset}",
                query_parameters=[_parameter(bigquery, name, value) for name, value in params.items()],
                connection_properties=[bigquery.ConnectionProperty("time_zone", time_zone)],
            )
            # jobs.query (one round trip when the answer is ready), as query_and_wait sends it.
            rows = self.client.query_and_wait(sql, job_config=config, retry=None, job_retry=None)
            if dml_target is not None:
                after = self.client.query_and_wait(
                    f"SELECT * FROM `{dataset}.{dml_target}`", retry=None, job_retry=None
                )
                return Outcome(
                    tuple(FieldSpec.from_api(f.to_api_repr()) for f in after.schema),
                    [tuple(row.values()) for row in after],
                    affected_rows=rows.num_dml_affected_rows,
                )
            schema = tuple(FieldSpec.from_api(f.to_api_repr()) for f in (rows.schema or ()))
            return Outcome(
                schema, [tuple(row.values()) for row in rows], affected_rows=rows.num_dml_affected_rows
            )
        except google_errors.GoogleAPICallError as exc:
            return Outcome(
                error=f"{type(exc).__name__}: {exc.message}",
                internal=exc.code is not None and exc.code >= 500,
            )
        except Exception as exc:
            return Outcome(error=f"client error {type(exc).__name__}: {exc}", internal=True)


def _parameter(bigquery: Any, name: str, param: QueryParam) -> Any:
    """The client's typed query parameter for one of the engine's."""
    if param.type.startswith("ARRAY<") and param.value is None:
        return _NullArray(name, param.type)
    if param.type.startswith("ARRAY<"):
        return bigquery.ArrayQueryParameter(name, param.type[len("ARRAY<") : -1], param.value)
    return bigquery.ScalarQueryParameter(name, param.type, param.value)


class _NullArray:
    """A NULL ARRAY parameter, which the client cannot build (``ArrayQueryParameter`` needs a list,
    and ``[]`` is an empty array): on the wire, BigQuery's NULL ARRAY has no ``parameterValue``."""

    def __init__(self, name: str, type_name: str) -> None:
        self.name, self.element = name, type_name[len("ARRAY<") : -1]

    def to_api_repr(self) -> dict[str, Any]:
        return {"name": self.name, "parameterType": {"type": "ARRAY", "arrayType": {"type": self.element}}}


def new_dataset(engine: Any, dataset: str) -> None:
    engine.create_dataset(PROJECT, DatasetSpec(dataset_id=dataset), exists_ok=True)


def drop_dataset(engine: Any, dataset: str) -> None:
    engine.delete_dataset(PROJECT, dataset, delete_contents=True, not_found_ok=True)


def load_table(
    engine: Any, dataset: str, name: str, schema: tuple[FieldSpec, ...], rows: list[dict[str, Any]]
) -> None:
    engine.create_table(PROJECT, dataset, TableSpec(table_id=name, schema=schema), exists_ok=False)
    if rows:
        engine.insert_rows(PROJECT, dataset, name, rows)


def reload_table(engine: Any, dataset: str, name: str, rows: list[dict[str, Any]]) -> None:
    """Put a table back as the file built it, after a DML case changed it."""
    engine.truncate(PROJECT, dataset, name)
    if rows:
        engine.insert_rows(PROJECT, dataset, name, rows)


EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
