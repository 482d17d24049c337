"""The REST emulator's state beside the engine (moto's models): query jobs and the insertId window.

The engine holds datasets, tables and rows; what only the REST face has — jobs a client polls by
id, and the ``insertId`` de-duplication of ``tabledata.insertAll`` — lives here, with its
behaviour, so ``rest.py`` only parses requests, calls these and renders the answers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fakes.bigquery.deadlines import Cancellation
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    InvalidQueryParameters,
    JobAlreadyExists,
    JobNotFound,
    PositionalParameterCount,
    RequiredParameterMissing,
    UnsupportedByFake,
)
from fakes.bigquery.query_destination import check_before_run, check_configuration, write_destination
from fakes.bigquery.rest_values import decode_parameters
from fakes.bigquery.script_jobs import QueryRunner
from fakes.bigquery.sql import POSITIONAL_PREFIX, name_positional_parameters
from fakes.bigquery.time_zone import connection_time_zone
from harness.ports import QueryResult, WarehouseError

DEFAULT_LOCATION = "US"
INSERT_ID_WINDOW = timedelta(minutes=1)
#: Guards every job's end against a request starting to wait for it at that moment.
_ENDING = threading.Lock()


@dataclass
class Job:
    """A query job; ``job_id`` is None for a dry run, which BigQuery neither names nor keeps."""

    project: str
    job_id: str | None
    location: str
    configuration: dict[str, Any]
    created: datetime
    result: QueryResult | None = None
    error: WarehouseError | None = None
    #: Statistics beyond the query's own: ``sessionInfo``, ``parentJobId``, ``numChildJobs``, and a
    #: copy or extract job's (``statistics.copy`` / ``statistics.extract``).
    statistics: dict[str, Any] = field(default_factory=dict)
    #: ``status.errors`` when it says more than ``error`` (a load's refused records).
    status_errors: list[dict[str, str]] | None = None
    #: A query still running in its worker thread (:mod:`fakes.bigquery.query_wait`): jobs.get
    #: answers RUNNING and getQueryResults ``jobComplete: false`` until it ends.
    running: bool = False
    #: How ``jobs.cancel`` stops the running query (:mod:`fakes.bigquery.deadlines`).
    cancellation: Cancellation = field(default_factory=Cancellation)
    #: Set when a running query ends, for the requests that wait for it (``timeoutMs``); made by
    #: the first such request, since most queries end before anyone waits for them.
    _ended: threading.Event | None = field(default=None, repr=False, compare=False)

    def end(self) -> None:
        """The query stopped running: the requests waiting for it go on."""
        with _ENDING:
            self.running = False
            ended = self._ended
        if ended is not None:
            ended.set()

    def wait_ended(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a running query to end; whether it has."""
        with _ENDING:
            if not self.running:
                return True
            if self._ended is None:
                self._ended = threading.Event()
            ended = self._ended
        return ended.wait(timeout)

    def reference(self) -> dict[str, Any]:
        if self.job_id is None:
            return {"projectId": self.project, "location": self.location}
        return {"projectId": self.project, "jobId": self.job_id, "location": self.location}


class JobStore:
    """Query jobs by (project, job id): run on the engine when inserted, kept for jobs.get and
    getQueryResults. A failed query is a DONE job carrying its error, as in BigQuery."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self.engine = engine
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()
        self.queries = QueryRunner(self)

    def run_query(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str | None
    ) -> Job:
        """Run a query job (stored, for jobs.get / getQueryResults). A dry run is validated and
        estimated by the engine without running, is not stored, and fails the request itself."""
        query_config = configuration.get("query") or {}
        sql = query_config.get("query")
        if not isinstance(sql, str) or not sql.strip():
            raise RequiredParameterMissing(name="query")
        if query_config.get("useLegacySql") is True:
            raise UnsupportedByFake("The emulator supports GoogleSQL only; set useLegacySql to false")
        location = location or DEFAULT_LOCATION
        check_configuration(configuration)
        if configuration.get("dryRun"):
            self.queries.check_dry_run(query_config)
            statement, params = _statement(sql, query_config)
            return Job(
                project=project,
                job_id=None,
                location=location,
                configuration={"jobType": "QUERY", **configuration},
                created=self.engine.clock.now(),
                result=self.engine.dry_run(
                    project,
                    statement,
                    params,
                    default_dataset=_default_dataset(query_config),
                    time_zone=connection_time_zone(query_config.get("connectionProperties")),
                ),
            )
        job = self._store(project, configuration, job_id, location)
        job.running = True
        try:
            statement, params = _statement(sql, query_config)
            default_dataset = _default_dataset(query_config)
            time_zone = connection_time_zone(query_config.get("connectionProperties"))
            check_before_run(
                query_config,
                lambda: self.engine.dry_run(
                    project, statement, params, default_dataset=default_dataset, time_zone=time_zone
                ),
            )
            job.result = self.queries.run(job, statement, params, default_dataset)
            write_destination(self.engine, project, query_config, job.result)
        except WarehouseError as exc:
            job.error = exc
        finally:
            job.end()
        return job

    def fail_query(
        self,
        project: str,
        configuration: dict[str, Any],
        job_id: str | None,
        location: str | None,
        error: WarehouseError,
    ) -> Job:
        """Accept a query job that fails without running (a warehouse fault, :mod:`fakes.bigquery.
        rest_faults`): stored like any job, so jobs.get and getQueryResults report ``error``."""
        job = self._store(project, configuration, job_id, location or DEFAULT_LOCATION)
        job.error = error
        return job

    def accept(
        self,
        project: str,
        configuration: dict[str, Any],
        job_id: str | None,
        location: str | None,
        *,
        job_type: str | None = None,
    ) -> Job:
        """Store a job of another kind (a load, a copy, an extract) under its id before it runs,
        so jobs.get reports its outcome; ``job_type`` overrides the one read from the configuration."""
        job = self._store(project, configuration, job_id, location or DEFAULT_LOCATION)
        if job_type is not None:
            job.configuration["jobType"] = job_type
        return job

    def _store(self, project: str, configuration: dict[str, Any], job_id: str | None, location: str) -> Job:
        """A new query job under its id (a fresh one when None); an id in use is BigQuery's 409."""
        job_id = job_id or f"job_{uuid.uuid4().hex}"
        with self._lock:
            if (project, job_id) in self._jobs:
                raise JobAlreadyExists(project=project, location=location, job_id=job_id)
            job = Job(
                project=project,
                job_id=job_id,
                location=location,
                configuration={"jobType": job_type(configuration), **configuration},
                created=self.engine.clock.now(),
            )
            self._jobs[(project, job_id)] = job
        return job

    def create(self, project: str, configuration: dict[str, Any], job_id: str | None, location: str) -> Job:
        """A new job for a module that runs it itself (a script's child statements)."""
        return self._store(project, configuration, job_id, location)

    def in_project(self, project: str) -> list[Job]:
        """The project's jobs in the order they were created."""
        with self._lock:
            return [job for (owner, _), job in self._jobs.items() if owner == project]

    def all(self, project: str) -> list[Job]:
        """The project's jobs, newest first (jobs.list's order); jobs created at the same instant
        of the clock, newest inserted first."""
        with self._lock:
            jobs = [job for (p, _), job in reversed(self._jobs.items()) if p == project]
        return sorted(jobs, key=lambda job: job.created, reverse=True)

    def delete(self, project: str, job_id: str, location: str | None) -> None:
        """jobs.delete: the job's metadata is gone; jobs.get answers 404 afterwards."""
        self.get(project, job_id, location)
        with self._lock:
            self._jobs.pop((project, job_id), None)

    def find(self, project: str, job_id: str) -> Job | None:
        return self._jobs.get((project, job_id))

    def get(self, project: str, job_id: str, location: str | None) -> Job:
        job = self.find(project, job_id)
        if job is None:
            raise JobNotFound(project=project, location=location or DEFAULT_LOCATION, job_id=job_id)
        return job


class InsertIdWindow:
    """``insertId`` de-duplication of ``tabledata.insertAll``: best effort, as in BigQuery, over
    one minute of the engine's clock, per table."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self.engine = engine
        self._seen: dict[tuple[str, str, str, str], datetime] = {}
        self._lock = threading.Lock()

    def fresh_rows(
        self, project: str, dataset_id: str, table_id: str, entries: list[Mapping[str, Any]]
    ) -> list[int]:
        """Indices of rows whose ``insertId`` was not seen for this table within the window."""
        now = self.engine.clock.now()
        keep: list[int] = []
        batch: set[str] = set()
        with self._lock:
            for index, entry in enumerate(entries):
                insert_id = entry.get("insertId")
                if not insert_id:
                    keep.append(index)
                    continue
                seen = self._seen.get((project, dataset_id, table_id, str(insert_id)))
                if str(insert_id) in batch or (seen is not None and now - seen < INSERT_ID_WINDOW):
                    continue
                batch.add(str(insert_id))
                keep.append(index)
        return keep

    def remember(self, project: str, dataset_id: str, table_id: str, insert_ids: list[Any]) -> None:
        now = self.engine.clock.now()
        with self._lock:
            for insert_id in insert_ids:
                if insert_id:
                    self._seen[(project, dataset_id, table_id, str(insert_id))] = now


def job_type(configuration: Mapping[str, Any]) -> str:
    """``configuration.jobType`` as BigQuery reports it, from the configuration's kind."""
    for kind in ("query", "load", "copy", "extract"):
        if kind in configuration:
            return kind.upper()
    return "QUERY"


def _default_dataset(query_config: Mapping[str, Any]) -> str | None:
    """``defaultDataset.datasetId``: where the query's unqualified table names live."""
    default = query_config.get("defaultDataset")
    if isinstance(default, Mapping) and default.get("datasetId"):
        return str(default["datasetId"])
    return None


def _statement(sql: str, query_config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL and engine parameters of a query: POSITIONAL parameters bind the ``?`` markers in
    text order, through named parameters the markers are rewritten to."""
    try:
        params = decode_parameters(query_config)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise InvalidQueryParameters(detail=exc) from exc
    if isinstance(params, dict):
        return sql, params
    named, count = name_positional_parameters(sql)
    if count > len(params):
        raise PositionalParameterCount(count=count, given=len(params))
    return named, {f"{POSITIONAL_PREFIX}{index}": params[index] for index in range(count)}
