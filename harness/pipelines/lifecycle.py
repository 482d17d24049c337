"""The run lifecycle in the meta tables: PENDING → RUNNING → SUCCESS or FAILED.

A run is a row in ``org_meta_pipeline_runs``, each step a row in ``org_meta_step_logs``, each
data-quality check a row in ``org_meta_dq_results``, and the run's warehouse cost a row in
``org_cost_tracking``. Whatever happens inside a run (a provider outage, a KMS error, a bug), the
run row ends FAILED with an error code and message: never stuck in RUNNING.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from harness.onboarding.errors import DomainError, NotFound
from harness.onboarding.platform import Platform
from harness.pipelines.models import DqSummary, DqView, RunStatus, RunView, StepView
from harness.ports import KeyManagerError, WarehouseError


class PipelineFailure(DomainError):
    """A failure inside a run, with the error code the run row records."""

    status = 502


@dataclass
class StepHandle:
    """What a step reports about itself while it runs."""

    rows: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False
    """The step had nothing to do: logged SKIPPED (its metadata says why), not SUCCESS."""


@dataclass(frozen=True)
class DqCheck:
    name: str
    check_type: str
    target_table: str
    passed: bool
    severity: str = "ERROR"
    rows_checked: int | None = None
    rows_failed: int | None = None
    expected: str | None = None
    observed: str | None = None
    failing_columns: tuple[str, ...] = ()
    sample: Any = None


class RunOverlaps(Exception):
    """A live run of the same pipeline for the org already covers some of the days asked for."""


class RunRecorder:
    """Writes one run's rows. Times come from the injected clock; durations from it too.

    Creating one claims the run's days (see :meth:`_claim`) or raises :class:`RunOverlaps`."""

    def __init__(
        self,
        platform: Platform,
        *,
        org_slug: str,
        pipeline_id: str,
        provider: str,
        domain: str,
        run_date: date,
        parameters: dict[str, str | None],
        trigger_type: str,
        triggered_by: str | None,
        live_since: datetime,
    ) -> None:
        self.platform = platform
        self.org_slug = org_slug
        self.pipeline_id = pipeline_id
        self.run_id = str(uuid.uuid4())
        self.run_date = run_date
        self.start = platform.clock.now()
        self._step_index = 0
        self._wall = time.perf_counter()
        self.rows_processed = 0
        self._claim(provider, domain, parameters, trigger_type, triggered_by, live_since)

    def _claim(
        self,
        provider: str,
        domain: str,
        parameters: dict[str, str | None],
        trigger_type: str,
        triggered_by: str | None,
        live_since: datetime,
    ) -> None:
        """Write the PENDING run row unless a live run (PENDING or RUNNING, started after
        ``live_since``) of the pipeline for the org covers one of its days.

        One conditional INSERT, like the idempotency claim: the warehouse, not a lock in one
        process, decides which of two concurrent starts on two service processes gets the days."""
        table = self.platform.table("org_meta_pipeline_runs")
        names = sorted(parameters)
        array = ", ".join(f"STRUCT(@name_{i} AS name, @value_{i} AS value)" for i in range(len(names)))
        first, last = _param_day("start_date"), _param_day("end_date")
        claimed = self.platform.execute(
            f"INSERT INTO {table} (run_id, org_slug, pipeline_id, provider, domain, status, trigger_type, "
            "triggered_by, run_date, parameters, start_time) "
            "SELECT @run_id, @org_slug, @pipeline_id, @provider, @domain, @status, @trigger_type, "
            f"@triggered_by, @run_date, [{array}], @start_time FROM UNNEST([1]) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS r WHERE r.org_slug = @org_slug "
            "AND r.pipeline_id = @pipeline_id AND r.status IN ('PENDING', 'RUNNING') "
            f"AND r.start_time > @live_since AND {first} <= @end_date AND @start_date <= {last})",
            {
                "run_id": self.run_id,
                "org_slug": self.org_slug,
                "pipeline_id": self.pipeline_id,
                "provider": provider,
                "domain": domain,
                "status": RunStatus.PENDING.value,
                "trigger_type": trigger_type,
                "triggered_by": triggered_by,
                "run_date": self.run_date,
                "start_time": self.start,
                "live_since": live_since,
                "start_date": parameters.get("start_date") or self.run_date.isoformat(),
                "end_date": parameters.get("end_date") or self.run_date.isoformat(),
                **{f"name_{i}": name for i, name in enumerate(names)},
                **{f"value_{i}": parameters[name] for i, name in enumerate(names)},
            },
        )
        if not claimed:
            raise RunOverlaps(self.pipeline_id)

    def _update(self, **values: Any) -> None:
        sets = ", ".join(f"{column} = @{column}" for column in values)
        self.platform.execute(
            f"UPDATE {self.platform.table('org_meta_pipeline_runs')} SET {sets} "
            "WHERE run_id = @run_id AND org_slug = @org_slug",
            {**values, "run_id": self.run_id, "org_slug": self.org_slug},
        )

    def running(self) -> None:
        self._update(status=RunStatus.RUNNING.value)

    @contextmanager
    def step(self, name: str, *, loads: bool = False) -> Iterator[StepHandle]:
        """Time a step and log it, SUCCESS or FAILED (the exception goes on to fail the run).

        The run's ``rows_processed`` counts the rows of the steps that ``loads`` (write to the
        org's tables), so fetched-then-loaded rows are not counted twice."""
        index = self._step_index
        self._step_index += 1
        started_at = self.platform.clock.now()
        wall = time.perf_counter()
        handle = StepHandle()
        error: str | None = None
        try:
            yield handle
        except BaseException as exc:
            error = _describe(exc)
            raise
        finally:
            ended_at = self.platform.clock.now()
            self.platform.insert(
                "org_meta_step_logs",
                [
                    {
                        "step_log_id": str(uuid.uuid4()),
                        "org_slug": self.org_slug,
                        "run_id": self.run_id,
                        "step_name": name,
                        "step_index": index,
                        "status": _step_status(error, handle),
                        "start_time": started_at,
                        "end_time": ended_at,
                        "duration_ms": _duration_ms(started_at, ended_at, wall),
                        "rows_processed": handle.rows,
                        "error_message": error,
                        "metadata": handle.metadata or None,
                    }
                ],
            )
            if loads and handle.rows:
                self.rows_processed += handle.rows

    def record_dq(self, checks: list[DqCheck]) -> None:
        now = self.platform.clock.now()
        self.platform.insert(
            "org_meta_dq_results",
            [
                {
                    "dq_result_id": str(uuid.uuid4()),
                    "org_slug": self.org_slug,
                    "run_id": self.run_id,
                    "target_table": check.target_table,
                    "check_name": check.name,
                    "check_type": check.check_type,
                    "severity": check.severity,
                    "passed": check.passed,
                    "rows_checked": check.rows_checked,
                    "rows_failed": check.rows_failed,
                    "details": {
                        "expected": check.expected,
                        "observed": check.observed,
                        "failing_columns": list(check.failing_columns),
                        "sample": check.sample,
                    },
                    "ingestion_date": self.run_date,
                    "checked_at": now,
                }
                for check in checks
            ],
        )

    def record_cost(self, *, bytes_processed: int, bytes_billed: int, estimated_cost: Decimal) -> None:
        self.platform.insert(
            "org_cost_tracking",
            [
                {
                    "cost_record_id": str(uuid.uuid4()),
                    "org_slug": self.org_slug,
                    "usage_date": self.platform.clock.now().date(),
                    "run_id": self.run_id,
                    "pipeline_id": self.pipeline_id,
                    "resource_type": "BIGQUERY_QUERY",
                    "job_id": None,
                    "bytes_processed": bytes_processed,
                    "bytes_billed": bytes_billed,
                    "slot_ms": None,
                    "estimated_cost": estimated_cost,
                    "currency": "USD",
                    "recorded_at": self.platform.clock.now(),
                }
            ],
        )

    def finish(self, *, error: BaseException | None = None) -> None:
        ended_at = self.platform.clock.now()
        values: dict[str, Any] = {
            "status": (RunStatus.FAILED if error else RunStatus.SUCCESS).value,
            "end_time": ended_at,
            "duration_ms": _duration_ms(self.start, ended_at, self._wall),
            "rows_processed": self.rows_processed,
            "error_code": None,
            "error_message": None,
        }
        if error is not None:
            values["error_code"] = run_error_code(error)
            values["error_message"] = _describe(error)
        self._update(**values)


SKIPPED = "SKIPPED"
"""A step's status when it had nothing to do (``org_meta_step_logs.status`` allows it; a run's does not)."""

DQ_STEP = "data_quality"
"""The data-quality step, whose metadata ``verdict`` is the run's ``data_quality``."""


def _step_status(error: str | None, handle: StepHandle) -> str:
    if error:
        return RunStatus.FAILED.value
    return SKIPPED if handle.skipped else RunStatus.SUCCESS.value


def _param_day(name: str) -> str:
    """A run row's first or last day, as the ISO text its ``parameters`` hold (``run_date`` if absent).

    ``run_date`` is cast to DATE first (a no-op in BigQuery): the fake then knows the text it
    casts is a date's, where a cast of a column of unknown type plans every type's text rule
    (≈ 11 ms a claim in DuckDB, for the same answer)."""
    return (
        f"COALESCE((SELECT p.value FROM UNNEST(r.parameters) AS p WHERE p.name = '{name}'), "
        "CAST(CAST(r.run_date AS DATE) AS STRING))"
    )


def _duration_ms(start: datetime, end: datetime, wall_started: float) -> int:
    """Clock time when the injected clock moved (retry waits on a manual clock), else wall time."""
    clock_ms = int((end - start).total_seconds() * 1000)
    return clock_ms if clock_ms > 0 else int((time.perf_counter() - wall_started) * 1000)


def run_error_code(error: BaseException) -> str:
    """The code a failed run reports: the one the services would answer for the same error, so a
    run that failed on a KMS or warehouse outage says so rather than ``INTERNAL_ERROR``."""
    if isinstance(error, DomainError):
        return error.code
    if isinstance(error, WarehouseError):
        return "WAREHOUSE_UNAVAILABLE" if error.retryable else "WAREHOUSE_ERROR"
    if isinstance(error, KeyManagerError):
        return "KMS_ERROR"
    return "INTERNAL_ERROR"


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:1000]


def load_run(platform: Platform, org_slug: str, run_id: str) -> RunView:
    """A run with its steps and DQ results; another org's run is a 404, not a leak."""
    params = {"run_id": run_id, "org_slug": org_slug}
    where = "WHERE run_id = @run_id AND org_slug = @org_slug"
    rows = platform.select(f"SELECT * FROM {platform.table('org_meta_pipeline_runs')} {where}", params).rows
    if not rows:
        raise NotFound(f"Pipeline run '{run_id}' not found for '{org_slug}'", code="RUN_NOT_FOUND")
    run = rows[0]
    steps = platform.select(
        f"SELECT * FROM {platform.table('org_meta_step_logs')} {where} ORDER BY step_index", params
    ).rows
    checks = platform.select(
        f"SELECT * FROM {platform.table('org_meta_dq_results')} {where} ORDER BY target_table, check_name",
        params,
    ).rows
    return RunView(
        **{k: v for k, v in run.items() if k in RunView.model_fields and k != "parameters"},
        parameters={p["name"]: p["value"] for p in run["parameters"]},
        steps=[_pick(StepView, s) for s in steps],
        dq_results=[_pick(DqView, c) for c in checks],
        data_quality=_dq_summary(steps),
    )


def _dq_summary(steps: list[dict[str, Any]]) -> DqSummary | None:
    """The verdict the data-quality step logged in its metadata (None before it ran)."""
    for step in steps:
        metadata = step.get("metadata")
        if step["step_name"] == DQ_STEP and isinstance(metadata, dict) and "verdict" in metadata:
            return DqSummary.model_validate(metadata["verdict"])
    return None


def _pick(model: type[StepView] | type[DqView], row: dict[str, Any]) -> Any:
    return model.model_validate({k: v for k, v in row.items() if k in model.model_fields})
