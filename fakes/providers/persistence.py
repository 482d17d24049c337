"""A provider fake's lasting state as a state file: what survives a restart, and nothing secret.

Saved: the key digests (issued, revoked, admin) with masked labels for listing, how many keys and
admin keys were minted (so a restored fake mints the next ones, not the same ones again), per-key
rate limits (by digest), the organization id, the usage settings, corruptions and quiet days. Never saved: a
key's plaintext (the fake does not hold it), queued faults and the request log (they belong to one
run's requests). Writes are atomic (:mod:`fakes.statefile`). A mixin of
:class:`~fakes.providers.base.ProviderState`, like the other parts of its state.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from fakes.providers.ratelimits import RateLimit
from fakes.providers.usage import Corruption
from fakes.statefile import StateFileError, field, read_state, write_state


class PersistedState(ABC):
    """Saves and loads the lasting part of the state the other mixins keep."""

    _lock: threading.RLock
    valid_keys: set[str]
    revoked_keys: set[str]
    admin_keys: set[str]
    key_labels: dict[str, str]
    keys_minted: int
    admin_keys_minted: int
    rate_limited: dict[str, RateLimit]
    _corruptions: list[Corruption]
    _quiet_days: set[date]
    usage_model_count: int
    activity_rate: float
    organization_attribute: ClassVar[str]
    """The provider's attribute holding its organization id (sent in response headers)."""

    @abstractmethod
    def _restore_mint_counts(self, keys: int, admin_keys: int) -> None:
        """The key store's: its mint generators as after that many mints."""

    def _save_state(self, path: Path) -> None:
        """Write the lasting part to ``path``; called under the lock after each change."""
        with self._lock:
            data = {
                "valid_keys": sorted(self.valid_keys),
                "revoked_keys": sorted(self.revoked_keys),
                "admin_keys": sorted(self.admin_keys),
                "key_labels": dict(sorted(self.key_labels.items())),
                "keys_minted": self.keys_minted,
                "admin_keys_minted": self.admin_keys_minted,
                "rate_limited": {digest: limit.retry_after for digest, limit in self.rate_limited.items()},
                "organization": getattr(self, self.organization_attribute),
                "usage_model_count": self.usage_model_count,
                "activity_rate": self.activity_rate,
                "corruptions": [
                    {"day": c.day.isoformat(), "kind": c.kind, "model": c.model} for c in self._corruptions
                ],
                "quiet_days": sorted(day.isoformat() for day in self._quiet_days),
            }
            write_state(path, data)

    def _load_state(self, path: Path) -> None:
        """Fill a freshly built state from ``path`` if it exists; a damaged file is a
        :class:`~fakes.statefile.StateFileError` naming it."""
        data = read_state(path)
        if data is None:
            return
        try:
            self._fill(path, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(path, f"holds invalid provider state ({exc!r})") from None

    def _fill(self, path: Path, data: dict[str, Any]) -> None:
        with self._lock:
            self.valid_keys = set(field(path, data, "valid_keys", list))
            self.revoked_keys = set(field(path, data, "revoked_keys", list))
            self.admin_keys = set(field(path, data, "admin_keys", list))
            self.key_labels = dict(field(path, data, "key_labels", dict))
            self._restore_mint_counts(
                field(path, data, "keys_minted", int), field(path, data, "admin_keys_minted", int)
            )
            self.rate_limited = {
                digest: RateLimit(retry_after)
                for digest, retry_after in field(path, data, "rate_limited", dict).items()
            }
            setattr(self, self.organization_attribute, field(path, data, "organization", str))
            self.usage_model_count = field(path, data, "usage_model_count", int)
            self.activity_rate = float(data["activity_rate"])
            self._corruptions = [
                Corruption(date.fromisoformat(c["day"]), c["kind"], c["model"])
                for c in field(path, data, "corruptions", list)
            ]
            # absent in files written before quiet days existed
            self._quiet_days = {date.fromisoformat(day) for day in data.get("quiet_days", [])}


__all__ = ["PersistedState"]
