"""What a pipeline run looks like from outside: the run, its steps and its data-quality results."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


Day = date
"""``date`` under another name: ``RunRequest`` has a field called ``date``."""


class RunRequest(BaseModel):
    """One day (``date``) or an inclusive range (``start_date`` .. ``end_date``); default yesterday (UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Day | None = None
    start_date: Day | None = None
    end_date: Day | None = None

    @model_validator(mode="after")
    def _one_form(self) -> RunRequest:
        if self.date is not None and (self.start_date or self.end_date):
            raise ValueError("give either date or start_date/end_date, not both")
        if (self.start_date is None) != (self.end_date is None):
            raise ValueError("start_date and end_date go together")
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        if self.start_date and self.end_date and (self.end_date - self.start_date).days > 92:
            raise ValueError("a run covers at most 93 days")
        return self


class StepView(BaseModel):
    step_name: str
    step_index: int
    status: str
    start_time: datetime
    end_time: datetime | None = None
    duration_ms: int | None = None
    rows_processed: int | None = None
    error_message: str | None = None
    metadata: Any = None


class DqView(BaseModel):
    check_name: str
    check_type: str
    target_table: str
    severity: str
    passed: bool
    rows_checked: int | None = None
    rows_failed: int | None = None
    details: dict[str, Any] | None = None


class DqStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class DqSummary(BaseModel):
    """What the data-quality step concluded, always with a reason: the checks passed, which failed,
    or why there was nothing to check (``SKIPPED``: ``no usage rows for 2026-01-05``)."""

    status: DqStatus
    checks: int
    failed: list[str] = Field(default_factory=list)
    reason: str


class RunView(BaseModel):
    run_id: str
    org_slug: str
    pipeline_id: str
    provider: str
    domain: str
    status: RunStatus
    trigger_type: str
    triggered_by: str | None = None
    run_date: date | None = None
    parameters: dict[str, str | None] = Field(default_factory=dict)
    start_time: datetime
    end_time: datetime | None = None
    duration_ms: int | None = None
    rows_processed: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    steps: list[StepView] = Field(default_factory=list)
    dq_results: list[DqView] = Field(default_factory=list)
    data_quality: DqSummary | None = Field(
        default=None, description="The data-quality step's verdict; None until that step has run."
    )
