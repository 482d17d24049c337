"""Which provider keys exist: issued, caller-chosen, admin, revoked; and how a key is masked.

A fake provider answers "is this key issued, revoked, an admin key?" the same way for OpenAI and
Anthropic; only the key format differs, so minting is the provider's hook
(:meth:`KeyStore._mint_key`, :meth:`KeyStore._mint_admin_key`).
"""

from __future__ import annotations

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


def random_chars(rng: random.Random, n: int, alphabet: str = KEY_ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


class KeyStore(ABC):
    """Issued, revoked and admin keys of one fake provider; minted keys are deterministic from the
    seed so a scenario replays with the same keys."""

    seed: int
    _lock: threading.RLock

    @abstractmethod
    def _mint_key(self, rng: random.Random) -> str:
        """A key in the provider's format."""

    @abstractmethod
    def _mint_admin_key(self, rng: random.Random) -> str:
        """An admin key in the provider's format."""

    def _clear_keys(self) -> None:
        self._key_rng = random.Random(f"{self.seed}:keys")
        self._admin_rng = random.Random(f"{self.seed}:admin-keys")
        self.valid_keys: set[str] = set()
        self.revoked_keys: set[str] = set()
        self.admin_keys: set[str] = set()

    def issue_key(self) -> str:
        """Mint a realistic-looking key (deterministic from the seed) and make it valid."""
        with self._lock:
            key = self._mint_key(self._key_rng)
            self.valid_keys.add(key)
            return key

    def add_key(self, key: str) -> str:
        """Accept a key chosen by the caller (e.g. one quoted in a scenario file)."""
        with self._lock:
            self.valid_keys.add(key)
            self.revoked_keys.discard(key)
            return key

    def issue_admin_key(self) -> str:
        """Mint a realistic admin key (deterministic from the seed): valid on the usage and cost
        endpoints, and on ``GET /v1/models`` while ``admin_keys_list_models`` is True."""
        with self._lock:
            key = self._mint_admin_key(self._admin_rng)
            self.valid_keys.add(key)
            self.admin_keys.add(key)
            return key

    def add_admin_key(self, key: str) -> str:
        """Accept a caller-chosen key as an admin key."""
        with self._lock:
            self.valid_keys.add(key)
            self.revoked_keys.discard(key)
            self.admin_keys.add(key)
            return key

    def is_admin(self, key: str) -> bool:
        with self._lock:
            return key in self.admin_keys

    def revoke(self, key: str) -> None:
        with self._lock:
            self.valid_keys.discard(key)
            self.revoked_keys.add(key)

    def is_valid(self, key: str) -> bool:
        with self._lock:
            return key in self.valid_keys
