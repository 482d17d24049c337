"""One client call per Cloud KMS error (``fakes/kms/exceptions.py``) that a client can trigger.

Each case is a snapshot name, the fake's error class and a setup on :class:`KmsCalls` that returns
the call that fails. :class:`KmsCalls` has two faces: the fake's model itself on the fake tier
(:class:`fakes.kms.models.KmsBackend` has these methods) and :class:`GoogleKms`, google-cloud-kms
over REST, on the emulator and gcp tiers. Cases marked ``rest_only`` are errors of the REST face
(page tokens, update masks), which the in-process model has no notion of, or of calls it makes
outside :class:`~fakes.kms.models.KmsBackend` (key types beyond symmetric, deletion, IAM policies,
raw encryption, locations, list filters): they run on the emulator and gcp only.

Every case runs on gcp without waiting and leaves only what the ``kms_world`` cleanup handles:
keys whose live versions it schedules for destruction, deleted keys, key rings (never deletable)
with at most an empty IAM policy.

Left out, with why (see :data:`LEFT_OUT`): errors a client cannot provoke from real Cloud KMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fakes.kms import exceptions as kms
from fakes.kms.envelope import crc32c

TOO_LONG = kms.MAX_FIELD_LENGTH + 1
MISSING_OPERATION = "00000000-0000-4000-8000-000000000000"
"""An Operation id shaped like the ones Cloud KMS answers (a UUID) that no operation has."""


class KmsCalls(Protocol):
    """The Cloud KMS calls the cases make, named as :class:`fakes.kms.models.KmsBackend` names them."""

    def create_key_ring(self, parent: str, key_ring_id: str) -> Any: ...
    def create_crypto_key(
        self, key_ring_name: str, crypto_key_id: str, *, skip_initial_version: bool = False
    ) -> Any: ...
    def get_key_ring(self, name: str) -> Any: ...
    def get_crypto_key_version(self, name: str) -> Any: ...
    def encrypt(
        self, name: str, plaintext: bytes, aad: bytes = b"", plaintext_crc32c: int | None = None
    ) -> Any: ...
    def decrypt(self, name: str, ciphertext: bytes, aad: bytes = b"") -> Any: ...
    def destroy_version(self, version_name: str) -> Any: ...
    def restore_version(self, version_name: str) -> Any: ...
    def update_version_state(self, version_name: str, state: str) -> Any: ...


class GoogleKms:
    """:class:`KmsCalls` on google-cloud-kms's ``KeyManagementServiceClient``; results as dicts
    with the model's keys (``name``, ``ciphertext``), so cases read both faces alike."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def create_key_ring(self, parent: str, key_ring_id: str) -> Any:
        return self.client.create_key_ring(
            request={"parent": parent, "key_ring_id": key_ring_id, "key_ring": {}}
        )

    def create_crypto_key(
        self, key_ring_name: str, crypto_key_id: str, *, skip_initial_version: bool = False
    ) -> Any:
        from google.cloud import kms_v1

        key = self.client.create_crypto_key(
            request={
                "parent": key_ring_name,
                "crypto_key_id": crypto_key_id,
                "crypto_key": {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT},
                "skip_initial_version_creation": skip_initial_version,
            }
        )
        return {"name": key.name}

    def get_key_ring(self, name: str) -> Any:
        return self.client.get_key_ring(name=name)

    def get_crypto_key_version(self, name: str) -> Any:
        return self.client.get_crypto_key_version(name=name)

    def encrypt(
        self, name: str, plaintext: bytes, aad: bytes = b"", plaintext_crc32c: int | None = None
    ) -> Any:
        request: dict[str, Any] = {"name": name, "plaintext": plaintext, "additional_authenticated_data": aad}
        if plaintext_crc32c is not None:
            request["plaintext_crc32c"] = {"value": plaintext_crc32c}
        return {"ciphertext": self.client.encrypt(request=request).ciphertext}

    def decrypt(self, name: str, ciphertext: bytes, aad: bytes = b"") -> Any:
        request = {"name": name, "ciphertext": ciphertext, "additional_authenticated_data": aad}
        return {"plaintext": self.client.decrypt(request=request).plaintext}

    def destroy_version(self, version_name: str) -> Any:
        return self.client.destroy_crypto_key_version(name=version_name)

    def restore_version(self, version_name: str) -> Any:
        return self.client.restore_crypto_key_version(name=version_name)

    def update_version_state(self, version_name: str, state: str, paths: tuple[str, ...] = ("state",)) -> Any:
        request: dict[str, Any] = {"crypto_key_version": {"name": version_name, "state": state}}
        if paths:
            request["update_mask"] = {"paths": list(paths)}
        return self.client.update_crypto_key_version(request=request)

    def create_typed_key(
        self,
        key_ring_name: str,
        crypto_key_id: str,
        purpose: str,
        algorithm: str | None,
        protection_level: str | None = None,
    ) -> Any:
        """CreateCryptoKey with a purpose and version template (the key types beyond symmetric)."""
        crypto_key: dict[str, Any] = {"purpose": purpose}
        if algorithm is not None:
            crypto_key["version_template"] = {"algorithm": algorithm}
            if protection_level is not None:
                crypto_key["version_template"]["protection_level"] = protection_level
        request = {"parent": key_ring_name, "crypto_key_id": crypto_key_id, "crypto_key": crypto_key}
        return {"name": self.client.create_crypto_key(request=request).name}

    def asymmetric_sign(self, name: str, digest: dict[str, bytes]) -> Any:
        return self.client.asymmetric_sign(request={"name": name, "digest": digest})

    def asymmetric_decrypt(self, name: str, ciphertext: bytes) -> Any:
        return self.client.asymmetric_decrypt(request={"name": name, "ciphertext": ciphertext})

    def update_rotation_period(self, key_name: str, seconds: int) -> Any:
        return self.client.update_crypto_key(
            request={
                "crypto_key": {"name": key_name, "rotation_period": {"seconds": seconds}},
                "update_mask": {"paths": ["rotation_period"]},
            }
        )

    def generate_random_bytes(self, location: str, length_bytes: int) -> Any:
        from google.cloud import kms_v1

        return self.client.generate_random_bytes(
            request={
                "location": location,
                "length_bytes": length_bytes,
                "protection_level": kms_v1.ProtectionLevel.HSM,
            }
        )

    def create_import_job(self, key_ring_name: str, import_job_id: str) -> Any:
        from google.cloud import kms_v1

        job = {
            "import_method": kms_v1.ImportJob.ImportMethod.RSA_OAEP_3072_SHA256,
            "protection_level": kms_v1.ProtectionLevel.SOFTWARE,
        }
        request = {"parent": key_ring_name, "import_job_id": import_job_id, "import_job": job}
        return self.client.create_import_job(request=request)

    def get_import_job(self, name: str) -> Any:
        return self.client.get_import_job(name=name)

    def create_import_only_key(self, key_ring_name: str, crypto_key_id: str) -> Any:
        """An import-only key without skip_initial_version_creation (Cloud KMS refuses it)."""
        from google.cloud import kms_v1

        crypto_key = {"purpose": kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT, "import_only": True}
        request = {"parent": key_ring_name, "crypto_key_id": crypto_key_id, "crypto_key": crypto_key}
        return self.client.create_crypto_key(request=request)

    def list_key_rings(self, parent: str, page_token: str = "", filter_text: str = "") -> Any:
        request = {"parent": parent, "page_token": page_token, "filter": filter_text}
        return list(self.client.list_key_rings(request=request))

    # Deletion, retired names and their operations (fakes.kms.lifecycle). The Operation a deletion
    # answers is not waited for: the emulator answers it done, and waiting on gcp would add polls.
    def delete_crypto_key_version(self, name: str) -> Any:
        return self.client.delete_crypto_key_version(name=name)

    def delete_crypto_key(self, name: str) -> Any:
        return self.client.delete_crypto_key(name=name)

    def get_retired_resource(self, name: str) -> Any:
        return self.client.get_retired_resource(name=name)

    def get_operation(self, name: str) -> Any:
        return self.client.get_operation(request={"name": name})

    def get_location(self, name: str) -> Any:
        return self.client.get_location(request={"name": name})

    # IAM policies (fakes.kms.iam)
    def get_iam_policy(self, resource: str) -> Any:
        return self.client.get_iam_policy(request={"resource": resource})

    def set_iam_policy(self, resource: str, policy: dict[str, Any]) -> Any:
        return self.client.set_iam_policy(request={"resource": resource, "policy": policy})

    # Raw encryption (fakes.kms.raw)
    def raw_encrypt(self, name: str, plaintext: bytes, iv: bytes = b"") -> Any:
        request = {"name": name, "plaintext": plaintext, "initialization_vector": iv}
        return self.client.raw_encrypt(request=request)

    def raw_decrypt(self, name: str, ciphertext: bytes, iv: bytes, tag_length: int) -> Any:
        request = {
            "name": name,
            "ciphertext": ciphertext,
            "initialization_vector": iv,
            "tag_length": tag_length,
        }
        return self.client.raw_decrypt(request=request)

    def destroy_all_versions(self, key_name: str) -> None:
        """Schedule the destruction of every version still ENABLED or DISABLED (best effort)."""
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import kms_v1

        live = {
            kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED,
            kms_v1.CryptoKeyVersion.CryptoKeyVersionState.DISABLED,
        }
        try:
            for version in self.client.list_crypto_key_versions(parent=key_name):
                if version.state in live:
                    self.client.destroy_crypto_key_version(name=version.name)
        except GoogleAPICallError:
            return


@dataclass
class World:
    """What a case works in: the calls, the location, and new names the snapshot turns into
    placeholders (``unique(kind, prefix)``)."""

    kms: Any
    location: str
    unique: Callable[[str, str], str]
    placeholder: Callable[[str, str], str] = lambda kind, value: value
    """Registers a name the service made (an Operation, a RetiredResource) as volatile, so a
    snapshot made on gcp and a run on the emulator compare equal (the snapshot's ``placeholder``)."""
    keys: list[str] = field(default_factory=list)
    """Every crypto key made, so a gcp run can schedule their versions' destruction (they bill
    monthly while they exist, and key rings and keys can never be deleted)."""

    def ring(self) -> str:
        ring_id = self.unique("key-ring", "parity")
        self.kms.create_key_ring(self.location, ring_id)
        return f"{self.location}/keyRings/{ring_id}"

    def key(self, ring: str | None = None, *, skip_initial_version: bool = False) -> str:
        ring = ring or self.ring()
        key_id = self.unique("crypto-key", "key")
        self.kms.create_crypto_key(ring, key_id, skip_initial_version=skip_initial_version)
        self.keys.append(f"{ring}/cryptoKeys/{key_id}")
        return self.keys[-1]

    def typed_key(self, purpose: str, algorithm: str | None, protection_level: str | None = None) -> str:
        ring = self.ring()
        key_id = self.unique("crypto-key", "key")
        self.kms.create_typed_key(ring, key_id, purpose, algorithm, protection_level)
        self.keys.append(f"{ring}/cryptoKeys/{key_id}")
        return self.keys[-1]


Setup = Callable[[World], Callable[[], object]]


@dataclass(frozen=True)
class Case:
    name: str
    error: type[Exception]
    setup: Setup
    rest_only: bool = False


def _key_ring_exists(w: World) -> Callable[[], object]:
    ring = w.ring()
    return lambda: w.kms.create_key_ring(w.location, ring.rpartition("/")[2])


def _crypto_key_exists(w: World) -> Callable[[], object]:
    key = w.key()
    ring, _, key_id = key.rpartition("/cryptoKeys/")
    return lambda: w.kms.create_crypto_key(ring, key_id)


def _version_disabled(w: World) -> Callable[[], object]:
    key = w.key()
    w.kms.update_version_state(f"{key}/cryptoKeyVersions/1", "DISABLED")
    return lambda: w.kms.encrypt(key, b"secret")


def _destroyed_twice(w: World) -> Callable[[], object]:
    version = f"{w.key()}/cryptoKeyVersions/1"
    w.kms.destroy_version(version)
    return lambda: w.kms.destroy_version(version)


def _missing_key(w: World) -> Callable[[], object]:
    ring = w.ring()
    return lambda: w.kms.encrypt(f"{ring}/cryptoKeys/missing", b"secret")


def _no_primary(w: World) -> Callable[[], object]:
    key = w.key(skip_initial_version=True)
    return lambda: w.kms.encrypt(key, b"secret")


def _wrong_key(w: World) -> Callable[[], object]:
    ring = w.ring()
    first, second = w.key(ring), w.key(ring)
    ciphertext = w.kms.encrypt(first, b"secret")["ciphertext"]
    return lambda: w.kms.decrypt(second, ciphertext)


def _new_key(purpose: str, algorithm: str | None) -> Setup:
    """A case that fails creating a key of another type."""

    def setup(w: World) -> Callable[[], object]:
        ring = w.ring()
        return lambda: w.kms.create_typed_key(ring, w.unique("crypto-key", "key"), purpose, algorithm)

    return setup


def _typed_version_then(purpose: str, algorithm: str, call: Callable[[World, str], object]) -> Setup:
    """A case needing version 1 of a fresh key of another type, then one call on it."""

    def setup(w: World) -> Callable[[], object]:
        version = f"{w.typed_key(purpose, algorithm)}/cryptoKeyVersions/1"
        return lambda: call(w, version)

    return setup


def _asymmetric_key_rotation(w: World) -> Callable[[], object]:
    key = w.typed_key("ASYMMETRIC_SIGN", "EC_SIGN_P256_SHA256")
    return lambda: w.kms.update_rotation_period(key, 86400 * 30)


def _missing_import_job(w: World) -> Callable[[], object]:
    ring = w.ring()
    return lambda: w.kms.get_import_job(f"{ring}/importJobs/missing")


def _import_only_key(w: World) -> Callable[[], object]:
    ring = w.ring()
    return lambda: w.kms.create_import_only_key(ring, w.unique("crypto-key", "key"))


def _import_job_exists(w: World) -> Callable[[], object]:
    ring = w.ring()
    w.kms.create_import_job(ring, "job")
    return lambda: w.kms.create_import_job(ring, "job")


def _key_then(call: Callable[[World, str], object]) -> Setup:
    """A case needing one fresh key, then one call on it."""

    def setup(w: World) -> Callable[[], object]:
        key = w.key()
        return lambda: call(w, key)

    return setup


def _deleted_key_recreated(w: World) -> Callable[[], object]:
    """A key with no version can be deleted at once; its name is then retired."""
    key = w.key(skip_initial_version=True)
    operation = w.kms.delete_crypto_key(key)
    w.placeholder("operation", operation.operation.name)
    # The metadata may be absent until a real deletion's Operation is done; then no name to register.
    w.placeholder("retired-resource", getattr(operation.metadata, "retired_resource", ""))
    ring, _, key_id = key.rpartition("/cryptoKeys/")
    return lambda: w.kms.create_crypto_key(ring, key_id, skip_initial_version=True)


def _stale_policy_etag(w: World) -> Callable[[], object]:
    """Read a key ring's policy, write it back (a new etag), then write again with the etag read:
    an empty policy each time, so nothing is ever granted on gcp."""
    ring = w.ring()
    etag = w.kms.get_iam_policy(ring).etag
    w.kms.set_iam_policy(ring, {"etag": etag})
    return lambda: w.kms.set_iam_policy(ring, {"etag": etag})


NEVER = 'request.time < timestamp("2000-01-01T00:00:00Z")'
"""An IAM condition that is never true: a binding under it grants nothing, were it ever accepted."""


def _conditional_binding_in_version_1(w: World) -> Callable[[], object]:
    ring = w.ring()
    binding = {
        "role": "roles/cloudkms.viewer",
        "members": ["domain:example.com"],
        "condition": {"title": "never", "expression": NEVER},
    }
    return lambda: w.kms.set_iam_policy(ring, {"version": 1, "bindings": [binding]})


def _raw_gcm_version_then(call: Callable[[World, str], object]) -> Setup:
    """A case needing version 1 of a fresh RAW_ENCRYPT_DECRYPT AES-256-GCM key (HSM: the protection
    level Cloud KMS's raw encryption samples create), then one call on it."""

    def setup(w: World) -> Callable[[], object]:
        version = f"{w.typed_key('RAW_ENCRYPT_DECRYPT', 'AES_256_GCM', 'HSM')}/cryptoKeyVersions/1"
        return lambda: call(w, version)

    return setup


CASES = (
    Case(
        "key_ring_not_found",
        kms.KeyRingNotFound,
        lambda w: lambda: w.kms.get_key_ring(f"{w.location}/keyRings/missing"),
    ),
    Case("crypto_key_not_found", kms.CryptoKeyNotFound, _missing_key),
    Case(
        "crypto_key_version_not_found",
        kms.CryptoKeyVersionNotFound,
        _key_then(lambda w, key: w.kms.get_crypto_key_version(f"{key}/cryptoKeyVersions/9")),
    ),
    Case("key_ring_already_exists", kms.KeyRingAlreadyExists, _key_ring_exists),
    Case("crypto_key_already_exists", kms.CryptoKeyAlreadyExists, _crypto_key_exists),
    Case("version_not_enabled", kms.VersionNotEnabled, _version_disabled),
    Case("version_state_precondition", kms.VersionStatePrecondition, _destroyed_twice),
    Case(
        "version_not_scheduled_for_destruction",
        kms.VersionNotScheduledForDestruction,
        _key_then(lambda w, key: w.kms.restore_version(f"{key}/cryptoKeyVersions/1")),
    ),
    Case("no_primary_version", kms.NoPrimaryVersion, _no_primary),
    Case(
        "ciphertext_invalid",
        kms.CiphertextInvalid,
        _key_then(lambda w, key: w.kms.decrypt(key, b"not a ciphertext of any key, long enough to parse")),
    ),
    Case("wrong_crypto_key", kms.WrongCryptoKey, _wrong_key),
    Case(
        "checksum_mismatch",
        kms.ChecksumMismatch,
        _key_then(lambda w, key: w.kms.encrypt(key, b"secret", plaintext_crc32c=crc32c(b"secret") ^ 1)),
    ),
    Case(
        "plaintext_too_long",
        kms.PlaintextTooLong,
        _key_then(lambda w, key: w.kms.encrypt(key, b"x" * TOO_LONG)),
    ),
    Case(
        "additional_data_too_long",
        kms.AdditionalDataTooLong,
        _key_then(lambda w, key: w.kms.encrypt(key, b"secret", b"a" * TOO_LONG)),
    ),
    Case(
        "invalid_resource_id",
        kms.InvalidResourceId,
        lambda w: lambda: w.kms.create_key_ring(w.location, "bad id!"),
    ),
    Case(
        "invalid_version_state",
        kms.InvalidVersionState,
        _key_then(lambda w, key: w.kms.update_version_state(f"{key}/cryptoKeyVersions/1", "DESTROYED")),
    ),
    Case(
        "invalid_page_token",
        kms.InvalidPageToken,
        lambda w: lambda: w.kms.list_key_rings(w.location, "not-a-page-token"),
        rest_only=True,
    ),
    Case(
        "update_mask_missing",
        kms.UpdateMaskMissing,
        _key_then(lambda w, key: w.kms.update_version_state(f"{key}/cryptoKeyVersions/1", "DISABLED", ())),
        rest_only=True,
    ),
    # Key types beyond symmetric: google-cloud-kms calls the in-process model makes through module
    # functions (fakes.kms.asymmetric, mac, key_update, locations), not KmsBackend methods.
    Case(
        "wrong_key_purpose",
        kms.WrongKeyPurpose,
        _key_then(lambda w, key: w.kms.asymmetric_sign(f"{key}/cryptoKeyVersions/1", {"sha256": bytes(32)})),
        rest_only=True,
    ),
    Case(
        "asymmetric_decryption_failed",
        kms.AsymmetricDecryptionFailed,
        _typed_version_then(
            "ASYMMETRIC_DECRYPT",
            "RSA_DECRYPT_OAEP_2048_SHA256",
            lambda w, version: w.kms.asymmetric_decrypt(version, b"\x01" * 256),
        ),
        rest_only=True,
    ),
    Case("algorithm_required", kms.AlgorithmRequired, _new_key("ASYMMETRIC_SIGN", None), rest_only=True),
    Case(
        "algorithm_purpose_mismatch",
        kms.AlgorithmPurposeMismatch,
        _new_key("MAC", "EC_SIGN_P256_SHA256"),
        rest_only=True,
    ),
    Case(
        "digest_mismatch",
        kms.DigestMismatch,
        _typed_version_then(
            "ASYMMETRIC_SIGN",
            "EC_SIGN_P256_SHA256",
            lambda w, version: w.kms.asymmetric_sign(version, {"sha384": bytes(48)}),
        ),
        rest_only=True,
    ),
    Case(
        "rotation_not_supported",
        kms.RotationNotSupported,
        _asymmetric_key_rotation,
        rest_only=True,
    ),
    Case(
        "invalid_rotation_period",
        kms.InvalidRotationPeriod,
        _key_then(lambda w, key: w.kms.update_rotation_period(key, 3600)),
        rest_only=True,
    ),
    Case(
        "invalid_random_bytes_request",
        kms.InvalidRandomBytesRequest,
        lambda w: lambda: w.kms.generate_random_bytes(w.location, 4096),
        rest_only=True,
    ),
    Case(
        "import_job_not_found",
        kms.ImportJobNotFound,
        _missing_import_job,
        rest_only=True,
    ),
    Case("import_job_already_exists", kms.ImportJobAlreadyExists, _import_job_exists, rest_only=True),
    Case(
        "import_only_key",
        kms.ImportOnlyKey,
        _import_only_key,
        rest_only=True,
    ),
    Case(
        "update_mask_invalid",
        kms.UpdateMaskInvalid,
        _key_then(
            lambda w, key: w.kms.update_version_state(f"{key}/cryptoKeyVersions/1", "DISABLED", ("labels",))
        ),
        rest_only=True,
    ),
    # Deletion, IAM policies, raw encryption, locations and list filters: google-cloud-kms calls
    # the in-process model makes through module functions (fakes.kms.lifecycle, iam, raw,
    # location_resources, list_filters), not KmsBackend methods.
    Case(
        "version_not_deletable",
        kms.VersionNotDeletable,
        _key_then(lambda w, key: w.kms.delete_crypto_key_version(f"{key}/cryptoKeyVersions/1")),
        rest_only=True,
    ),
    Case(
        "crypto_key_has_versions",
        kms.CryptoKeyHasVersions,
        _key_then(lambda w, key: w.kms.delete_crypto_key(key)),
        rest_only=True,
    ),
    Case("crypto_key_name_retired", kms.CryptoKeyNameRetired, _deleted_key_recreated, rest_only=True),
    Case(
        "retired_resource_not_found",
        kms.RetiredResourceNotFound,
        lambda w: lambda: w.kms.get_retired_resource(f"{w.location}/retiredResources/missing"),
        rest_only=True,
    ),
    Case(
        "operation_not_found",
        kms.OperationNotFound,
        lambda w: lambda: w.kms.get_operation(f"{w.location}/operations/{MISSING_OPERATION}"),
        rest_only=True,
    ),
    Case(
        "location_not_found",
        kms.LocationNotFound,
        lambda w: (
            lambda: w.kms.get_location(f"{w.location.rpartition('/locations/')[0]}/locations/nowhere-1")
        ),
        rest_only=True,
    ),
    Case("policy_etag_mismatch", kms.PolicyEtagMismatch, _stale_policy_etag, rest_only=True),
    Case("invalid_iam_policy", kms.InvalidIamPolicy, _conditional_binding_in_version_1, rest_only=True),
    Case(
        "invalid_raw_request",
        kms.InvalidRawRequest,
        _raw_gcm_version_then(lambda w, version: w.kms.raw_encrypt(version, b"secret", iv=bytes(12))),
        rest_only=True,
    ),
    Case(
        "raw_decryption_failed",
        kms.RawDecryptionFailed,
        _raw_gcm_version_then(lambda w, version: w.kms.raw_decrypt(version, bytes(32), bytes(12), 16)),
        rest_only=True,
    ),
    Case(
        "invalid_list_filter",
        kms.InvalidListFilter,
        lambda w: lambda: w.kms.list_key_rings(w.location, filter_text="name = ("),
        rest_only=True,
    ),
)

_INJECTED = (
    "answered only when the harness's fault controls inject it; faults are refused on gcp, so no "
    "gcp run could ever validate a snapshot of it"
)
_CLIENT_SENDS_VALID = "google-cloud-kms only sends well-formed requests to methods that exist"

LEFT_OUT: dict[type[Exception], str] = {
    kms.ServiceUnavailable: _INJECTED,
    kms.DeadlineExceeded: _INJECTED,
    kms.QuotaExhausted: _INJECTED,
    kms.UnsupportedPurpose: "a limit of the fake, not a Cloud KMS error: real Cloud KMS accepts the call",
    kms.UnsupportedVersionTemplate: "a limit of the emulator, not a Cloud KMS error: Cloud KMS accepts it",
    kms.InvalidResourceType: "google-cloud-kms's REST transport refuses a version name for decrypt "
    "before sending (ValueError: the name must match the binding cryptoKeys/*); only gRPC reaches "
    "the service",
    kms.MethodNotFound: _CLIENT_SENDS_VALID,
    kms.ImportJobNotActive: "an ImportJob expires three days after its creation: a gcp run cannot wait "
    "for it (tests/test_kms_key_types.py moves the emulator's clock instead)",
    kms.InvalidJsonValue: _CLIENT_SENDS_VALID,
    kms.InvalidJsonPayload: _CLIENT_SENDS_VALID,
    kms.ImportedVersionNotDeletable: "needs a successfully imported version in state DESTROYED (one "
    "that is not is refused as VersionNotDeletable first); Cloud KMS destroys a version no sooner "
    "than 24 hours after it is scheduled (30 days by default): a gcp run cannot wait for it",
    kms.UnsupportedMethod: "a limit of the emulator, not a Cloud KMS error: real Cloud KMS implements "
    "those methods",
}
"""The error classes with no snapshot, and why."""
