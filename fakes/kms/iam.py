"""IAM policies of key rings, crypto keys and import jobs: stored and returned, never enforced.

``getIamPolicy`` / ``setIamPolicy`` / ``testIamPermissions`` as Google's IAM v1 methods answer them
(google/iam/v1/iam_policy.proto): a resource nobody set a policy on has an empty one, ``version`` 1
and the ``etag`` ``ACAB`` Google answers such policies with; ``setIamPolicy`` replaces the fields
``updateMask`` names (``bindings`` and ``etag`` when it names none) and answers a new ``etag``; an
``etag`` sent that is no longer the policy's is refused (ABORTED), as a read-modify-write conflict
is on Google. A binding with a ``condition`` needs policy ``version`` 3. ``testIamPermissions``
grants every permission asked: the emulator authorizes nothing (a limit, see README).

A deleted CryptoKey's policy goes with it (``KmsBackend.remove_crypto_key``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from fakes.kms import exceptions as errors
from fakes.kms.models import KmsBackend

EMPTY_ETAG = "ACAB"
_VERSIONS = (0, 1, 3)
_MASKABLE = ("bindings", "etag", "auditConfigs", "version")


def _empty() -> dict[str, Any]:
    return {"version": 1, "etag": EMPTY_ETAG}


def _etag(serial: int) -> str:
    """The etag of a resource's ``serial``-th policy: 8 bytes, shaped like Google's (``BwY...``)."""
    return base64.b64encode(b"\x07\x06" + serial.to_bytes(6, "big")).decode("ascii")


def _public(policy: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if k != "serial"}


def get_policy(backend: KmsBackend, resource: str, requested_version: int | None) -> dict[str, Any]:
    if requested_version is not None and requested_version not in _VERSIONS:
        raise errors.InvalidIamPolicy(
            detail=f"Invalid options.requested_policy_version {requested_version}: must be 0, 1 or 3."
        )
    return _public(backend.iam_policies.get(resource) or _empty())


def set_policy(
    backend: KmsBackend, resource: str, policy: Mapping[str, Any], update_mask: str | None
) -> dict[str, Any]:
    fields = [f.strip() for f in (update_mask or "").split(",") if f.strip()] or ["bindings", "etag"]
    unknown = [f for f in fields if f not in _MASKABLE]
    if unknown:
        raise errors.InvalidIamPolicy(detail=f"Invalid update_mask paths: {', '.join(unknown)}.")
    _check(policy)
    with backend.locked():
        current = backend.iam_policies.get(resource) or _empty()
        sent = policy.get("etag")
        if sent and sent != current["etag"]:
            raise errors.PolicyEtagMismatch()
        updated = {k: v for k, v in current.items() if k not in ("etag", "serial")}
        for name in ("bindings", "auditConfigs", "version"):
            if name in fields or (name == "version" and "version" in policy):
                if policy.get(name):
                    updated[name] = policy[name]
                else:
                    updated.pop(name, None)
        updated.setdefault("version", 1)
        updated["serial"] = int(current.get("serial", 0)) + 1
        updated["etag"] = _etag(updated["serial"])
        backend.iam_policies[resource] = updated
        return _public(updated)


def _check(policy: Mapping[str, Any]) -> None:
    version = policy.get("version") or 1
    if version not in _VERSIONS:
        raise errors.InvalidIamPolicy(detail=f"Invalid policy version {version}: must be 0, 1 or 3.")
    bindings = policy.get("bindings") or []
    if not isinstance(bindings, list) or not all(isinstance(b, Mapping) for b in bindings):
        raise errors.InvalidJsonValue(field="policy.bindings", kind="TYPE_MESSAGE", detail=str(bindings))
    for binding in bindings:
        if not str(binding.get("role") or ""):
            raise errors.InvalidIamPolicy(detail="Every binding of the policy must name a role.")
        if binding.get("condition") and version != 3:
            raise errors.InvalidIamPolicy(
                detail="A policy with conditional role bindings must set version 3."
            )


def test_permissions(permissions: Any) -> dict[str, Any]:
    if permissions is None:
        return {}
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise errors.InvalidJsonValue(field="permissions", kind="TYPE_STRING", detail=str(permissions))
    return {"permissions": permissions} if permissions else {}


__all__ = ["EMPTY_ETAG", "get_policy", "set_policy", "test_permissions"]
