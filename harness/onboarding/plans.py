"""Subscription plans and statuses, loaded from ``plans.yml``."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.onboarding.errors import InvalidRequest

PLANS_FILE = Path(__file__).with_name("plans.yml")


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    CANCELED = "CANCELED"


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    daily_pipeline_limit: int = Field(gt=0)
    monthly_pipeline_limit: int = Field(gt=0)
    provider_limit: int = Field(gt=0)


class _PlansFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plans: dict[str, dict[str, int]]


@cache
def load_plans(path: Path = PLANS_FILE) -> dict[str, Plan]:
    raw = _PlansFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {name: Plan(name=name, **limits) for name, limits in raw.plans.items()}


def get_plan(name: str) -> Plan:
    plans = load_plans()
    plan = plans.get(name.upper())
    if plan is None:
        raise InvalidRequest(
            f"Unknown plan '{name}'; expected one of {', '.join(plans)}",
            code="INVALID_PLAN",
            details={"plans": list(plans)},
        )
    return plan
