"""``KeyManager`` on the real ``google-cloud-kms`` client (REST transport), for the ``emulator`` and
``gcp`` tiers.

Same behaviour as the fake's in-process key manager (``fakes/kms/keymanager.py``), so the domain
code cannot tell the tiers apart:

* CRC32C both ways, as Google's data-integrity guidelines ask (cloud.google.com/kms/docs/
  data-integrity-guidelines): the request carries ``plaintext_crc32c`` / ``ciphertext_crc32c`` and
  ``additional_authenticated_data_crc32c``; the response's ``verified_*`` flags and ``*_crc32c``
  values are checked. A failed check means bytes changed on the way; the guidelines say to discard
  the response and retry a limited number of times, hence the retryable
  ``KeyManagerUnavailableError`` (also for a server-side "The checksum in field ... did not match"
  INVALID_ARGUMENT, which only corruption in transit can cause since we compute the checksums).
* Google exceptions become the ``harness.ports`` taxonomy, with the canonical code and the service's
  own message. Over REST the client's exception class only reflects the HTTP status (400 covers
  INVALID_ARGUMENT and FAILED_PRECONDITION), so the canonical code is read from the JSON error body
  when there is one, else from the exception class (gRPC).

* The client's own retry of each method (its default: UNAVAILABLE and DEADLINE_EXCEEDED, 60 s)
  waits on the injected clock (:mod:`harness.backends.clock_retry`); running out of time is the
  port error of the last attempt.

Domain code never imports this module; tier selection (``harness.backends``) does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import google_crc32c
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.cloud import kms_v1
from requests.adapters import HTTPAdapter

from harness.backends.clock_retry import clock_retry
from harness.clock import SystemClock
from harness.ports import (
    Clock,
    DecryptionError,
    EncryptResult,
    KeyAlreadyExistsError,
    KeyManagerError,
    KeyManagerUnavailableError,
    KeyNotFoundError,
    KeyPermissionError,
    KeyStateError,
)
from harness.recording.requests_adapter import mount

_RETRYABLE_CODES = {
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
    "INTERNAL",
    "ABORTED",
    "RESOURCE_EXHAUSTED",
    "UNKNOWN",
}
_CHECKSUM_MISMATCH = "The checksum in field "


def crc32c(data: bytes) -> int:
    return google_crc32c.value(data)


def _error_payload(exc: gexc.GoogleAPICallError) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    if response is None or not hasattr(response, "json"):
        return {}
    try:
        payload = response.json()
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}


def map_google_error(exc: gexc.GoogleAPICallError, *, decrypting: bool = False) -> KeyManagerError:
    """The port's error for a google-api-core exception (REST or gRPC)."""
    payload = _error_payload(exc)
    code = payload.get("status")
    if not isinstance(code, str) or not code:
        grpc_code = exc.grpc_status_code
        code = grpc_code.name if grpc_code is not None else "UNKNOWN"
    message = payload.get("message") if isinstance(payload.get("message"), str) else exc.message
    status = exc.code if isinstance(exc.code, int) else None
    if code == "NOT_FOUND":
        return KeyNotFoundError(message, status=status)
    if code == "ALREADY_EXISTS":
        return KeyAlreadyExistsError(message, status=status)
    if code == "FAILED_PRECONDITION":
        return KeyStateError(message, status=status)
    if code in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
        return KeyPermissionError(message, status=status, code=code)
    if code == "INVALID_ARGUMENT" and message.startswith(_CHECKSUM_MISMATCH):
        return KeyManagerUnavailableError(message, status=status, code=code)
    if code == "INVALID_ARGUMENT" and decrypting and message.startswith("Decryption failed"):
        return DecryptionError(message, status=status)
    if code in _RETRYABLE_CODES:
        return KeyManagerUnavailableError(message, status=status, code=code)
    return KeyManagerError(message, status=status, code=code)


def default_retry(client: kms_v1.KeyManagementServiceClient, method: str) -> Any:
    """The retry the client applies to ``method`` when the caller gives none: the one its
    transport wrapped the method with (the library keeps it nowhere public)."""
    transport = client._transport
    return transport._wrapped_methods[getattr(transport, method)]._retry


class CloudKmsKeyManager:
    """The ``KeyManager`` port bound to one Cloud KMS crypto key, through the real client."""

    def __init__(
        self,
        key_name: str,
        credentials: Credentials | None = None,
        endpoint: str | None = None,
        *,
        client: kms_v1.KeyManagementServiceClient | None = None,
        timeout: float | None = 30.0,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        adapter: HTTPAdapter | None = None,
        trust_env: bool = True,
    ) -> None:
        """``endpoint`` is e.g. ``http://127.0.0.1:9011`` for the emulator; ``None`` is Cloud KMS.
        ``clock`` and ``sleep`` are how the client's retries wait (real time by default).
        ``adapter`` carries every request of the REST transport's session (recording, replay):
        the transport takes no session of ours, so it is mounted on the one it built.
        ``trust_env=False``: the session ignores the environment's proxies and ``.netrc``."""
        self.key_name = key_name
        self.timeout = timeout
        if client is None:
            client = kms_v1.KeyManagementServiceClient(
                transport="rest",
                credentials=credentials,
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )
        if adapter is not None:
            mount(client._transport._session, adapter)
        if not trust_env:
            client._transport._session.trust_env = False
        self.client = client
        on_clock = clock_retry(clock or SystemClock(), sleep)
        self._retries = {
            method: on_clock(default_retry(client, method))
            for method in ("encrypt", "decrypt", "get_crypto_key")
        }

    def _call(self, method: str, *, decrypting: bool = False, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs, timeout=self.timeout, retry=self._retries[method])
        except gexc.GoogleAPICallError as exc:
            raise map_google_error(exc, decrypting=decrypting) from exc
        except gexc.RetryError as exc:
            if isinstance(exc.cause, gexc.GoogleAPICallError):
                raise map_google_error(exc.cause, decrypting=decrypting) from exc
            raise KeyManagerUnavailableError(f"Cloud KMS did not answer: {exc.message}") from exc
        except auth_exceptions.GoogleAuthError as exc:
            raise KeyPermissionError(
                f"Cloud KMS credentials failed: {exc}", status=401, code="UNAUTHENTICATED"
            ) from exc
        except OSError as exc:  # requests' ConnectionError / Timeout are OSErrors
            raise KeyManagerUnavailableError(f"Cloud KMS is unreachable: {exc}") from exc

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> EncryptResult:
        response = self._call(
            "encrypt",
            request={
                "name": self.key_name,
                "plaintext": plaintext,
                "plaintext_crc32c": crc32c(plaintext),
                "additional_authenticated_data": aad,
                "additional_authenticated_data_crc32c": crc32c(aad),
            },
        )
        if (
            not response.verified_plaintext_crc32c
            or not response.verified_additional_authenticated_data_crc32c
            or not response.name.startswith(self.key_name + "/cryptoKeyVersions/")
        ):
            raise KeyManagerUnavailableError("Encrypt: request corrupted in-transit")
        if response.ciphertext_crc32c != crc32c(response.ciphertext):
            raise KeyManagerUnavailableError("Encrypt: response corrupted in-transit", code="DATA_LOSS")
        return EncryptResult(ciphertext=response.ciphertext, key_version=response.name)

    def decrypt(self, ciphertext: bytes, *, aad: bytes = b"") -> bytes:
        response = self._call(
            "decrypt",
            decrypting=True,
            request={
                "name": self.key_name,
                "ciphertext": ciphertext,
                "ciphertext_crc32c": crc32c(ciphertext),
                "additional_authenticated_data": aad,
                "additional_authenticated_data_crc32c": crc32c(aad),
            },
        )
        if response.plaintext_crc32c != crc32c(response.plaintext):
            raise KeyManagerUnavailableError("Decrypt: response corrupted in-transit", code="DATA_LOSS")
        return response.plaintext

    def primary_version(self) -> str:
        key = self._call("get_crypto_key", name=self.key_name)
        if not key.primary.name:
            # Same wording as the fake (fakes.kms.exceptions.NoPrimaryVersion; not confirmed text).
            raise KeyStateError(f"CryptoKey {self.key_name} has no primary CryptoKeyVersion.")
        return key.primary.name


__all__ = ["CloudKmsKeyManager", "default_retry", "map_google_error"]
