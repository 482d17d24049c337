"""The token authority: which service-account keys exist, which access tokens were issued, and
whether a request's bearer credential is good, each judged the way Google judges it.

Two clocks, on purpose. Tokens the endpoint issues live on the **emulators' clock** (the injected
one): advancing it past :data:`TOKEN_LIFETIME` expires them, the API answers 401, and google-auth
fetches a new one, as it does against Google. The timestamps a client writes into the JWTs it
signs (``iat``/``exp`` of an assertion, or of a self-signed JWT that google-cloud-kms sends as its
bearer) come from the **client's clock**: google-auth stamps them with the process's real time,
which no test can move, so they are judged on ``client_clock`` (the system clock unless injected).
Advancing the emulators' clock therefore expires issued tokens (BigQuery's path) but not a
self-signed JWT (Cloud KMS's path), whose lifetime the client both writes and keeps.

Tokens are held as SHA-256 digests, never as plaintext (like the provider fakes' keys).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fakes.google_oauth import exceptions as errors
from fakes.google_oauth.keys import GOOGLE_TOKEN_URI, ServiceAccountKey
from harness.clock import SystemClock
from harness.ports import Clock

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = timedelta(seconds=3599)
"""What Google's token endpoint answers as ``expires_in`` for a fresh token (seen as 3599 in real
answers, e.g. googleworkspace/apps-script-oauth2#311), on the emulators' clock."""
MAX_JWT_LIFETIME = 3600
"""Seconds between ``iat`` and ``exp``: "Token must be a short-lived token (60 minutes)"."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far a client's clock may be off before its JWT is out of "a reasonable timeframe". Google
does not publish its tolerance: this value is ours (not confirmed)."""


@dataclass(frozen=True)
class RegisteredKey:
    """The public half of one service-account key, as Google holds it."""

    client_email: str
    key_id: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class AccessToken:
    """An issued token (kept by digest) or a verified self-signed JWT."""

    client_email: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True)
class Grant:
    """One token the endpoint issued: who asked, when, on the emulators' clock."""

    client_email: str
    scopes: tuple[str, ...]
    issued_at: datetime


@dataclass(frozen=True)
class _Jwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signed: bytes
    signature: bytes


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _parse_jwt(text: str) -> _Jwt | None:
    """A compact JWS, or None when ``text`` is not one."""
    parts = text.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = json.loads(_b64decode(parts[0])), json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return _Jwt(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenAuthority:
    """Google's OAuth side for the emulators: registered keys, issued tokens, the bearer check.

    ``clock`` returns the emulators' clock (looked up per call: emulators swap clocks on reset);
    ``token_uri`` is where the endpoint is served (an assertion may name it or Google's own URI as
    its audience)."""

    def __init__(
        self,
        clock: Callable[[], Clock],
        *,
        client_clock: Clock | None = None,
        token_uri: str | None = None,
    ) -> None:
        self._clock = clock
        self.client_clock = client_clock or SystemClock()
        self.token_uri = token_uri
        self._keys: dict[str, list[RegisteredKey]] = {}
        self._tokens: dict[str, AccessToken] = {}
        self.grants: list[Grant] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._clock().now()

    # ------------------------------------------------------------------------------- keys

    def register(self, key: ServiceAccountKey) -> None:
        """Trust ``key``'s public half for its service account (never its private half)."""
        self.register_public(key.client_email, key.key_id, key.public_pem)

    def register_public(self, client_email: str, key_id: str, public_pem: str) -> None:
        public = serialization.load_pem_public_key(public_pem.encode())
        if not isinstance(public, rsa.RSAPublicKey):
            raise ValueError("a service-account key is an RSA key")
        with self._lock:
            self._keys.setdefault(client_email, []).append(RegisteredKey(client_email, key_id, public))

    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(self._keys)

    # ------------------------------------------------------------------------ token endpoint

    def grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Answer ``POST /token`` with the JWT-bearer grant; raises a
        :class:`~fakes.google_oauth.exceptions.TokenEndpointError` as Google would."""
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_BEARER:
            raise errors.UnsupportedGrantType(grant_type=grant_type)
        jwt = _parse_jwt(form.get("assertion", ""))
        if jwt is None or jwt.header.get("alg") != "RS256":
            raise errors.MalformedAssertion()
        issuer = jwt.claims.get("iss")
        if not isinstance(issuer, str) or "@" not in issuer:
            raise errors.NotAValidEmail()
        if self._signer(issuer, jwt) is None:
            raise errors.InvalidJwtSignature()
        if jwt.claims.get("aud") not in {GOOGLE_TOKEN_URI, self.token_uri}:
            raise errors.FailedAudienceCheck(audience=GOOGLE_TOKEN_URI)
        if not self._in_timeframe(jwt.claims):
            raise errors.InvalidJwtTimeframe()
        scope = jwt.claims.get("scope")
        scopes = tuple(scope.split()) if isinstance(scope, str) else ()
        if not scopes:
            raise errors.InvalidScope()
        token = "ya29." + secrets.token_urlsafe(96)
        now = self.now()
        with self._lock:
            self._tokens[_digest(token)] = AccessToken(issuer, scopes, now + TOKEN_LIFETIME)
            self.grants.append(Grant(issuer, scopes, now))
        return {
            "access_token": token,
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "token_type": "Bearer",
        }

    def _signer(self, issuer: str, jwt: _Jwt) -> RegisteredKey | None:
        """The registered key of ``issuer`` that signed ``jwt``; raises AccountNotFound for an
        account with no key at all."""
        with self._lock:
            keys = list(self._keys.get(issuer, ()))
        if not keys:
            raise errors.AccountNotFound()
        for key in keys:
            try:
                key.public_key.verify(jwt.signature, jwt.signed, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                continue
            return key
        return None

    def _in_timeframe(self, claims: Mapping[str, Any]) -> bool:
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, int) or not isinstance(expires, int):
            return False
        now = self.client_clock.now().timestamp()
        skew = CLOCK_SKEW.total_seconds()
        return 0 < expires - issued <= MAX_JWT_LIFETIME and issued - skew <= now <= expires + skew

    # ----------------------------------------------------------------------- bearer check

    def authenticate(self, authorization: str | None) -> AccessToken:
        """The credential behind an ``Authorization`` header; raises
        :class:`~fakes.google_oauth.exceptions.Unauthenticated` as Google's front end would."""
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise errors.CredentialsMissing()
        with self._lock:
            token = self._tokens.get(_digest(credential))
        if token is None:
            return self._self_signed(credential)
        if self.now() >= token.expires_at:
            raise errors.AccessTokenExpired()
        return token

    def _self_signed(self, credential: str) -> AccessToken:
        """A JWT the service account signed itself (what google-cloud-kms sends, AIP-4111):
        good when a registered key signed it, for a scope or an audience, within its own
        lifetime on the client's clock."""
        jwt = _parse_jwt(credential)
        issuer = jwt.claims.get("iss") if jwt is not None else None
        if jwt is None or not isinstance(issuer, str) or jwt.claims.get("sub", issuer) != issuer:
            raise errors.InvalidCredentials()
        try:
            if self._signer(issuer, jwt) is None:
                raise errors.InvalidCredentials()
        except errors.AccountNotFound:
            raise errors.InvalidCredentials() from None
        scope = jwt.claims.get("scope")
        if not (isinstance(scope, str) and scope.strip()) and not jwt.claims.get("aud"):
            raise errors.InvalidCredentials()
        issued, expires = jwt.claims.get("iat"), jwt.claims.get("exp")
        if not isinstance(issued, int) or not isinstance(expires, int):
            raise errors.InvalidCredentials()
        if self.client_clock.now().timestamp() > expires + CLOCK_SKEW.total_seconds():
            raise errors.AccessTokenExpired()
        if not self._in_timeframe(jwt.claims):
            raise errors.InvalidCredentials()
        scopes = tuple(scope.split()) if isinstance(scope, str) else ()
        # Its expiry is the client's own, on the client's clock.
        return AccessToken(issuer, scopes, datetime.fromtimestamp(expires, UTC))


__all__ = [
    "CLOCK_SKEW",
    "JWT_BEARER",
    "MAX_JWT_LIFETIME",
    "TOKEN_LIFETIME",
    "AccessToken",
    "Grant",
    "RegisteredKey",
    "TokenAuthority",
]
