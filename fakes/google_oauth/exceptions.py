"""Google's own answers to bad credentials, one class per real error (moto's discipline).

Two families: the token endpoint's OAuth errors (HTTP 400, ``{"error", "error_description"}``, what
google-auth turns into ``RefreshError("invalid_grant: Invalid JWT Signature.", {...})``), and the
401 ``UNAUTHENTICATED`` every Google API answers a request whose bearer credential is missing,
unknown or expired. Each class says where its text was seen (``confirmed``) or what was searched
(``searched``); an unconfirmed text is our wording and must not be matched on as Google's
(:func:`fakes.errors.text_is_confirmed`). These are wire errors of a fake server: nothing in the
domain catches them, so they subclass ``Exception``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fakes.errors import RealError

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
REALM = 'Bearer realm="https://accounts.google.com/"'
_SEE = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


# --------------------------------------------------------------------------- token endpoint (400)
class TokenEndpointError(RealError, Exception):
    """An error of ``POST /token``: the OAuth ``error`` code and Google's ``error_description``."""

    status: ClassVar[int] = 400
    error: ClassVar[str] = "invalid_grant"
    template: ClassVar[str] = ""

    def __init__(self, **values: object) -> None:
        self.description = self.template.format(**values)
        super().__init__(f"{self.error}: {self.description}")

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidJwtSignature(TokenEndpointError):
    """The assertion is not signed by a key the service account holds (a wrong, deleted or
    tampered key)."""

    template = "Invalid JWT Signature."
    confirmed = (
        'googleapis/google-cloud-python#8736 (RefreshError from BigQuery: \'{"error": "invalid_grant", '
        '"error_description": "Invalid JWT Signature."}\'); googleapis/java-bigquery#1972'
    )


class AccountNotFound(TokenEndpointError):
    template = "Invalid grant: account not found"
    confirmed = (
        'google/oculi#5 (RefreshError body \'{"error":"invalid_grant","error_description":"Invalid '
        "grant: account not found\"}'); googleapis/google-cloud-php#3622 (a disabled or deleted account)"
    )


class NotAValidEmail(TokenEndpointError):
    """The assertion's ``iss`` is missing or not an email address."""

    template = "Not a valid email or user ID."
    confirmed = (
        "googleapis/google-api-python-client#605 (curl of the jwt-bearer grant to oauth2.googleapis.com)"
    )


class InvalidJwtTimeframe(TokenEndpointError):
    """``iat``/``exp`` missing, more than an hour apart, or not around now."""

    template = (
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
        "Check your iat and exp values in the JWT claim."
    )
    confirmed = (
        "a-marenkov/gsheets#96 (2023, this wording); older answers end 'Check your iat and exp values and "
        "use a clock with skew to account for clock differences between systems.' (fastlane/fastlane#14972)"
    )


class FailedAudienceCheck(TokenEndpointError):
    template = "Invalid JWT: Failed audience check. The right audience is {audience}"
    confirmed = (
        "requests/requests-oauthlib#247 ('(invalid_grant) Invalid JWT: Failed audience check. The right "
        "audience is https://accounts.google.com/o/oauth2/token'); googleapis/google-auth-library-python#804"
    )


class InvalidScope(TokenEndpointError):
    """The assertion asks for no scope (and no ID-token audience)."""

    error = "invalid_scope"
    template = "Invalid OAuth scope or ID token audience provided."
    confirmed = 'binxio/gcp-get-secret#3 (\'Response: {"error":"invalid_scope","error_description":...}\')'


class UnsupportedGrantType(TokenEndpointError):
    error = "unsupported_grant_type"
    template = "Invalid grant_type: {grant_type}"
    confirmed = (
        "android/play-billing-samples#471 ('Invalid grant_type: password'); "
        "googleworkspace/apps-script-oauth2#311 ('Invalid grant_type: ' for an empty one)"
    )


class MalformedAssertion(TokenEndpointError):
    """The ``assertion`` is missing or is not a compact RS256 JWT at all."""

    template = "Invalid JWT: the assertion is not a signed JWT."
    searched = (
        "no real answer found for a jwt-bearer grant whose assertion is absent or not a JWT (searched "
        "issues for invalid_grant / invalid_request with a malformed assertion); invalid_grant follows "
        "Google's code for every other bad assertion, the description is ours"
    )


# --------------------------------------------------------------------- any Google API (401)
class Unauthenticated(RealError, Exception):
    """A 401 ``UNAUTHENTICATED`` of a Google API. BigQuery's v2 body carries the legacy ``errors``
    list beside ``status`` and ``details``; Cloud KMS's v1 body has no ``errors`` list."""

    status: ClassVar[int] = 401
    message: ClassVar[str] = ""
    #: The legacy ``errors[0]`` entry's message and reason (BigQuery's v2 shape).
    item_message: ClassVar[str] = ""
    item_reason: ClassVar[str] = ""
    #: The ``google.rpc.ErrorInfo`` reason in ``details``, or None where Google sends no details.
    info_reason: ClassVar[str | None] = None
    www_authenticate: ClassVar[str] = f'{REALM}, error="invalid_token"'

    def __init__(self) -> None:
        super().__init__(self.message)

    def body(self, *, service: str, method: str | None, legacy_errors: bool) -> dict[str, Any]:
        """Google's JSON error for ``service`` (``bigquery.googleapis.com``) and the RPC ``method``
        the request maps to (``google.cloud.bigquery.v2.JobService.InsertJob``; None: unknown)."""
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if legacy_errors:
            error["errors"] = [
                {
                    "message": self.item_message,
                    "domain": "global",
                    "reason": self.item_reason,
                    "location": "Authorization",
                    "locationType": "header",
                }
            ]
        error["status"] = "UNAUTHENTICATED"
        if self.info_reason is not None:
            metadata = {"service": service} if method is None else {"method": method, "service": service}
            error["details"] = [
                {
                    "@type": ERROR_INFO,
                    "reason": self.info_reason,
                    "domain": "googleapis.com",
                    "metadata": metadata,
                }
            ]
        return {"error": error}


class CredentialsMissing(Unauthenticated):
    """No ``Authorization: Bearer`` credential at all."""

    message = f"Request is missing required authentication credential. {_SEE}"
    item_message = "Login Required."
    item_reason = "required"
    info_reason = "CREDENTIALS_MISSING"
    www_authenticate = REALM
    confirmed = (
        "BigQuery's v2 body verbatim (without details) in googleapis/nodejs-bigquery#808; the same body "
        "with ErrorInfo CREDENTIALS_MISSING in googleapis/google-api-php-client#2479 and reactmore/"
        "morelab#17, and the v1 shape (no errors list) in GoogleCloudPlatform/active-assist#18; the "
        "challenge without error= in a public emulator's parity notes recorded against analyticsdata"
    )


class InvalidCredentials(Unauthenticated):
    """A bearer token Google never issued (or garbage)."""

    message = f"Request had invalid authentication credentials. {_SEE}"
    item_message = "Invalid Credentials"
    item_reason = "authError"
    confirmed = (
        "the message from BigQuery in googleapis/nodejs-bigquery#473; the v2 body verbatim, with no "
        "details, in enupal/backup#44 and dacastro4/laravel-gmail#273; the header "
        '\'Bearer realm="https://accounts.google.com/", error="invalid_token"\' in codenameone/'
        "CodenameOne#3135 and makingglitches/GooglePhotoDownload#1"
    )


class AccessTokenExpired(InvalidCredentials):
    """A token Google issued whose lifetime is over."""

    info_reason = "ACCESS_TOKEN_EXPIRED"
    confirmed = (
        "BigQuery's v2 body with ErrorInfo ACCESS_TOKEN_EXPIRED (method google.cloud.bigquery.v2."
        "JobService.InsertJob) quoted in a public Scala discovery-client test; Cloud KMS's v1 body (method "
        "google.cloud.kms.v1.KeyManagementService.Decrypt) recorded in a public shell script calling "
        ':decrypt with an expired token; both found with find_string \'"reason": "ACCESS_TOKEN_EXPIRED"\''
    )


__all__ = [
    "ERROR_INFO",
    "AccessTokenExpired",
    "AccountNotFound",
    "CredentialsMissing",
    "FailedAudienceCheck",
    "InvalidCredentials",
    "InvalidJwtSignature",
    "InvalidJwtTimeframe",
    "InvalidScope",
    "MalformedAssertion",
    "NotAValidEmail",
    "TokenEndpointError",
    "Unauthenticated",
    "UnsupportedGrantType",
]
