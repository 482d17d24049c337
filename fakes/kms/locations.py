"""Location-level Cloud KMS methods: GenerateRandomBytes.

Cloud KMS documents ``length_bytes`` between 8 and 1024 and ``protection_level`` HSM as the only
level supported; the bytes come from the backend's entropy, so a seeded run repeats them.
"""

from __future__ import annotations

from typing import Any

from fakes.kms import exceptions as errors
from fakes.kms.envelope import crc32c
from fakes.kms.models import KmsBackend, require_name

MIN_LENGTH, MAX_LENGTH = 8, 1024


def generate_random_bytes(
    backend: KmsBackend, location: str, length_bytes: int, protection_level: str | None
) -> dict[str, Any]:
    require_name(location, "Location")
    if protection_level != "HSM":
        raise errors.InvalidRandomBytesRequest(
            detail=f"protection_level must be HSM, got {protection_level or 'PROTECTION_LEVEL_UNSPECIFIED'}."
        )
    if not MIN_LENGTH <= length_bytes <= MAX_LENGTH:
        raise errors.InvalidRandomBytesRequest(
            detail=f"length_bytes must be between {MIN_LENGTH} and {MAX_LENGTH}, got {length_bytes}."
        )
    data = backend.random_bytes(length_bytes)
    return {"data": data, "dataCrc32c": crc32c(data)}


__all__ = ["generate_random_bytes"]
