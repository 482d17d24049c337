"""Cloud KMS's keyring model: key rings → crypto keys → versions, state and crypto in one place.

Shaped like the REST v1 resources so the in-process ``KeyManager`` and the REST emulator sit on the
same object: every method is one REST call, names are Cloud KMS resource names, and what comes back
is the REST resource or response as a dict with REST's camelCase keys. Values stay Python (bytes,
int, datetime, timedelta); encoding them as JSON (base64, int64 strings, RFC 3339) is the REST
face's job.

Time only moves on the injected clock: a DESTROY_SCHEDULED version reads as DESTROYED, with its
key material gone, from the first call at or after its ``destroyTime``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from fakes.kms import algorithms, rotation
from fakes.kms import exceptions as errors
from fakes.kms.envelope import KEY_ID_LENGTH, NONCE_LENGTH, Entropy, Envelope, crc32c, seal
from fakes.kms.resources import (
    CryptoKeyResource,
    CryptoKeyVersionResource,
    DecryptResponse,
    EncryptResponse,
    KeyRingResource,
)
from harness.ports import Clock

PROTECTION_LEVEL = "SOFTWARE"
ALGORITHM = "GOOGLE_SYMMETRIC_ENCRYPTION"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
DEFAULT_DESTROY_SCHEDULED_DURATION = timedelta(days=30)
"""Cloud KMS's default for new keys ("The default scheduled for destruction duration is 30 days",
cloud.google.com/kms/docs/destroy-restore); older keys and gcloud's help text say 24 hours."""


class VersionState(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    DESTROY_SCHEDULED = "DESTROY_SCHEDULED"
    DESTROYED = "DESTROYED"
    IMPORT_FAILED = "IMPORT_FAILED"


# ---------------------------------------------------------------------------------------- names
_LOCATION = r"projects/[^/]+/locations/[^/]+"
_KEY_RING = _LOCATION + r"/keyRings/[^/]+"
_CRYPTO_KEY = _KEY_RING + r"/cryptoKeys/[^/]+"
_PATTERNS = {
    "Location": re.compile(_LOCATION),
    "KeyRing": re.compile(_KEY_RING),
    "CryptoKey": re.compile(_CRYPTO_KEY),
    "CryptoKeyVersion": re.compile(_CRYPTO_KEY + r"/cryptoKeyVersions/[1-9]\d*"),
}
_RESOURCE_ID = re.compile(r"[a-zA-Z0-9_-]{1,63}")


def require_name(name: str, kind: str) -> None:
    if not _PATTERNS[kind].fullmatch(name):
        raise errors.InvalidResourceType(name=name)


def require_id(field_name: str, value: str) -> None:
    if not _RESOURCE_ID.fullmatch(value):
        raise errors.InvalidResourceId(field=field_name, value=value)


# ---------------------------------------------------------------------------------------- state
@dataclass
class _Version:
    name: str
    number: int
    create_time: datetime
    material: bytes | None
    state: VersionState = VersionState.ENABLED
    destroy_time: datetime | None = None
    destroy_event_time: datetime | None = None
    encryptions: int = 0
    """Counts encryptions, so a seeded nonce is never reused under this version's material."""
    algorithm: str = ALGORITHM
    protection_level: str = PROTECTION_LEVEL
    imported: dict[str, Any] = field(default_factory=dict)
    """importJob, importTime or importFailureReason of an imported version (``fakes.kms.imports``)."""

    def settle(self, now: datetime) -> None:
        """Finish a scheduled destruction whose time has come."""
        if self.state is VersionState.DESTROY_SCHEDULED and self.destroy_time and now >= self.destroy_time:
            self.state = VersionState.DESTROYED
            self.destroy_event_time = self.destroy_time
            self.material = None

    def resource(self) -> CryptoKeyVersionResource:
        resource = CryptoKeyVersionResource(
            name=self.name,
            state=self.state.value,
            protectionLevel=self.protection_level,
            algorithm=self.algorithm,
            createTime=self.create_time,
            generateTime=self.create_time,
        )
        if self.destroy_time is not None:
            resource["destroyTime"] = self.destroy_time
        if self.destroy_event_time is not None:
            resource["destroyEventTime"] = self.destroy_event_time
        resource.update(self.imported)  # type: ignore[typeddict-item]
        return resource


@dataclass
class _CryptoKey:
    name: str
    key_id: bytes
    purpose: str
    labels: dict[str, str]
    create_time: datetime
    destroy_scheduled_duration: timedelta
    versions: dict[int, _Version] = field(default_factory=dict)
    primary: int | None = None
    algorithm: str = ALGORITHM
    protection_level: str = PROTECTION_LEVEL
    rotation_period: timedelta | None = None
    next_rotation_time: datetime | None = None
    import_only: bool = False
    highest_deleted: int = 0
    """The highest version number deleted (``fakes.kms.lifecycle``): numbers are never reused."""

    def next_number(self) -> int:
        return max([*self.versions, self.highest_deleted], default=0) + 1

    def resource(self) -> CryptoKeyResource:
        resource = CryptoKeyResource(
            name=self.name,
            purpose=self.purpose,
            createTime=self.create_time,
            labels=dict(self.labels),
            versionTemplate={"protectionLevel": self.protection_level, "algorithm": self.algorithm},
            destroyScheduledDuration=self.destroy_scheduled_duration,
        )
        resource.update(rotation.schedule(self))
        if self.import_only:
            resource["importOnly"] = True  # type: ignore[typeddict-unknown-key]
        if self.primary is not None:
            resource["primary"] = self.versions[self.primary].resource()
        return resource


# -------------------------------------------------------------------------------------- backend
class KmsBackend:
    """All key rings of every project and location, one lock around them (the emulator serves threads)."""

    def __init__(self, clock: Clock, seed: int | str | bytes | None = None) -> None:
        self.clock = clock
        self._entropy = Entropy(seed if isinstance(seed, bytes) or seed is None else str(seed).encode())
        self._lock = threading.RLock()
        self._key_rings: dict[str, KeyRingResource] = {}
        self._crypto_keys: dict[str, _CryptoKey] = {}
        self._random_calls = 0
        self.import_jobs: dict[str, Any] = {}
        """ImportJobs by name (``fakes.kms.imports`` owns them; kept here so reset forgets them)."""
        self.retired: dict[str, dict[str, Any]] = {}
        """RetiredResources by the deleted CryptoKey's name (``fakes.kms.lifecycle`` owns them)."""
        self.operations: dict[str, dict[str, Any]] = {}
        """Long-running Operations by name (``fakes.kms.lifecycle``)."""
        self.iam_policies: dict[str, dict[str, Any]] = {}
        """IAM policies by resource name (``fakes.kms.iam`` owns them)."""

    def reset(self) -> None:
        """Forget every resource; the seed stays, so a replay after reset repeats the same bytes."""
        with self._lock:
            self._key_rings.clear()
            self._crypto_keys.clear()
            self._random_calls = 0
            for store in (self.import_jobs, self.retired, self.operations, self.iam_policies):
                store.clear()

    # ------------------------------------------------------------------------------- key rings
    def create_key_ring(self, parent: str, key_ring_id: str) -> KeyRingResource:
        require_name(parent, "Location")
        require_id("key_ring_id", key_ring_id)
        name = f"{parent}/keyRings/{key_ring_id}"
        with self._lock:
            if name in self._key_rings:
                raise errors.KeyRingAlreadyExists(name=name)
            self._key_rings[name] = KeyRingResource(name=name, createTime=self.clock.now())
            return KeyRingResource(**self._key_rings[name])

    def get_key_ring(self, name: str) -> KeyRingResource:
        with self._lock:
            return KeyRingResource(**self._key_ring(name))

    def list_key_rings(self, parent: str) -> list[KeyRingResource]:
        require_name(parent, "Location")
        with self._lock:
            return [KeyRingResource(**r) for n, r in self._key_rings.items() if n.startswith(parent + "/")]

    # ----------------------------------------------------------------------------- crypto keys
    def create_crypto_key(
        self,
        key_ring_name: str,
        crypto_key_id: str,
        purpose: str = ENCRYPT_DECRYPT,
        labels: Mapping[str, str] | None = None,
        skip_initial_version: bool = False,
        destroy_scheduled_duration: timedelta = DEFAULT_DESTROY_SCHEDULED_DURATION,
        algorithm: str | None = None,
        protection_level: str | None = None,
        rotation_period: timedelta | None = None,
        next_rotation_time: datetime | None = None,
        import_only: bool = False,
    ) -> CryptoKeyResource:
        """Like CreateCryptoKey: version 1 is created and made primary unless skipped."""
        require_id("crypto_key_id", crypto_key_id)
        algorithm, protection_level = algorithms.version_template(purpose, algorithm, protection_level)
        rotation.check(purpose, rotation_period, next_rotation_time)
        if import_only and not skip_initial_version:
            raise errors.ImportOnlyKey(detail="An import-only CryptoKey must skip initial version creation.")
        name = f"{key_ring_name}/cryptoKeys/{crypto_key_id}"
        with self._lock:
            self._key_ring(key_ring_name)
            if name in self._crypto_keys:
                raise errors.CryptoKeyAlreadyExists(name=name)
            if name in self.retired:
                raise errors.CryptoKeyNameRetired(name=name, retired=self.retired[name]["name"])
            key = _CryptoKey(
                name=name,
                key_id=self._entropy.derive("key-id", name, KEY_ID_LENGTH),
                purpose=purpose,
                labels=dict(labels or {}),
                create_time=self.clock.now(),
                destroy_scheduled_duration=destroy_scheduled_duration,
                algorithm=algorithm,
                protection_level=protection_level,
                rotation_period=rotation_period,
                next_rotation_time=next_rotation_time,
                import_only=import_only,
            )
            self._crypto_keys[name] = key
            if not skip_initial_version:
                version = self._add_version(key)
                # Only ENCRYPT_DECRYPT keys have a primary (CryptoKey.primary reference docs).
                key.primary = version.number if purpose == ENCRYPT_DECRYPT else None
            return key.resource()

    def get_crypto_key(self, name: str) -> CryptoKeyResource:
        with self._lock:
            return self._crypto_key(name).resource()

    def list_crypto_keys(self, key_ring_name: str) -> list[CryptoKeyResource]:
        with self._lock:
            self._key_ring(key_ring_name)
            prefix = key_ring_name + "/cryptoKeys/"
            return [self._crypto_key(n).resource() for n in self._crypto_keys if n.startswith(prefix)]

    def update_primary_version(self, crypto_key_name: str, version_id: str) -> CryptoKeyResource:
        """Any version may become primary: Cloud KMS's key-states page says "a version which is not
        enabled can be made the primary version"; encrypting with it then fails."""
        with self._lock:
            key, version = self._version(f"{crypto_key_name}/cryptoKeyVersions/{version_id}")
            _expect_purpose(key, crypto_key_name, ENCRYPT_DECRYPT)
            key.primary = version.number
            return key.resource()

    # -------------------------------------------------------------------------------- versions
    def create_crypto_key_version(self, crypto_key_name: str) -> CryptoKeyVersionResource:
        """A new ENABLED version; like Cloud KMS it does not become primary by itself."""
        with self._lock:
            key = self._crypto_key(crypto_key_name)
            if key.import_only:
                raise errors.ImportOnlyKey(detail=f"CryptoKey {crypto_key_name} is import-only.")
            return self._add_version(key).resource()

    def rotate(self, crypto_key_name: str) -> CryptoKeyVersionResource:
        """Manual rotation: a new version that is made primary; old versions still decrypt."""
        with self._lock:
            key = self._crypto_key(crypto_key_name)
            _expect_purpose(key, crypto_key_name, ENCRYPT_DECRYPT)
            version = self._add_version(key)
            key.primary = version.number
            return version.resource()

    def get_crypto_key_version(self, name: str) -> CryptoKeyVersionResource:
        with self._lock:
            return self._version(name)[1].resource()

    def list_crypto_key_versions(self, crypto_key_name: str) -> list[CryptoKeyVersionResource]:
        with self._lock:
            return [v.resource() for v in self._crypto_key(crypto_key_name).versions.values()]

    def update_version_state(self, version_name: str, state: str) -> CryptoKeyVersionResource:
        """UpdateCryptoKeyVersion (patch ``state``): only between ENABLED and DISABLED."""
        if state not in (VersionState.ENABLED, VersionState.DISABLED):
            raise errors.InvalidVersionState(state=state)
        with self._lock:
            version = self._version(version_name)[1]
            self._expect_state(version, VersionState.ENABLED, VersionState.DISABLED)
            version.state = VersionState(state)
            return version.resource()

    def destroy_version(self, version_name: str) -> CryptoKeyVersionResource:
        """Schedules destruction ``destroyScheduledDuration`` from now; restorable until then."""
        with self._lock:
            key, version = self._version(version_name)
            self._expect_state(version, VersionState.ENABLED, VersionState.DISABLED)
            version.state = VersionState.DESTROY_SCHEDULED
            version.destroy_time = self.clock.now() + key.destroy_scheduled_duration
            return version.resource()

    def restore_version(self, version_name: str) -> CryptoKeyVersionResource:
        """Cancels a scheduled destruction; the version comes back DISABLED, as in Cloud KMS."""
        with self._lock:
            version = self._version(version_name)[1]
            self._expect_state(
                version, VersionState.DESTROY_SCHEDULED, error=errors.VersionNotScheduledForDestruction
            )
            version.state = VersionState.DISABLED
            version.destroy_time = None
            return version.resource()

    # ---------------------------------------------------------------------------------- crypto
    def encrypt(
        self,
        name: str,
        plaintext: bytes,
        aad: bytes = b"",
        plaintext_crc32c: int | None = None,
        aad_crc32c: int | None = None,
    ) -> EncryptResponse:
        """``name`` is a CryptoKey (its primary encrypts) or one of its CryptoKeyVersions."""
        _check_length("plaintext", plaintext)
        _check_length("additional_authenticated_data", aad)
        verify_checksum("plaintext", plaintext, plaintext_crc32c)
        verify_checksum("additional_authenticated_data", aad, aad_crc32c)
        with self._lock:
            key, version = self._encryption_version(name)
            _expect_purpose(key, name, ENCRYPT_DECRYPT)
            if version.state is not VersionState.ENABLED or version.material is None:
                raise errors.VersionNotEnabled(name=version.name, state=version.state)
            nonce = self._entropy.derive("nonce", f"{version.name}#{version.encryptions}", NONCE_LENGTH)
            version.encryptions += 1
            ciphertext = seal(key.key_id, version.number, version.material, nonce, plaintext, aad)
        return EncryptResponse(
            name=version.name,
            ciphertext=ciphertext,
            ciphertextCrc32c=crc32c(ciphertext),
            verifiedPlaintextCrc32c=plaintext_crc32c is not None,
            verifiedAdditionalAuthenticatedDataCrc32c=aad_crc32c is not None,
            protectionLevel=version.protection_level,
        )

    def decrypt(
        self,
        name: str,
        ciphertext: bytes,
        aad: bytes = b"",
        ciphertext_crc32c: int | None = None,
        aad_crc32c: int | None = None,
    ) -> DecryptResponse:
        """``name`` must be the CryptoKey; the version is the one recorded in the ciphertext."""
        _check_length("additional_authenticated_data", aad)
        verify_checksum("ciphertext", ciphertext, ciphertext_crc32c)
        verify_checksum("additional_authenticated_data", aad, aad_crc32c)
        with self._lock:
            key = self._crypto_key(name)
            _expect_purpose(key, name, ENCRYPT_DECRYPT)
            envelope = Envelope.parse(ciphertext)
            if envelope.key_id != key.key_id:
                raise errors.WrongCryptoKey()
            version = key.versions.get(envelope.number)
            if version is None:
                raise errors.CiphertextInvalid()
            if version.state is not VersionState.ENABLED or version.material is None:
                raise errors.VersionNotEnabled(name=version.name, state=version.state)
            plaintext = envelope.open(version.material, aad)
            used_primary = version.number == key.primary
        return DecryptResponse(
            plaintext=plaintext,
            plaintextCrc32c=crc32c(plaintext),
            usedPrimary=used_primary,
            protectionLevel=version.protection_level,
        )

    # ---------------------------------------------------- hooks for the key-type modules
    def usable_version(self, name: str, *purposes: str) -> UsableVersion:
        """An ENABLED version of a key with one of ``purposes``: what sign, MAC and asymmetric
        decrypt need (``fakes.kms.asymmetric``, ``fakes.kms.mac``); the material is immutable."""
        with self._lock:
            key, version = self._version(name)
            _expect_purpose(key, name, *purposes)
            if version.state is not VersionState.ENABLED or version.material is None:
                raise errors.VersionNotEnabled(name=version.name, state=version.state)
            return UsableVersion(name, version.algorithm, version.protection_level, version.material)

    def edit_crypto_key(self, name: str, edit: Callable[[_CryptoKey, datetime], None]) -> CryptoKeyResource:
        """Apply ``edit`` to a key under the lock (UpdateCryptoKey lives in ``fakes.kms.rotation``)."""
        with self._lock:
            key = self._crypto_key(name)
            edit(key, self.clock.now())
            rotation.apply_due(key, self.clock.now(), self._add_version)
            return key.resource()

    def add_imported_version(
        self, crypto_key_name: str, algorithm: str, material: bytes | None, imported: dict[str, Any]
    ) -> CryptoKeyVersionResource:
        """ImportCryptoKeyVersion's result (``fakes.kms.imports`` unwraps): ENABLED with the given
        material, or IMPORT_FAILED without. Like a created version it does not become primary."""
        with self._lock:
            key = self._crypto_key(crypto_key_name)
            spec = algorithms.ALGORITHMS.get(algorithm)
            if spec is None or spec.purpose != key.purpose:
                raise errors.AlgorithmPurposeMismatch(algorithm=algorithm, purpose=key.purpose)
            number = key.next_number()
            version = _Version(
                name=f"{key.name}/cryptoKeyVersions/{number}",
                number=number,
                create_time=self.clock.now(),
                material=material,
                state=VersionState.ENABLED if material is not None else VersionState.IMPORT_FAILED,
                algorithm=algorithm,
                protection_level=key.protection_level,
                imported=imported,
            )
            key.versions[number] = version
            return version.resource()

    def remove_version(self, name: str, check: Callable[[_Version], None]) -> None:
        """DeleteCryptoKeyVersion once ``check`` (``fakes.kms.lifecycle``) lets the version go."""
        with self._lock:
            key, version = self._version(name)
            check(version)
            del key.versions[version.number]
            key.highest_deleted = max(key.highest_deleted, version.number)
            if key.primary == version.number:
                key.primary = None

    def remove_crypto_key(self, name: str, check: Callable[[_CryptoKey], dict[str, Any]]) -> dict[str, Any]:
        """DeleteCryptoKey: ``check`` refuses or gives the RetiredResource that keeps the name taken."""
        with self._lock:
            retired = check(self._crypto_key(name))
            del self._crypto_keys[name]
            self.retired[name] = retired
            self.iam_policies.pop(name, None)
            return retired

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The backend's lock, for a module whose store lives here (``fakes.kms.iam``'s
        read-check-write of a policy must not interleave with another)."""
        with self._lock:
            yield

    def random_bytes(self, length: int) -> bytes:
        """GenerateRandomBytes: seeded like every other byte the model makes, so a replay repeats it."""
        with self._lock:
            self._random_calls += 1
            return self._entropy.derive("random", str(self._random_calls), length)

    # -------------------------------------------------------------------------------- internals
    # Lookups walk the name from the top, so the first missing ancestor is the one reported
    # (`gcloud kms keys versions list` on a missing key ring answers "KeyRing ... not found.").
    def _key_ring(self, name: str) -> KeyRingResource:
        require_name(name, "KeyRing")
        if name not in self._key_rings:
            raise errors.KeyRingNotFound(name=name)
        return self._key_rings[name]

    def _crypto_key(self, name: str) -> _CryptoKey:
        require_name(name, "CryptoKey")
        self._key_ring(name.rpartition("/cryptoKeys/")[0])
        key = self._crypto_keys.get(name)
        if key is None:
            raise errors.CryptoKeyNotFound(name=name)
        now = self.clock.now()
        for version in key.versions.values():
            version.settle(now)
        rotation.apply_due(key, now, self._add_version)
        return key

    def _version(self, name: str) -> tuple[_CryptoKey, _Version]:
        require_name(name, "CryptoKeyVersion")
        key_name, _, number = name.rpartition("/cryptoKeyVersions/")
        key = self._crypto_key(key_name)
        version = key.versions.get(int(number))
        if version is None:
            raise errors.CryptoKeyVersionNotFound(name=name)
        return key, version

    def _encryption_version(self, name: str) -> tuple[_CryptoKey, _Version]:
        if _PATTERNS["CryptoKeyVersion"].fullmatch(name):
            return self._version(name)
        key = self._crypto_key(name)
        if key.primary is None:
            raise errors.NoPrimaryVersion(name=name)
        return key, key.versions[key.primary]

    def _add_version(self, key: _CryptoKey, at: datetime | None = None) -> _Version:
        number = key.next_number()
        name = f"{key.name}/cryptoKeyVersions/{number}"
        material = algorithms.material(key.algorithm, lambda n: self._entropy.derive("material", name, n))
        version = _Version(
            name=name,
            number=number,
            create_time=at or self.clock.now(),
            material=material,
            algorithm=key.algorithm,
            protection_level=key.protection_level,
        )
        key.versions[number] = version
        return version

    @staticmethod
    def _expect_state(
        version: _Version,
        *allowed: VersionState,
        error: type[errors.KmsError] = errors.VersionStatePrecondition,
    ) -> None:
        if version.state not in allowed:
            raise error(name=version.name, state=version.state)


@dataclass(frozen=True)
class UsableVersion:
    name: str
    algorithm: str
    protection_level: str
    material: bytes


def _expect_purpose(key: _CryptoKey, name: str, *purposes: str) -> None:
    if key.purpose not in purposes:
        raise errors.WrongKeyPurpose(name=name, purpose=key.purpose)


def _check_length(field_name: str, data: bytes) -> None:
    if len(data) > errors.MAX_FIELD_LENGTH:
        error = errors.PlaintextTooLong if field_name == "plaintext" else errors.AdditionalDataTooLong
        raise error(field=field_name, length=len(data))


def verify_checksum(field_name: str, data: bytes, checksum: int | None) -> None:
    if checksum is not None and checksum != crc32c(data):
        raise errors.ChecksumMismatch(checksum_field=f"{field_name}_crc32c", data_field=field_name)
