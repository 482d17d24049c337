"""Which provider keys exist: issued, caller-chosen, admin, revoked; and how a key is masked.

A fake provider answers "is this key issued, revoked, an admin key?" the same way for OpenAI and
Anthropic; only the key format differs, so minting is the provider's hook
(:meth:`KeyStore._mint_key`, :meth:`KeyStore._mint_admin_key`).

Keys are held as SHA-256 digests (:func:`key_digest`), never as plaintext, and validation compares
digests: a fake that persists its state (``--data-dir``) then writes no usable key to disk.
"""

from __future__ import annotations

import hashlib
import random
import string
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable

SECRET_HEADERS = frozenset({"authorization", "x-api-key"})
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
ID_ALPHABET = string.ascii_letters + string.digits


def mask_key(key: str) -> str:
    """Mask a key the way OpenAI's "Incorrect API key provided" message does.

    Observed in many real 401 bodies: the first 8 characters, one ``*`` per hidden character, the
    last 4 (``sk-4sJHr*****...*****w8ZP`` for a 51-character key; ``test-ope***-key`` for
    ``test-openai-key``). Keys of 12 characters or fewer come back whole (``test-key``).
    """
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def mask_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers for the request log, with credentials masked so logs can be printed and stored."""
    masked: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, secret = value.partition(" ")
            masked[lower] = (
                f"{scheme} {mask_key(secret)}" if secret and lower == "authorization" else mask_key(value)
            )
        else:
            masked[lower] = value
    return masked


def key_digest(key: str) -> str:
    """What the fake keeps of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_label(key: str) -> str:
    """How a held key is listed (and stored beside its digest): masked as :func:`mask_key` does,
    and a short key, which that would show whole, all stars."""
    return mask_key(key) if len(key) > 12 else "*" * len(key)


def random_chars(rng: random.Random, n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


class KeyStore(ABC):
    """Issued, revoked and admin keys of one fake provider (as digests); minted keys are
    deterministic from the seed so a scenario replays with the same keys, and the mint counts are
    kept so a restored fake goes on with the next keys instead of minting the same ones again."""

    seed: int
    _lock: threading.RLock

    @abstractmethod
    def _changed(self) -> None:
        """Called after every change (a persistent fake saves itself)."""

    @abstractmethod
    def _mint_key(self, rng: random.Random) -> str:
        """A key in the provider's format."""

    @abstractmethod
    def _mint_admin_key(self, rng: random.Random) -> str:
        """An admin key in the provider's format."""

    def _clear_keys(self) -> None:
        self._restore_mint_counts(0, 0)
        self.valid_keys: set[str] = set()
        self.revoked_keys: set[str] = set()
        self.admin_keys: set[str] = set()
        """Digests (:func:`key_digest`), as are ``valid_keys`` and ``revoked_keys``."""
        self.key_labels: dict[str, str] = {}
        """Digest -> :func:`key_label`, for listing the keys without holding them."""

    def _restore_mint_counts(self, keys: int, admin_keys: int) -> None:
        """The mint generators as they are after ``keys`` and ``admin_keys`` mints from the seed."""
        self._key_rng = random.Random(f"{self.seed}:keys")
        self._admin_rng = random.Random(f"{self.seed}:admin-keys")
        for _ in range(keys):
            self._mint_key(self._key_rng)
        for _ in range(admin_keys):
            self._mint_admin_key(self._admin_rng)
        self.keys_minted = keys
        self.admin_keys_minted = admin_keys

    def issue_key(self) -> str:
        """Mint a realistic-looking key (deterministic from the seed) and make it valid."""
        with self._lock:
            key = self._mint_key(self._key_rng)
            self.keys_minted += 1
            self._hold(key)
            self._changed()
            return key

    def add_key(self, key: str) -> str:
        """Accept a key chosen by the caller (e.g. one quoted in a scenario file)."""
        with self._lock:
            self._hold(key)
            self.revoked_keys.discard(key_digest(key))
            self._changed()
            return key

    def issue_admin_key(self) -> str:
        """Mint a realistic admin key (deterministic from the seed): valid on the usage and cost
        endpoints, and on ``GET /v1/models`` while ``admin_keys_list_models`` is True."""
        with self._lock:
            key = self._mint_admin_key(self._admin_rng)
            self.admin_keys_minted += 1
            self.admin_keys.add(self._hold(key))
            self._changed()
            return key

    def add_admin_key(self, key: str) -> str:
        """Accept a caller-chosen key as an admin key."""
        with self._lock:
            digest = self._hold(key)
            self.revoked_keys.discard(digest)
            self.admin_keys.add(digest)
            self._changed()
            return key

    def _hold(self, key: str) -> str:
        """Make ``key`` valid; returns its digest."""
        digest = key_digest(key)
        self.valid_keys.add(digest)
        self.key_labels[digest] = key_label(key)
        return digest

    def restore_keys(self, valid: set[str], revoked: set[str], admin: set[str]) -> None:
        """Put back key digest sets read earlier from ``valid_keys``, ``revoked_keys`` and
        ``admin_keys`` (an undo), and save them as any change is saved."""
        with self._lock:
            self.valid_keys, self.revoked_keys, self.admin_keys = set(valid), set(revoked), set(admin)
            self._changed()

    def listed_keys(self) -> list[tuple[str, bool]]:
        """``(label, is admin)`` of every valid key, by label: what a listing may show."""
        with self._lock:
            return sorted((self.key_labels[d], d in self.admin_keys) for d in self.valid_keys)

    def is_admin(self, key: str) -> bool:
        with self._lock:
            return key_digest(key) in self.admin_keys

    def revoke(self, key: str) -> None:
        with self._lock:
            self.valid_keys.discard(key_digest(key))
            self.revoked_keys.add(key_digest(key))
            self._changed()

    def is_revoked(self, key: str) -> bool:
        with self._lock:
            return key_digest(key) in self.revoked_keys

    def is_valid(self, key: str) -> bool:
        with self._lock:
            return key_digest(key) in self.valid_keys
