"""The fake's ciphertext format and where its randomness comes from.

Kept apart from the keyring model because it is the only part that touches key material: a
ciphertext is ``magic | key id (16) | version number (uint32) | nonce (12) | AES-256-GCM ciphertext
+ tag (16)``, the header authenticated with the caller's AAD so no byte of it can change unnoticed.
A ciphertext that cannot be opened raises Cloud KMS's
:class:`~fakes.kms.exceptions.CiphertextInvalid`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import google_crc32c
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fakes.kms.exceptions import CiphertextInvalid


def crc32c(data: bytes) -> int:
    """CRC32C as Cloud KMS puts it in ``*Crc32c`` fields (an unsigned 32-bit int)."""
    return google_crc32c.value(data)


_MAGIC = b"CAK\x01"
_HEADER = struct.Struct(">4s16sI")
KEY_ID_LENGTH = 16
NONCE_LENGTH = 12
_MIN_CIPHERTEXT = _HEADER.size + NONCE_LENGTH + 16


def seal(key_id: bytes, number: int, material: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    header = _HEADER.pack(_MAGIC, key_id, number)
    return header + nonce + AESGCM(material).encrypt(nonce, plaintext, header + aad)


@dataclass(frozen=True)
class Envelope:
    header: bytes
    key_id: bytes
    number: int
    nonce: bytes
    body: bytes

    @classmethod
    def parse(cls, ciphertext: bytes) -> Envelope:
        if len(ciphertext) < _MIN_CIPHERTEXT or not ciphertext.startswith(_MAGIC):
            raise CiphertextInvalid()
        header = ciphertext[: _HEADER.size]
        _, key_id, number = _HEADER.unpack(header)
        nonce = ciphertext[_HEADER.size : _HEADER.size + NONCE_LENGTH]
        return cls(header, key_id, number, nonce, ciphertext[_HEADER.size + NONCE_LENGTH :])

    def open(self, material: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(material).decrypt(self.nonce, self.body, self.header + aad)
        except InvalidTag:
            raise CiphertextInvalid() from None


class Entropy:
    """Key material, key ids and nonces: HKDF-SHA256 over the seed (replayable), else os.urandom.

    Everything derived is bound to a resource name, so the same seed and the same calls give the
    same ciphertexts, and two keys never share material.
    """

    def __init__(self, seed: bytes | None) -> None:
        self._seed = seed

    def derive(self, purpose: str, name: str, length: int) -> bytes:
        if self._seed is None:
            return os.urandom(length)
        hkdf = HKDF(hashes.SHA256(), length, salt=b"cloudact-fake-kms", info=f"{purpose}\0{name}".encode())
        return hkdf.derive(self._seed)
