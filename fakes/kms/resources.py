"""Cloud KMS's REST v1 resources and responses as the keyring model returns them.

camelCase keys as in REST, Python values (bytes, int, datetime, timedelta): encoding them as JSON
is the REST face's job (``fakes.kms.protojson``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NotRequired, TypedDict


class KeyRingResource(TypedDict):
    name: str
    createTime: datetime


class CryptoKeyVersionResource(TypedDict):
    name: str
    state: str
    protectionLevel: str
    algorithm: str
    createTime: datetime
    generateTime: datetime
    destroyTime: NotRequired[datetime]
    destroyEventTime: NotRequired[datetime]


class CryptoKeyResource(TypedDict):
    name: str
    purpose: str
    createTime: datetime
    labels: dict[str, str]
    versionTemplate: dict[str, str]
    destroyScheduledDuration: timedelta
    primary: NotRequired[CryptoKeyVersionResource]


class EncryptResponse(TypedDict):
    name: str
    ciphertext: bytes
    ciphertextCrc32c: int
    verifiedPlaintextCrc32c: bool
    verifiedAdditionalAuthenticatedDataCrc32c: bool
    protectionLevel: str


class DecryptResponse(TypedDict):
    plaintext: bytes
    plaintextCrc32c: int
    usedPrimary: bool
    protectionLevel: str
