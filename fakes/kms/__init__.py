"""Cloud KMS fake: the keyring model (``models``, its ``resources`` and ciphertext ``envelope``),
Cloud KMS's errors (``exceptions``) and the in-process ``KeyManager`` (``keymanager``); the REST v1
emulator (``rest``, with the proto3 JSON codec in ``protojson``) sits on the same model."""

from fakes.kms.keymanager import FakeKeyManager
from fakes.kms.models import KmsBackend, VersionState

__all__ = ["FakeKeyManager", "KmsBackend", "VersionState"]
