"""MacSign and MacVerify on the keyring model's MAC keys (HMAC with the version's key).

Kept out of ``models`` like :mod:`fakes.kms.asymmetric`: the backend hands out an ENABLED MAC
version, this module computes the HMAC. The ``*Crc32c`` fields of the request are checked and
reported back as ``verified*``; ``verifiedSuccessIntegrity`` is always true because the emulator
computes ``success`` itself.
"""

from __future__ import annotations

import hmac as std_hmac
from typing import Any

from cryptography.hazmat.primitives import hmac

from fakes.kms import exceptions as errors
from fakes.kms.algorithms import ALGORITHMS, MAC
from fakes.kms.envelope import crc32c
from fakes.kms.models import KmsBackend, verify_checksum

MAX_DATA = 65536


def _mac(material: bytes, algorithm: str, data: bytes) -> bytes:
    signer = hmac.HMAC(material, ALGORITHMS[algorithm].hash_algorithm())
    signer.update(data)
    return signer.finalize()


def _check_data(data: bytes, data_crc32c: int | None) -> None:
    if len(data) > MAX_DATA:
        raise errors.PlaintextTooLong(field="data", length=len(data))
    verify_checksum("data", data, data_crc32c)


def mac_sign(backend: KmsBackend, name: str, data: bytes, data_crc32c: int | None = None) -> dict[str, Any]:
    _check_data(data, data_crc32c)
    version = backend.usable_version(name, MAC)
    tag = _mac(version.material, version.algorithm, data)
    return {
        "name": version.name,
        "mac": tag,
        "macCrc32c": crc32c(tag),
        "verifiedDataCrc32c": data_crc32c is not None,
        "protectionLevel": version.protection_level,
    }


def mac_verify(
    backend: KmsBackend,
    name: str,
    data: bytes,
    mac: bytes,
    data_crc32c: int | None = None,
    mac_crc32c: int | None = None,
) -> dict[str, Any]:
    _check_data(data, data_crc32c)
    verify_checksum("mac", mac, mac_crc32c)
    version = backend.usable_version(name, MAC)
    success = std_hmac.compare_digest(_mac(version.material, version.algorithm, data), mac)
    return {
        "name": version.name,
        "success": success,
        "verifiedDataCrc32c": data_crc32c is not None,
        "verifiedMacCrc32c": mac_crc32c is not None,
        "verifiedSuccessIntegrity": True,
        "protectionLevel": version.protection_level,
    }


__all__ = ["mac_sign", "mac_verify"]
