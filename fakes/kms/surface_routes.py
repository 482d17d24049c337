"""The REST rows for the rest of Cloud KMS's everyday v1 surface, added to ``fakes.kms.rest``'s table.

cryptoKeys.delete and cryptoKeyVersions.delete (``fakes.kms.lifecycle``), retiredResources.get/list,
operations.get, locations.get/list (``fakes.kms.location_resources``), getIamPolicy / setIamPolicy /
testIamPermissions on key rings, crypto keys and import jobs (``fakes.kms.iam``), and rawEncrypt /
rawDecrypt (``fakes.kms.raw``). Each handler only decodes the proto3 JSON request.

The methods the emulator does not implement (ML-KEM decapsulate, EKM connections and config,
KeyHandles, Autokey, Key Access Justifications, single-tenant HSM) are routed too, and answer a
400 naming the method (the emulators' answer to every limit of theirs), never a 404 that would
read as a missing resource nor a 5xx that would read as an outage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fakes.kms import iam, imports, lifecycle, location_resources, raw
from fakes.kms.exceptions import InvalidJsonValue, UnsupportedMethod
from fakes.kms.models import KmsBackend
from fakes.kms.protojson import bytes_field, field, int64_field


class _Call(Protocol):
    """One request as ``fakes.kms.rest`` hands it to a handler (a protocol: no import circle)."""

    name: str
    params: Mapping[str, str]
    body: Mapping[str, Any]


Row = tuple[str, str, str, Callable[[_Call], Any]]
_PROJECT = r"projects/[^/:]+"


def _parent(call: _Call) -> str:
    return call.name.rpartition("/")[0]


def _without_total(page: Mapping[str, Any]) -> dict[str, Any]:
    """ListLocationsResponse has no ``totalSize``."""
    return {k: v for k, v in page.items() if k != "totalSize"}


def _policy_version(call: _Call) -> int | None:
    raw_value = call.params.get("options.requestedPolicyVersion")
    if raw_value is None:
        return None
    try:
        return int(raw_value)
    except ValueError:
        raise InvalidJsonValue(
            field="options.requested_policy_version", kind="TYPE_INT32", detail=json.dumps(raw_value)
        ) from None


def _policy(body: Mapping[str, Any]) -> Mapping[str, Any]:
    policy = field(body, "policy")
    if policy is None:
        return {}
    if not isinstance(policy, Mapping):
        raise InvalidJsonValue(field="policy", kind="TYPE_MESSAGE", detail=json.dumps(policy))
    return policy


def routes(
    backend: KmsBackend,
    patterns: tuple[str, str, str, str],
    page: Callable[[list[dict[str, Any]], str, Any], Any],
) -> list[Row]:
    """(HTTP method, name pattern, verb, handler) rows, given ``rest``'s resource-name patterns
    (location, key ring, crypto key, version) and its list pagination."""
    location, key_ring, crypto_key, version = patterns
    import_job = key_ring + "/importJobs/[^/:]+"

    def raw_encrypt(call: _Call) -> Any:
        body = call.body
        iv = bytes_field(body, "initializationVector", "initialization_vector")
        return raw.raw_encrypt(
            backend,
            call.name,
            bytes_field(body, "plaintext", "plaintext"),
            bytes_field(body, "additionalAuthenticatedData", "additional_authenticated_data"),
            iv or None,
            {
                "plaintext": int64_field(body, "plaintextCrc32c", "plaintext_crc32c"),
                "aad": int64_field(
                    body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c"
                ),
                "iv": int64_field(body, "initializationVectorCrc32c", "initialization_vector_crc32c"),
            },
        )

    def raw_decrypt(call: _Call) -> Any:
        body = call.body
        return raw.raw_decrypt(
            backend,
            call.name,
            bytes_field(body, "ciphertext", "ciphertext"),
            bytes_field(body, "additionalAuthenticatedData", "additional_authenticated_data"),
            bytes_field(body, "initializationVector", "initialization_vector"),
            int64_field(body, "tagLength", "tag_length") or 0,
            {
                "ciphertext": int64_field(body, "ciphertextCrc32c", "ciphertext_crc32c"),
                "aad": int64_field(
                    body, "additionalAuthenticatedDataCrc32c", "additional_authenticated_data_crc32c"
                ),
                "iv": int64_field(body, "initializationVectorCrc32c", "initialization_vector_crc32c"),
            },
        )

    def iam_rows(pattern: str, exists: Callable[[str], Any]) -> list[Row]:
        def get(call: _Call) -> Any:
            exists(call.name)
            return iam.get_policy(backend, call.name, _policy_version(call))

        def set_(call: _Call) -> Any:
            exists(call.name)
            mask = field(call.body, "updateMask")
            return iam.set_policy(backend, call.name, _policy(call.body), str(mask) if mask else None)

        def test(call: _Call) -> Any:
            exists(call.name)
            return iam.test_permissions(field(call.body, "permissions"))

        return [
            ("GET", pattern, "getIamPolicy", get),
            ("POST", pattern, "setIamPolicy", set_),
            ("POST", pattern, "testIamPermissions", test),
        ]

    return [
        ("DELETE", crypto_key, "", lambda c: lifecycle.delete_crypto_key(backend, c.name)),
        ("DELETE", version, "", lambda c: lifecycle.delete_crypto_key_version(backend, c.name)),
        (
            "GET",
            location + "/retiredResources",
            "",
            lambda c: page(lifecycle.list_retired_resources(backend, _parent(c)), "retiredResources", c),
        ),
        (
            "GET",
            location + "/retiredResources/[^/:]+",
            "",
            lambda c: lifecycle.get_retired_resource(backend, c.name),
        ),
        ("GET", location + "/operations/[^/:]+", "", lambda c: lifecycle.get_operation(backend, c.name)),
        ("GET", location, "", lambda c: location_resources.get_location(c.name)),
        (
            "GET",
            _PROJECT + "/locations",
            "",
            lambda c: _without_total(page(location_resources.list_locations(_parent(c)), "locations", c)),
        ),
        *iam_rows(key_ring, backend.get_key_ring),
        *iam_rows(crypto_key, backend.get_crypto_key),
        *iam_rows(import_job, lambda name: imports.get_import_job(backend, name)),
        ("POST", version, "rawEncrypt", raw_encrypt),
        ("POST", version, "rawDecrypt", raw_decrypt),
        *_unsupported(location, version),
    ]


def _unsupported(location: str, version: str) -> list[Row]:
    """Rows for the Cloud KMS methods the emulator does not implement: each answers a 400."""
    ekm = location + "/ekmConnections"
    hsm = location + "/singleTenantHsmInstances"
    table: list[tuple[str, str, str, str]] = [
        ("POST", version, "decapsulate", "cryptoKeyVersions.decapsulate (ML-KEM)"),
        ("POST", ekm, "", "ekmConnections.create"),
        ("GET", ekm, "", "ekmConnections.list"),
        ("GET", ekm + "/[^/:]+", "", "ekmConnections.get"),
        ("PATCH", ekm + "/[^/:]+", "", "ekmConnections.patch"),
        ("GET", ekm + "/[^/:]+", "verifyConnectivity", "ekmConnections.verifyConnectivity"),
        ("GET", ekm + "/[^/:]+", "getIamPolicy", "ekmConnections.getIamPolicy"),
        ("POST", ekm + "/[^/:]+", "setIamPolicy", "ekmConnections.setIamPolicy"),
        ("POST", ekm + "/[^/:]+", "testIamPermissions", "ekmConnections.testIamPermissions"),
        ("GET", location + "/ekmConfig", "", "locations.getEkmConfig"),
        ("PATCH", location + "/ekmConfig", "", "locations.updateEkmConfig"),
        ("GET", location + "/ekmConfig", "getIamPolicy", "ekmConfig.getIamPolicy"),
        ("POST", location + "/ekmConfig", "setIamPolicy", "ekmConfig.setIamPolicy"),
        ("POST", location + "/ekmConfig", "testIamPermissions", "ekmConfig.testIamPermissions"),
        ("POST", location + "/keyHandles", "", "keyHandles.create (Autokey)"),
        ("GET", location + "/keyHandles", "", "keyHandles.list (Autokey)"),
        ("GET", location + "/keyHandles/[^/:]+", "", "keyHandles.get (Autokey)"),
        ("POST", hsm, "", "singleTenantHsmInstances.create"),
        ("GET", hsm, "", "singleTenantHsmInstances.list"),
        ("GET", hsm + "/[^/:]+", "", "singleTenantHsmInstances.get"),
        ("POST", hsm + "/[^/:]+/proposals", "", "singleTenantHsmInstances.proposals.create"),
        ("GET", hsm + "/[^/:]+/proposals", "", "singleTenantHsmInstances.proposals.list"),
        ("GET", hsm + "/[^/:]+/proposals/[^/:]+", "", "singleTenantHsmInstances.proposals.get"),
        ("DELETE", hsm + "/[^/:]+/proposals/[^/:]+", "", "singleTenantHsmInstances.proposals.delete"),
        ("POST", hsm + "/[^/:]+/proposals/[^/:]+", "approve", "singleTenantHsmInstances.proposals.approve"),
        ("POST", hsm + "/[^/:]+/proposals/[^/:]+", "execute", "singleTenantHsmInstances.proposals.execute"),
        ("GET", r"(?:folders|projects)/[^/:]+/autokeyConfig", "", "getAutokeyConfig"),
        ("PATCH", r"(?:folders|projects)/[^/:]+/autokeyConfig", "", "updateAutokeyConfig"),
        ("GET", _PROJECT, "showEffectiveAutokeyConfig", "projects.showEffectiveAutokeyConfig"),
        ("GET", r"(?:folders|organizations|projects)/[^/:]+/kajPolicyConfig", "", "getKajPolicyConfig"),
        ("PATCH", r"(?:folders|organizations|projects)/[^/:]+/kajPolicyConfig", "", "updateKajPolicyConfig"),
        (
            "GET",
            _PROJECT,
            "showEffectiveKeyAccessJustificationsEnrollmentConfig",
            "projects.showEffectiveKeyAccessJustificationsEnrollmentConfig",
        ),
        (
            "GET",
            _PROJECT,
            "showEffectiveKeyAccessJustificationsPolicyConfig",
            "projects.showEffectiveKeyAccessJustificationsPolicyConfig",
        ),
    ]
    return [(verb, pattern, custom, _refuse(method)) for verb, pattern, custom, method in table]


def _refuse(method: str) -> Callable[[_Call], Any]:
    def handler(call: _Call) -> Any:
        raise UnsupportedMethod(method=method)

    return handler


__all__ = ["routes"]
