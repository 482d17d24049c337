"""Cloud KMS's own errors, one class per real error (moto's discipline).

The fake is only worth something if it fails the way Cloud KMS fails, so each class carries Cloud
KMS's gRPC canonical code, HTTP status and message template, and says where the text was seen
(``confirmed``) or, when no real response could be found, what was searched (``searched``); those
messages are our wording and must not be asserted on as Cloud KMS's
(:func:`fakes.errors.text_is_confirmed`). Each class subclasses the ``harness.ports`` error the
domain catches, so code written against the port keeps working on every tier.
"""

from __future__ import annotations

from typing import ClassVar

from fakes.errors import RealError
from harness.ports import (
    DecryptionError,
    KeyAlreadyExistsError,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyNotFoundError,
    KeyStateError,
)

MAX_FIELD_LENGTH = 65536
"""Plaintext and AAD limit for SOFTWARE keys (64 KiB, EncryptRequest reference docs)."""


class KmsError(RealError, KeyManagerError):
    """A Cloud KMS error whose message is its class's ``template`` filled with the call's values."""

    template: ClassVar[str] = ""

    def __init__(self, **values: object) -> None:
        super().__init__(self.template.format(**values))


# ----------------------------------------------------------------------------------- NOT_FOUND
class KeyRingNotFound(KmsError, KeyNotFoundError):
    template = "KeyRing {name} not found."
    confirmed = "jsign GoogleCloudSigningServiceTest; gcloud kms keys versions list output in public repos"


class CryptoKeyNotFound(KmsError, KeyNotFoundError):
    template = "CryptoKey {name} not found."
    confirmed = (
        "`ERROR: (gcloud.kms.encrypt) NOT_FOUND: CryptoKey projects/.../cryptoKeys/default not found.`"
    )


class CryptoKeyVersionNotFound(KmsError, KeyNotFoundError):
    template = "CryptoKeyVersion {name} not found."
    searched = (
        'no real response found for "CryptoKeyVersion projects/ ... not found" (searched issues and '
        "find_string; only another emulator's test expects it); the wording follows the confirmed "
        "KeyRing/CryptoKey pattern"
    )


# ------------------------------------------------------------------------------ ALREADY_EXISTS
class KeyRingAlreadyExists(KmsError, KeyAlreadyExistsError):
    template = "KeyRing {name} already exists."
    confirmed = 'terraform-provider-google#1214: "Error 409: KeyRing projects/.../keyRings/x already exists."'


class CryptoKeyAlreadyExists(KmsError, KeyAlreadyExistsError):
    template = "CryptoKey {name} already exists."
    searched = (
        'no real response found for "CryptoKey projects/ already exists" (searched issues for KMS '
        "409 ALREADY_EXISTS on cryptoKeys.create); the wording follows the confirmed KeyRing pattern"
    )


# ---------------------------------------------------- service-side failures (fault injection)
# Cloud KMS answers these on its own; the harness answers them when a KMS fault is armed. The
# google-cloud-kms client retries UNAVAILABLE and DEADLINE_EXCEEDED, not RESOURCE_EXHAUSTED.
class ServiceUnavailable(KmsError, KeyManagerUnavailableError):
    status = 503
    code = "UNAVAILABLE"
    template = "The service is currently unavailable."
    confirmed = (
        "Google APIs' 503 UNAVAILABLE body, googleapis/google-api-php-client#1945 and "
        "googleapis/google-cloud-python#5410; not seen from cloudkms itself"
    )


class DeadlineExceeded(KmsError, KeyManagerUnavailableError):
    status = 504
    code = "DEADLINE_EXCEEDED"
    template = "Deadline Exceeded"
    confirmed = "googleapis/python-datastore#432 and oppia/oppia#22814 (504 Deadline Exceeded)"


class QuotaExhausted(KmsError, KeyManagerUnavailableError):
    status = 429
    code = "RESOURCE_EXHAUSTED"
    template = (
        "Quota exceeded for quota metric 'cloudkms.googleapis.com/crypto_requests' and limit "
        "'CryptoRequestsPerMinutePerProject' of service 'cloudkms.googleapis.com' for consumer "
        "'project_number:{project_number}'."
    )
    confirmed = (
        "mozilla-services/foxsec-pipeline#97 (crypto_requests, RESOURCE_EXHAUSTED); "
        "GoogleCloudPlatform/python-docs-samples#3482 (the 429 and the trailing consumer)"
    )


# ------------------------------------------------------------------------- FAILED_PRECONDITION
class VersionNotEnabled(KmsError, KeyStateError):
    """Encrypt or decrypt with a version that is not ENABLED."""

    template = "{name} is not enabled, current state is: {state}."
    confirmed = (
        "getsops/sops#1421 (DISABLED), sethvargo/vault-on-gke#56 (DESTROYED), "
        "gcloud kms encrypt output (DISABLED)"
    )


class VersionStatePrecondition(KmsError, KeyStateError):
    """Destroying a version already DESTROY_SCHEDULED/DESTROYED, or patching a DESTROY_SCHEDULED one."""

    template = (
        "The request cannot be fulfilled. Resource {name} has value {state} "
        "in field crypto_key_version.state."
    )
    confirmed = (
        "Config Connector test notes and terraform destroy reports (destroying twice); "
        '"failed to update key version" reports (patching a DESTROY_SCHEDULED version)'
    )


class VersionNotScheduledForDestruction(KmsError, KeyStateError):
    """Restoring a version that is not DESTROY_SCHEDULED."""

    template = VersionStatePrecondition.template
    searched = (
        'no real response found for restore (searched "is not scheduled for destruction"); the '
        "wording follows the confirmed state precondition for destroy and patch"
    )


class NoPrimaryVersion(KmsError, KeyStateError):
    """Encrypting with, or asking the primary of, a key created with skip_initial_version_creation."""

    template = "CryptoKey {name} has no primary CryptoKeyVersion."
    searched = 'no real response found (searched "has no primary", "no primary version"); our wording'


# ---------------------------------------------------------------------------- INVALID_ARGUMENT
class CiphertextInvalid(KmsError, DecryptionError):
    """Garbage or tampered ciphertext; AES-GCM cannot tell a tampered body from a wrong AAD, so a
    wrong AAD raises this too, for which the text is not confirmed (searched "wrong additional
    authenticated data", "Decryption failed"): tests compare the text only for garbage/tampering."""

    template = "Decryption failed: the ciphertext is invalid."
    confirmed = (
        '"400 Decryption failed: the ciphertext is invalid." in public test suites and logs run '
        "against real Cloud KMS"
    )


class WrongCryptoKey(KmsError, DecryptionError):
    """A ciphertext of another CryptoKey."""

    template = "Decryption failed: verify that 'name' refers to the correct CryptoKey."
    confirmed = (
        "googleapis/nodejs-kms#145, GoogleCloudPlatform/dotnet-docs-samples#1122, "
        "gcloud kms decrypt output trying the wrong keys"
    )


class ChecksumMismatch(KmsError):
    template = "The checksum in field {checksum_field} did not match the data in field {data_field}."
    confirmed = (
        'Cloud KMS data-integrity guidelines: "The checksum in field plaintext_crc32c did not match '
        'the data in field plaintext."; gcloud matches "The checksum in field .* did not match ..."'
    )


class PlaintextTooLong(KmsError):
    template = (
        "Request field {field} must have length of at least 0, but not more than "
        f"{MAX_FIELD_LENGTH}. Provided value had length {{length}}."
    )
    confirmed = (
        'sourcegraph/sourcegraph#56651: "Request field plaintext must have length of at least 0, but '
        'not more than 65536. Provided value had length 87579."'
    )


class AdditionalDataTooLong(KmsError):
    template = PlaintextTooLong.template
    searched = (
        "only the plaintext text was found (sourcegraph/sourcegraph#56651); the AAD wording follows "
        "the same pattern"
    )


class InvalidResourceType(KmsError):
    template = "{name} is not a valid resource type for this request."
    confirmed = (
        "tink-crypto/tink-py#31: decrypt with a CryptoKeyVersion name gives "
        '"400 projects/.../cryptoKeyVersions/1 is not a valid resource type for this request."'
    )


class InvalidResourceId(KmsError):
    template = "Invalid {field} {value!r}: it must match the regular expression [a-zA-Z0-9_-]{{1,63}}."
    searched = (
        'searched "key_ring_id must match", "crypto_key_id must match"; the rule is the documented '
        "`[a-zA-Z0-9_-]{1,63}`, the wording is ours"
    )


class InvalidVersionState(KmsError):
    template = (
        "Invalid value {state} for field crypto_key_version.state: "
        "UpdateCryptoKeyVersion can only set ENABLED or DISABLED."
    )
    searched = (
        "UpdateCryptoKeyVersion only moves between ENABLED and DISABLED (API reference); no real "
        "response found for asking another state, the wording is ours"
    )


class UnsupportedPurpose(KmsError):
    """A limit of this fake, not a Cloud KMS error: a purpose the model lacks (KEY_ENCAPSULATION)."""

    template = (
        "The fake Cloud KMS supports only purposes ENCRYPT_DECRYPT, ASYMMETRIC_SIGN, "
        "ASYMMETRIC_DECRYPT, MAC and RAW_ENCRYPT_DECRYPT, not {purpose}."
    )
    searched = "nothing to search: Cloud KMS supports every purpose; a limit of this fake in our wording"


# ------------------------------------------------------------------ key types beyond symmetric
class WrongKeyPurpose(KmsError, KeyStateError):
    """An operation the key's purpose does not allow (sign with an ENCRYPT_DECRYPT key...)."""

    template = "Operation requested for Key {name} has incorrect key purpose: {purpose}"
    confirmed = (
        "eth_defi's Google Cloud HSM wallet docstring quotes `FailedPrecondition: 400 Operation "
        "requested for Key projects/.../cryptoKeyVersions/1 has incorrect key purpose: "
        "ENCRYPT_DECRYPT` (signing with a symmetric key, violation CRYPTO_SCHEME_MISMATCH); a public "
        "FAQ quotes the same text for GetPublicKey on a symmetric key"
    )


class AsymmetricDecryptionFailed(KmsError, DecryptionError):
    """An RSA-OAEP ciphertext the key cannot open (wrong key, wrong padding, tampered)."""

    template = "Decryption failed."
    confirmed = (
        "GoogleCloudPlatform/dotnet-docs-samples#1124: AsymmetricDecrypt answered "
        'Status(StatusCode=InvalidArgument, Detail="Decryption failed.")'
    )


class AlgorithmRequired(KmsError):
    template = "crypto_key.version_template.algorithm must be specified for purpose {purpose}."
    searched = (
        "no real response found for CreateCryptoKey with an asymmetric or MAC purpose and no "
        "algorithm (searched issues and code for version_template.algorithm errors); our wording"
    )


class AlgorithmPurposeMismatch(KmsError):
    template = "Algorithm {algorithm} is not compatible with key purpose {purpose}."
    searched = (
        "no real response found for an algorithm of another purpose on CreateCryptoKey (searched "
        '"not compatible with purpose", "algorithm purpose"); our wording'
    )


class DigestMismatch(KmsError):
    """AsymmetricSign with a digest of the wrong hash or size, or digest and data both/neither."""

    template = "{detail}"
    searched = (
        "the real service text was not found; only the PKCS#11/CNG library's own "
        '"provided digest has incorrect size (got 20, want 32)" (GoogleCloudPlatform/kms-integrations'
        "#64), which is client-side; our wording"
    )


class RotationNotSupported(KmsError):
    template = "Automatic rotation is not supported for keys with purpose {purpose}."
    searched = (
        "Cloud KMS docs say automatic rotation is only for symmetric keys (key-rotation#asymmetric); "
        "no real response text found; our wording"
    )


class InvalidRotationPeriod(KmsError):
    template = "crypto_key.rotation_period must be at least 1 day and at most 100 years, got {value}."
    searched = (
        "the documented bounds (rotation period between 1 day and 100 years); no real response "
        "text found (searched rotation_period errors); our wording"
    )


class InvalidRandomBytesRequest(KmsError):
    template = "{detail}"
    searched = (
        "GenerateRandomBytes: length_bytes 8..1024 and HSM only (API reference); no real response "
        "text found; our wording"
    )


# ------------------------------------------------------------------------------ key import
class ImportJobNotFound(KmsError, KeyNotFoundError):
    template = "ImportJob {name} not found."
    searched = (
        'no real response found for "ImportJob projects/ ... not found"; the wording follows the '
        "confirmed KeyRing/CryptoKey pattern"
    )


class ImportJobAlreadyExists(KmsError, KeyAlreadyExistsError):
    template = "ImportJob {name} already exists."
    searched = "no real response found; the wording follows the confirmed KeyRing pattern"


class ImportJobNotActive(KmsError, KeyStateError):
    template = "ImportJob {name} is not active, current state is: {state}."
    searched = (
        "an import with an EXPIRED ImportJob fails (ImportJob reference docs); no real response text "
        "found; the wording follows the confirmed VersionNotEnabled pattern"
    )


class ImportOnlyKey(KmsError, KeyStateError):
    template = "{detail}"
    searched = (
        "import_only keys need skip_initial_version_creation and refuse CreateCryptoKeyVersion "
        "(CryptoKey reference docs); no real response text found; our wording"
    )


# ------------------------------------------------------------------------- the REST face's own
class InvalidJsonValue(KmsError):
    """A request field the JSON parser refuses (bad base64, not an int64, unknown enum...)."""

    template = "Invalid value at '{field}' ({kind}), {detail}"
    confirmed = (
        "Google's JSON-parsing error shape, e.g. `Invalid value at 'plaintext' (TYPE_BYTES), Base64 "
        'decoding failed for "..."`, seen in public issue threads for several Google REST APIs'
    )


class InvalidJsonPayload(KmsError):
    template = "Invalid JSON payload received. {detail}"
    searched = (
        'Google front ends begin a body they cannot parse with "Invalid JSON payload received."; '
        "the detail after it is the parser's, not Google's"
    )


class InvalidPageToken(KmsError):
    template = "Invalid page token or page size."
    searched = "no real response found for a bad pageToken/pageSize in Cloud KMS list calls; our wording"


class UpdateMaskMissing(KmsError):
    template = "The request must specify update_mask."
    searched = "no real response found for a PATCH without updateMask; our wording"


class UpdateMaskInvalid(KmsError):
    template = "Invalid update_mask paths: {paths}."
    searched = "no real response found for an update mask naming other fields; our wording"


class UnsupportedVersionTemplate(KmsError):
    """A limit of the emulator, not a Cloud KMS error: an algorithm or protection level it lacks."""

    template = "The CloudAct KMS emulator does not support {field} {value}."
    searched = (
        "nothing to search: Cloud KMS supports other algorithms; a limit of the emulator in our wording"
    )


class MethodNotFound(KmsError, KeyNotFoundError):
    """A path or verb the emulator does not serve (Google's front end answers both with 404)."""

    template = "The CloudAct KMS emulator has no {method}method at /v1/{path}."
    searched = "Google's front end answers an unknown path with 404 NOT_FOUND; the wording is the emulator's"


# ------------------------------------------------------ deletion and retired names (lifecycle)
class VersionNotDeletable(KmsError, KeyStateError):
    """DeleteCryptoKeyVersion on a version that is not DESTROYED, IMPORT_FAILED or GENERATION_FAILED."""

    template = VersionStatePrecondition.template
    searched = (
        "the rule is documented (cryptoKeyVersions.delete reference: only DESTROYED, IMPORT_FAILED or "
        "GENERATION_FAILED); no real response to a refused delete found (searched issues for "
        "DeleteCryptoKeyVersion preconditions); the wording follows the confirmed state precondition"
    )


class ImportedVersionNotDeletable(KmsError, KeyStateError):
    template = (
        "CryptoKeyVersion {name} was imported: successfully imported CryptoKeyVersions cannot be deleted."
    )
    searched = (
        'the rule is documented ("Successfully imported CryptoKeyVersions cannot be deleted at this '
        'time", cryptoKeyVersions.delete reference); no real response text found; our wording'
    )


class CryptoKeyHasVersions(KmsError, KeyStateError):
    template = (
        "CryptoKey {name} cannot be deleted: all its CryptoKeyVersions must be deleted first "
        "({count} remain)."
    )
    searched = (
        'the rule is documented ("All child CryptoKeyVersions must have been previously deleted", '
        "cryptoKeys.delete reference); no real response text found; our wording"
    )


class CryptoKeyNameRetired(KmsError, KeyAlreadyExistsError):
    """CreateCryptoKey with the name of a deleted CryptoKey (a RetiredResource)."""

    template = "CryptoKey {name} was deleted and its name cannot be reused (RetiredResource {retired})."
    searched = (
        'the rule is documented ("the names of deleted CryptoKeys can\'t be reused", delete-kms-'
        "resources); neither the real code nor text was found; ALREADY_EXISTS and the wording are ours"
    )


class RetiredResourceNotFound(KmsError, KeyNotFoundError):
    template = "RetiredResource {name} not found."
    searched = "no real response found; the wording follows the confirmed KeyRing/CryptoKey pattern"


class OperationNotFound(KmsError, KeyNotFoundError):
    template = "Operation {name} not found."
    searched = "no real Cloud KMS operations.get 404 found; the wording follows the KeyRing/CryptoKey pattern"


class LocationNotFound(KmsError, KeyNotFoundError):
    template = "Location {name} not found."
    searched = (
        "no real Cloud KMS locations.get 404 found; the wording follows the KeyRing/CryptoKey "
        "pattern; the emulator's location list is in fakes/kms/location_resources.py"
    )


# ------------------------------------------------------------------------------- IAM policies
class PolicyEtagMismatch(KmsError):
    """setIamPolicy with an etag that is no longer the policy's: another writer won."""

    status = 409
    code = "ABORTED"
    template = (
        "There were concurrent policy changes. Please retry the whole read-modify-write with "
        "exponential backoff."
    )
    searched = (
        'issues for the IAM setIamPolicy etag conflict ("concurrent policy changes"): the text Google\'s '
        "IAM APIs are commonly quoted with; not observed from Cloud KMS itself"
    )


class InvalidIamPolicy(KmsError):
    template = "{detail}"
    searched = (
        "IAM policy rules (conditions need policy version 3; versions are 0, 1 or 3) are documented "
        "for IAM; no Cloud KMS response text found; our wording"
    )


# ---------------------------------------------------------------------- raw encryption
class InvalidRawRequest(KmsError):
    """rawEncrypt / rawDecrypt arguments the algorithm does not take (IV for GCM, AAD for CBC...)."""

    template = "{detail}"
    searched = (
        "the rules are documented (gcloud kms raw-encrypt: IV only for AES-CBC/CTR and 16 bytes, AAD "
        "only for AES-GCM, CBC plaintext a multiple of the block size); no real response text; ours"
    )


class RawDecryptionFailed(KmsError, DecryptionError):
    template = (
        "Decryption failed: the ciphertext, initialization vector or additional authenticated data "
        "is invalid."
    )
    searched = (
        'no real rawDecrypt failure text found (searched "rawDecrypt" "Decryption failed"); our wording'
    )


# --------------------------------------------------------------------- the emulator's limits
class UnsupportedMethod(KmsError):
    """A real Cloud KMS method the emulator does not implement (EKM, Autokey, KAJ, ML-KEM...): a
    400, as every other limit of the emulators is, never a 5xx a client would take for an outage."""

    template = "The CloudAct KMS emulator does not implement {method}."
    searched = "nothing to search: these methods exist in Cloud KMS; a limit of the emulator in our wording"


class InvalidListFilter(KmsError):
    template = "Invalid {parameter}: {text!r} is not in the list filtering syntax the emulator reads."
    searched = (
        "a Cloud KMS list call with a filter or orderBy it cannot parse: no real response found. "
        "Google's list filters answer INVALID_ARGUMENT with a parser position (Secret Manager: "
        "'syntax error at line 1, column 11, token '('', googleapis/google-cloud-dotnet#10639); "
        "our wording names the parameter instead"
    )
