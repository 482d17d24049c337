"""Cloud KMS's own errors, one builder per error, returning the ``harness.ports`` error to raise.

The fake is only worth something if it fails the way Cloud KMS fails, so each message is Cloud
KMS's text, word for word, with the public report it was taken from. Where no real response could
be found the builder says so ("not confirmed") and names what was searched; those messages are
our wording and must not be asserted on as Cloud KMS's.
"""

from __future__ import annotations

from harness.ports import (
    DecryptionError,
    KeyAlreadyExistsError,
    KeyManagerError,
    KeyNotFoundError,
    KeyStateError,
)

MAX_FIELD_LENGTH = 65536
"""Plaintext and AAD limit for SOFTWARE keys (64 KiB, EncryptRequest reference docs)."""


# ----------------------------------------------------------------------------------- NOT_FOUND
def key_ring_not_found(name: str) -> KeyNotFoundError:
    # jsign GoogleCloudSigningServiceTest; gcloud kms keys versions list output in public repos.
    return KeyNotFoundError(f"KeyRing {name} not found.")


def crypto_key_not_found(name: str) -> KeyNotFoundError:
    # `ERROR: (gcloud.kms.encrypt) NOT_FOUND: CryptoKey projects/.../cryptoKeys/default not found.`
    return KeyNotFoundError(f"CryptoKey {name} not found.")


def crypto_key_version_not_found(name: str) -> KeyNotFoundError:
    # Not confirmed: no real response found (searched "CryptoKeyVersion projects/ ... not found");
    # follows the confirmed KeyRing/CryptoKey pattern.
    return KeyNotFoundError(f"CryptoKeyVersion {name} not found.")


# ------------------------------------------------------------------------------ ALREADY_EXISTS
def key_ring_already_exists(name: str) -> KeyAlreadyExistsError:
    # terraform-provider-google#1214: "Error 409: KeyRing projects/.../keyRings/x already exists."
    return KeyAlreadyExistsError(f"KeyRing {name} already exists.")


def crypto_key_already_exists(name: str) -> KeyAlreadyExistsError:
    # Not confirmed: no real response found (searched "CryptoKey projects/ already exists");
    # follows the confirmed KeyRing pattern.
    return KeyAlreadyExistsError(f"CryptoKey {name} already exists.")


# ------------------------------------------------------------------------- FAILED_PRECONDITION
def version_not_enabled(name: str, state: str) -> KeyStateError:
    # Encrypt/decrypt with a version that is not ENABLED: getsops/sops#1421 (DISABLED),
    # sethvargo/vault-on-gke#56 (DESTROYED), gcloud kms encrypt output (DISABLED).
    return KeyStateError(f"{name} is not enabled, current state is: {state}.")


def version_state_precondition(name: str, state: str) -> KeyStateError:
    # Destroying a version already DESTROY_SCHEDULED/DESTROYED (Config Connector test notes,
    # terraform destroy reports) and patching a DESTROY_SCHEDULED one ("failed to update key
    # version"). Also used for restoring a version that is not DESTROY_SCHEDULED: not confirmed
    # for restore (searched "is not scheduled for destruction").
    return KeyStateError(
        f"The request cannot be fulfilled. Resource {name} has value {state} "
        "in field crypto_key_version.state."
    )


def no_primary_version(name: str) -> KeyStateError:
    # Not confirmed: no real response found for encrypting with a key created with
    # skip_initial_version_creation (searched "has no primary", "no primary version").
    return KeyStateError(f"CryptoKey {name} has no primary CryptoKeyVersion.")


# ---------------------------------------------------------------------------- INVALID_ARGUMENT
def ciphertext_invalid() -> DecryptionError:
    # Garbage or tampered ciphertext: "400 Decryption failed: the ciphertext is invalid." (public
    # test suites and logs run against real Cloud KMS). Also used for a wrong AAD: not confirmed
    # which of the two decryption texts Cloud KMS gives for that (searched "wrong additional
    # authenticated data", "Decryption failed").
    return DecryptionError("Decryption failed: the ciphertext is invalid.")


def wrong_crypto_key() -> DecryptionError:
    # A ciphertext of another CryptoKey: googleapis/nodejs-kms#145, GoogleCloudPlatform/
    # dotnet-docs-samples#1122, gcloud kms decrypt output trying the wrong keys.
    return DecryptionError("Decryption failed: verify that 'name' refers to the correct CryptoKey.")


def checksum_mismatch(checksum_field: str, data_field: str) -> KeyManagerError:
    # Cloud KMS data-integrity guidelines: "The checksum in field plaintext_crc32c did not match
    # the data in field plaintext."; gcloud matches "The checksum in field .* did not match ...".
    return KeyManagerError(
        f"The checksum in field {checksum_field} did not match the data in field {data_field}."
    )


def field_too_long(field: str, length: int) -> KeyManagerError:
    # sourcegraph/sourcegraph#56651: "Request field plaintext must have length of at least 0, but
    # not more than 65536. Provided value had length 87579." The AAD wording is the same pattern.
    return KeyManagerError(
        f"Request field {field} must have length of at least 0, but not more than "
        f"{MAX_FIELD_LENGTH}. Provided value had length {length}."
    )


def invalid_resource_type(name: str) -> KeyManagerError:
    # tink-crypto/tink-py#31: decrypt with a CryptoKeyVersion name gives
    # "400 projects/.../cryptoKeyVersions/1 is not a valid resource type for this request."
    return KeyManagerError(f"{name} is not a valid resource type for this request.")


def invalid_resource_id(field: str, value: str) -> KeyManagerError:
    # Not confirmed: the rule is the documented `[a-zA-Z0-9_-]{1,63}`, the wording is ours
    # (searched "key_ring_id must match", "crypto_key_id must match").
    return KeyManagerError(
        f"Invalid {field} {value!r}: it must match the regular expression [a-zA-Z0-9_-]{{1,63}}."
    )


def invalid_version_state(state: str) -> KeyManagerError:
    # Not confirmed: UpdateCryptoKeyVersion only moves between ENABLED and DISABLED (API reference);
    # the wording for asking for another state is ours.
    return KeyManagerError(
        f"Invalid value {state} for field crypto_key_version.state: "
        "UpdateCryptoKeyVersion can only set ENABLED or DISABLED."
    )


def unsupported_purpose(purpose: str) -> KeyManagerError:
    # A limit of this fake, not a Cloud KMS error: only symmetric ENCRYPT_DECRYPT keys exist here.
    return KeyManagerError(f"The fake Cloud KMS supports only purpose ENCRYPT_DECRYPT, not {purpose}.")
