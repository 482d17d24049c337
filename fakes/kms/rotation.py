"""Automatic rotation: a key's ``rotationPeriod`` / ``nextRotationTime``, applied on the injected clock.

Cloud KMS rotates a key at ``nextRotationTime``: it creates a new version, makes it primary and
moves ``nextRotationTime`` on by ``rotationPeriod`` (CryptoKey reference docs). The model does the
same the first time it looks at a key at or after that time, once per period that has passed, each
new version created at its due time, so a test that advances the clock sees exactly the versions
real Cloud KMS would have made. Only ENCRYPT_DECRYPT keys rotate automatically (key-rotation docs:
asymmetric keys do not).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from fakes.kms import exceptions as errors

MIN_PERIOD = timedelta(days=1)
MAX_PERIOD = timedelta(days=36500)
_SYMMETRIC = "ENCRYPT_DECRYPT"


class _Numbered(Protocol):
    number: int


class Rotating(Protocol):
    """What rotation reads and moves on a key (the model's key; a protocol so the model can use
    this module without an import circle)."""

    primary: int | None
    rotation_period: timedelta | None
    next_rotation_time: datetime | None


def check(purpose: str, period: timedelta | None, next_time: datetime | None) -> None:
    """Refuse a schedule Cloud KMS refuses: on a key that cannot rotate, or outside the bounds."""
    if period is None and next_time is None:
        return
    if purpose != _SYMMETRIC:
        raise errors.RotationNotSupported(purpose=purpose)
    if period is not None and not MIN_PERIOD <= period <= MAX_PERIOD:
        raise errors.InvalidRotationPeriod(value=f"{period.total_seconds():g}s")


def schedule(key: Rotating) -> dict[str, Any]:
    """The schedule fields of the CryptoKey resource (absent when not set, as in proto3 JSON)."""
    fields: dict[str, Any] = {}
    if key.rotation_period is not None:
        fields["rotationPeriod"] = key.rotation_period
    if key.next_rotation_time is not None:
        fields["nextRotationTime"] = key.next_rotation_time
    return fields


def apply_due(key: Rotating, now: datetime, add_version: Callable[..., _Numbered]) -> None:
    """Make every rotation that fell due by ``now``; the caller holds the backend's lock."""
    while key.next_rotation_time is not None and now >= key.next_rotation_time:
        due = key.next_rotation_time
        key.primary = add_version(key, at=due).number
        key.next_rotation_time = due + key.rotation_period if key.rotation_period else None
