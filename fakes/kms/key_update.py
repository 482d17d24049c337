"""UpdateCryptoKey: the fields of a CryptoKey Cloud KMS lets a PATCH change, and their checks.

Every path of the update mask is applied, a path whose field the body leaves out clears it (proto3
field-mask semantics: that is how a rotation schedule is removed). Paths Cloud KMS does not let one
update (purpose, protection level, destroy-scheduled duration, ...) are refused with a 400 that
names them. Changing ``version_template.algorithm`` keeps the key's purpose and only affects
versions created afterwards, as in Cloud KMS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fakes.kms import algorithms, rotation
from fakes.kms import exceptions as errors
from fakes.kms.models import KmsBackend
from fakes.kms.resources import CryptoKeyResource

if TYPE_CHECKING:
    from fakes.kms.models import _CryptoKey

UPDATABLE = ("labels", "rotation_period", "next_rotation_time", "version_template.algorithm")
_ALIASES = {
    "rotationPeriod": "rotation_period",
    "nextRotationTime": "next_rotation_time",
    "versionTemplate.algorithm": "version_template.algorithm",
}


def mask_paths(update_mask: str) -> list[str]:
    """The mask's paths in snake_case; an empty mask or one naming other fields is refused."""
    paths = [_ALIASES.get(p.strip(), p.strip()) for p in update_mask.split(",") if p.strip()]
    if not paths:
        raise errors.UpdateMaskMissing()
    unsupported = [p for p in paths if p not in UPDATABLE]
    if unsupported:
        raise errors.UpdateMaskInvalid(paths=", ".join(unsupported))
    return paths


def update_crypto_key(backend: KmsBackend, name: str, changes: dict[str, Any]) -> CryptoKeyResource:
    """Apply ``changes`` (mask path → new value, None clears) to the key ``name``."""

    def edit(key: _CryptoKey, now: datetime) -> None:
        period: timedelta | None = changes.get("rotation_period", key.rotation_period)
        next_time: datetime | None = changes.get("next_rotation_time", key.next_rotation_time)
        algorithm = changes.get("version_template.algorithm") or key.algorithm
        algorithm, _ = algorithms.version_template(key.purpose, algorithm, key.protection_level)
        rotation.check(key.purpose, period, next_time)
        if "labels" in changes:
            key.labels = dict(changes["labels"] or {})
        key.rotation_period, key.next_rotation_time, key.algorithm = period, next_time, algorithm

    return backend.edit_crypto_key(name, edit)


__all__ = ["UPDATABLE", "mask_paths", "update_crypto_key"]
