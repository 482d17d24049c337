"""The audit trail: every mutating action writes who did what to which target, and how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.onboarding.platform import Platform

PLATFORM_ORG = "__platform__"
"""Audit rows for platform-level actions that outlive an org (its offboarding) use this slug."""


class ActorType(StrEnum):
    ROOT = "ROOT"
    ORG_API_KEY = "ORG_API_KEY"
    WEBHOOK = "WEBHOOK"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: str | None = None
    request_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(ActorType.SYSTEM, "harness")


def record(
    platform: Platform,
    *,
    org_slug: str,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | None,
    outcome: str = "SUCCESS",
    error_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Write one audit row; its id, so a flow that fails after recording can take it back."""
    audit_log_id = str(uuid.uuid4())
    platform.insert(
        "org_audit_logs",
        [
            {
                "audit_log_id": audit_log_id,
                "org_slug": org_slug,
                "actor_type": actor.type.value,
                "actor_id": actor.id,
                "action": action,
                "target_type": target_type,
                "target_id": target_id,
                "outcome": outcome,
                "error_code": error_code,
                "request_id": actor.request_id,
                "ip_address": actor.ip_address,
                "user_agent": actor.user_agent,
                "details": details,
                "created_at": platform.clock.now(),
            }
        ],
    )
    return audit_log_id


def retract(platform: Platform, org_slug: str, audit_log_id: str) -> None:
    """Remove an audit row of an action that was then undone: the trail records what happened."""
    platform.execute(
        f"DELETE FROM {platform.table('org_audit_logs')} "
        "WHERE org_slug = @org_slug AND audit_log_id = @audit_log_id",
        {"org_slug": org_slug, "audit_log_id": audit_log_id},
    )
