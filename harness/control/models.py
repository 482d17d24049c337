"""Request bodies of the control routes: closed shapes (an unknown field is a 422 naming it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: float = Field(default=0, ge=0)


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin: bool = Field(default=True, description="An admin key also reads usage and costs.")


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, description="HTTP status to answer (4xx/5xx).")
    timeout: bool = Field(default=False, description="Never answer (the client times out).")
    times: int = Field(default=1, ge=1)
    retry_after: float | None = Field(default=None, ge=0)


class BackendFaultRequest(BaseModel):
    """A warehouse or KMS fault (:class:`harness.faults.BackendFault`): the error, which calls it
    aims at, and how many of them or for how long it lasts."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="The fault kind, e.g. service_unavailable or unavailable.")
    operation: str = Field(default="*", description="The operation it aims at; * for every one.")
    table: str | None = Field(default=None, description="Only calls touching this table (warehouse).")
    times: int | None = Field(default=1, ge=1, description="How many matching calls fail.")
    after: int = Field(default=0, ge=0, description="Matching calls let through first.")
    for_seconds: float | None = Field(
        default=None, gt=0, description="Fail every matching call for this long on the clock."
    )


__all__ = ["BackendFaultRequest", "ClockAdvance", "FaultRequest", "KeyRequest"]
