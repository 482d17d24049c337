"""Which real Cloud KMS error each KMS fault kind answers (``harness.faults``' vocabulary).

The fake tier raises it at the port; the REST emulator renders the same class on the wire, except
``crc32c_mismatch``, which the emulator produces by answering with a checksum that does not match
the bytes (what corruption in transit looks like to the client)."""

from __future__ import annotations

from fakes.kms import exceptions as kms
from harness.faults.backend import BackendFault, PortCall
from harness.ports import KeyManagerError, KeyManagerUnavailableError

CORRUPTED = "crc32c_mismatch"
PROJECT_NUMBER = "0"
"""The consumer a quota error names: the fake knows no project number, and says so with 0."""


def error_for(fault: BackendFault, call: PortCall | None, *, version: str) -> KeyManagerError:
    """The error a fault answers for a call on the key whose primary version is ``version``."""
    kind = fault.error
    if kind == "unavailable":
        return kms.ServiceUnavailable()
    if kind == "deadline_exceeded":
        return kms.DeadlineExceeded()
    if kind == "resource_exhausted":
        return kms.QuotaExhausted(project_number=PROJECT_NUMBER)
    if kind in ("key_disabled", "key_destroyed"):
        return kms.VersionNotEnabled(
            name=version, state="DISABLED" if kind == "key_disabled" else "DESTROYED"
        )
    if kind == CORRUPTED:
        # What the adapters (fake and real) raise when a response's CRC32C does not match its bytes.
        method = "Decrypt" if call is not None and "decrypt" in call.operations else "Encrypt"
        return KeyManagerUnavailableError(f"{method}: response corrupted in-transit", code="DATA_LOSS")
    raise AssertionError(f"no error for KMS fault {kind!r}")


__all__ = ["CORRUPTED", "PROJECT_NUMBER", "error_for"]
