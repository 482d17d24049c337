"""Deleting keys and key versions, the RetiredResources a deleted key leaves, and their Operations.

Cloud KMS documents deletion apart from destruction (cloud.google.com/kms/docs/delete-kms-resources):

* ``cryptoKeyVersions.delete`` removes a version from every list, only when it is DESTROYED,
  IMPORT_FAILED or GENERATION_FAILED and was not successfully imported;
* ``cryptoKeys.delete`` removes a key whose versions have all been deleted; the key's name is then
  retired: ``retiredResources.get/list`` show it and a new CryptoKey may not take it;
* both answer a long-running ``Operation`` that is already done (the deletion is immediate), which
  ``operations.get`` answers again. DeleteCryptoKey's metadata names the RetiredResource created.

A version number is never given again after its version is deleted (``_CryptoKey.highest_deleted``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fakes.kms import exceptions as errors
from fakes.kms.models import KmsBackend, VersionState, _CryptoKey, _Version, require_name

_DELETABLE = (VersionState.DESTROYED, VersionState.IMPORT_FAILED, "GENERATION_FAILED")
_TYPE = "type.googleapis.com/google.cloud.kms.v1."
_EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty"}
CRYPTO_KEY_TYPE = "cloudkms.googleapis.com/CryptoKey"


def _location(name: str) -> str:
    return "/".join(name.split("/")[:4])


def _check_version(version: _Version) -> None:
    if version.state not in _DELETABLE:
        raise errors.VersionNotDeletable(name=version.name, state=version.state)
    if version.imported.get("importTime"):
        raise errors.ImportedVersionNotDeletable(name=version.name)


def _operation(backend: KmsBackend, location: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """A done Operation, kept so ``operations.get`` answers it again (called under the backend's
    lock, from the deletion's check, so two deletions never number theirs alike)."""
    number = len(backend.operations) + 1
    digest = hashlib.sha256(f"{location}#{number}".encode()).hexdigest()
    uuid = "-".join(digest[a:b] for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
    name = f"{location}/operations/{uuid}"
    operation = {"name": name, "metadata": metadata, "done": True, "response": _EMPTY}
    backend.operations[name] = operation
    return operation


def delete_crypto_key_version(backend: KmsBackend, name: str) -> dict[str, Any]:
    operation: dict[str, Any] = {}

    def check(version: _Version) -> None:
        _check_version(version)
        metadata = {"@type": _TYPE + "DeleteCryptoKeyVersionMetadata"}
        operation.update(_operation(backend, _location(name), metadata))

    backend.remove_version(name, check)
    return operation


def delete_crypto_key(backend: KmsBackend, name: str) -> dict[str, Any]:
    location = _location(name)

    def retire(key: _CryptoKey) -> dict[str, Any]:
        if key.versions:
            raise errors.CryptoKeyHasVersions(name=key.name, count=len(key.versions))
        retired_id = hashlib.sha256(f"retired:{key.name}".encode()).hexdigest()[:20]
        retired = {
            "name": f"{location}/retiredResources/{retired_id}",
            "originalResource": key.name,
            "resourceType": CRYPTO_KEY_TYPE,
            "deleteTime": backend.clock.now(),
        }
        metadata = {"@type": _TYPE + "DeleteCryptoKeyMetadata", "retiredResource": retired["name"]}
        operation.update(_operation(backend, location, metadata))
        return retired

    operation: dict[str, Any] = {}
    backend.remove_crypto_key(name, retire)
    return operation


def get_operation(backend: KmsBackend, name: str) -> dict[str, Any]:
    operation = backend.operations.get(name)
    if operation is None:
        require_name(_location(name), "Location")
        raise errors.OperationNotFound(name=name)
    return operation


def list_retired_resources(backend: KmsBackend, location: str) -> list[dict[str, Any]]:
    require_name(location, "Location")
    found = [r for r in backend.retired.values() if r["name"].startswith(location + "/")]
    return sorted(found, key=lambda r: r["name"])


def get_retired_resource(backend: KmsBackend, name: str) -> dict[str, Any]:
    found = next((r for r in backend.retired.values() if r["name"] == name), None)
    if found is None:
        require_name(_location(name), "Location")
        raise errors.RetiredResourceNotFound(name=name)
    return found


__all__ = [
    "delete_crypto_key",
    "delete_crypto_key_version",
    "get_operation",
    "get_retired_resource",
    "list_retired_resources",
]
