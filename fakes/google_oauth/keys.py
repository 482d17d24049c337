"""Service-account key files like the ones Google's console hands out, for tests and users.

The JSON has the fields google-auth reads (``type``, ``project_id``, ``private_key_id``,
``private_key``, ``client_email``, ``client_id``, ``token_uri``...); ``token_uri`` points at the
local token endpoint, which is how google-auth is sent there. The private half stays in the file
(written owner-only) and in memory; only the public half is registered with the
:class:`~fakes.google_oauth.models.TokenAuthority`.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_ACCOUNT = "harness-e2e"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class ServiceAccountKey:
    """One key of one service account: its identity, both halves and the endpoint it trusts."""

    project_id: str
    client_email: str
    client_id: str
    key_id: str
    private_pem: str = field(repr=False)  # a traceback or a log line must never show it
    public_pem: str
    token_uri: str

    def info(self) -> dict[str, Any]:
        """The key file's JSON, as google-auth's ``load_credentials_from_file`` reads it."""
        account = self.client_email.replace("@", "%40")
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.key_id,
            "private_key": self.private_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{account}",
            "universe_domain": "googleapis.com",
        }

    def write(self, path: str | Path) -> Path:
        """Write the key file readable by its owner only (it holds a private key) and return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.info(), handle, indent=2)
        return path


def generate_key(
    project_id: str,
    *,
    token_uri: str,
    account: str = DEFAULT_ACCOUNT,
    key_id: str | None = None,
) -> ServiceAccountKey:
    """A fresh 2048-bit RSA key for ``account@project_id.iam.gserviceaccount.com``. ``key_id`` may
    repeat another key's id, e.g. to make a key the authority holds under that id but never saw."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return ServiceAccountKey(
        project_id=project_id,
        client_email=f"{account}@{project_id}.iam.gserviceaccount.com",
        client_id=str(secrets.randbelow(10**21 - 10**20) + 10**20),
        key_id=key_id or secrets.token_hex(20),
        private_pem=private_pem,
        public_pem=public_pem,
        token_uri=token_uri,
    )


__all__ = ["DEFAULT_ACCOUNT", "GOOGLE_TOKEN_URI", "ServiceAccountKey", "generate_key"]
