"""A Cloud KMS keyring that survives a restart, without ever writing key material to disk.

:class:`PersistentKmsBackend` saves the keyring's *metadata* (key rings, keys, versions with their
states, times and encryption counts) to one state file after every change, atomically
(:mod:`fakes.statefile`). Key material and key ids are not saved: the backend must have a seed,
and both are derived again from the seed and the resource name (:class:`~fakes.kms.envelope.Entropy`),
so a ciphertext written before a restart still decrypts after it. The encryption count is saved so
a restarted key never reuses a nonce under the same material. RSA keys are the exception: their
primes cannot be drawn from the seed, so an RSA version has a new key pair after a restart; and an
imported version's material, which no seed can give back, is gone: it comes back IMPORT_FAILED
(ImportJobs themselves are not kept). Deleted keys' RetiredResources are kept, so a retired name
stays retired; IAM policies and the Operations of deletions are not.

Kept apart from :mod:`fakes.kms.models`, which stays the in-memory model every tier uses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from fakes.kms import algorithms
from fakes.kms.envelope import KEY_ID_LENGTH
from fakes.kms.models import KmsBackend, VersionState, _CryptoKey, _Version
from fakes.kms.resources import KeyRingResource
from fakes.statefile import StateFileError, field, read_state, write_state
from harness.ports import Clock

RESTART_REASON = "The emulator keeps no key material across a restart: re-import the key"
"""The emulator's own importFailureReason for an imported version after a restart."""

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _saves(method: _Method) -> _Method:
    """Run ``method`` under the backend's lock, then save the state before the lock is released."""

    @functools.wraps(method)
    def wrapper(self: PersistentKmsBackend, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            result = method(self, *args, **kwargs)
            self.save()
            return result

    return wrapper  # type: ignore[return-value]


class PersistentKmsBackend(KmsBackend):
    """A :class:`KmsBackend` whose state lives in ``path`` (loaded at start, saved at each change)."""

    def __init__(self, clock: Clock, seed: int | str | bytes, path: Path) -> None:
        if seed is None:
            raise ValueError("a persistent KMS keyring needs a seed: its key material is derived from it")
        super().__init__(clock, seed)
        self.path = path
        data = read_state(path)
        if data is not None:
            try:
                self._load(data)
            except (KeyError, TypeError, ValueError) as exc:
                raise StateFileError(path, f"holds an invalid KMS keyring ({exc!r})") from None

    # Every method that changes state; encrypt too, for the nonce counter.
    reset = _saves(KmsBackend.reset)
    create_key_ring = _saves(KmsBackend.create_key_ring)
    create_crypto_key = _saves(KmsBackend.create_crypto_key)
    update_primary_version = _saves(KmsBackend.update_primary_version)
    create_crypto_key_version = _saves(KmsBackend.create_crypto_key_version)
    rotate = _saves(KmsBackend.rotate)
    update_version_state = _saves(KmsBackend.update_version_state)
    destroy_version = _saves(KmsBackend.destroy_version)
    restore_version = _saves(KmsBackend.restore_version)
    encrypt = _saves(KmsBackend.encrypt)
    edit_crypto_key = _saves(KmsBackend.edit_crypto_key)
    add_imported_version = _saves(KmsBackend.add_imported_version)
    remove_version = _saves(KmsBackend.remove_version)
    remove_crypto_key = _saves(KmsBackend.remove_crypto_key)

    def save(self) -> None:
        with self._lock:
            write_state(self.path, self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        """The keyring as JSON-ready data: names, states, times and counters; no key material."""
        with self._lock:
            return {
                "key_rings": {name: ring["createTime"].isoformat() for name, ring in self._key_rings.items()},
                "crypto_keys": [_key_data(key) for key in self._crypto_keys.values()],
                "retired": [{**r, "deleteTime": r["deleteTime"].isoformat()} for r in self.retired.values()],
            }

    def _load(self, data: dict[str, Any]) -> None:
        rings = field(self.path, data, "key_rings", dict)
        keys = field(self.path, data, "crypto_keys", list)
        for name, created in rings.items():
            self._key_rings[name] = KeyRingResource(name=name, createTime=datetime.fromisoformat(created))
        for retired in data.get("retired", []):  # absent from state files written before deletion
            deleted = datetime.fromisoformat(retired["deleteTime"])
            self.retired[retired["originalResource"]] = {**retired, "deleteTime": deleted}
        for item in keys:
            key = _CryptoKey(
                name=item["name"],
                key_id=self._entropy.derive("key-id", item["name"], KEY_ID_LENGTH),
                purpose=item["purpose"],
                labels=dict(item["labels"]),
                create_time=datetime.fromisoformat(item["create_time"]),
                destroy_scheduled_duration=timedelta(seconds=item["destroy_scheduled_seconds"]),
                primary=item["primary"],
                # absent from state files written before the key types beyond symmetric
                algorithm=item.get("algorithm", algorithms.SYMMETRIC),
                protection_level=item.get("protection_level", "SOFTWARE"),
                rotation_period=_seconds(item.get("rotation_period_seconds")),
                next_rotation_time=_time(item.get("next_rotation_time")),
                import_only=item.get("import_only", False),
                highest_deleted=item.get("highest_deleted", 0),
            )
            for version in item["versions"]:
                state = VersionState(version["state"])
                name = f"{key.name}/cryptoKeyVersions/{version['number']}"
                algorithm = version.get("algorithm", key.algorithm)
                imported = version.get("import_job")
                if imported is not None and state is not VersionState.DESTROYED:
                    state = VersionState.IMPORT_FAILED
                key.versions[version["number"]] = _Version(
                    name=name,
                    number=version["number"],
                    create_time=datetime.fromisoformat(version["create_time"]),
                    material=None
                    if state in (VersionState.DESTROYED, VersionState.IMPORT_FAILED)
                    else algorithms.material(algorithm, self._material_source(name)),
                    algorithm=algorithm,
                    protection_level=key.protection_level,
                    imported={"importJob": imported, "importFailureReason": RESTART_REASON}
                    if imported
                    else {},
                    state=state,
                    destroy_time=_time(version["destroy_time"]),
                    destroy_event_time=_time(version["destroy_event_time"]),
                    encryptions=version["encryptions"],
                )
            self._crypto_keys[key.name] = key

    def _material_source(self, name: str) -> Callable[[int], bytes]:
        """The seeded bytes a version's material is made from, as the model draws them."""
        return functools.partial(self._entropy.derive, "material", name)


def _key_data(key: _CryptoKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "purpose": key.purpose,
        "labels": dict(key.labels),
        "create_time": key.create_time.isoformat(),
        "destroy_scheduled_seconds": key.destroy_scheduled_duration.total_seconds(),
        "primary": key.primary,
        "algorithm": key.algorithm,
        "protection_level": key.protection_level,
        "rotation_period_seconds": key.rotation_period.total_seconds() if key.rotation_period else None,
        "next_rotation_time": key.next_rotation_time.isoformat() if key.next_rotation_time else None,
        "import_only": key.import_only,
        "highest_deleted": key.highest_deleted,
        "versions": [
            {
                "number": v.number,
                "create_time": v.create_time.isoformat(),
                "state": v.state.value,
                "destroy_time": v.destroy_time.isoformat() if v.destroy_time else None,
                "destroy_event_time": v.destroy_event_time.isoformat() if v.destroy_event_time else None,
                "encryptions": v.encryptions,
                "algorithm": v.algorithm,
                "import_job": v.imported.get("importJob"),
            }
            for v in key.versions.values()
        ],
    }


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _seconds(value: float | None) -> timedelta | None:
    return timedelta(seconds=value) if value is not None else None


__all__ = ["PersistentKmsBackend"]
