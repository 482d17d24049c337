"""A provider fake's lasting state as a state file: what survives a restart, and nothing secret.

Saved: the key digests (issued, revoked, admin), how many keys and admin keys were minted (so a
restored fake mints the next ones, not the same ones again), per-key rate limits (by digest) and
the usage corruptions. Never saved: a key's plaintext (the fake does not hold it), queued faults
and the request log (they belong to one run's requests). Writes are atomic (:mod:`fakes.statefile`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakes.providers.ratelimits import RateLimit
from fakes.providers.usage import Corruption
from fakes.statefile import StateFileError, field, read_state, write_state

if TYPE_CHECKING:
    from fakes.providers.base import ProviderState


def save_provider(state: ProviderState, path: Path) -> None:
    """Write ``state``'s lasting part to ``path``; called under the state's lock after each change."""
    with state._lock:
        data = {
            "valid_keys": sorted(state.valid_keys),
            "revoked_keys": sorted(state.revoked_keys),
            "admin_keys": sorted(state.admin_keys),
            "keys_minted": state.keys_minted,
            "admin_keys_minted": state.admin_keys_minted,
            "rate_limited": {digest: limit.retry_after for digest, limit in state.rate_limited.items()},
            "corruptions": [
                {"day": c.day.isoformat(), "kind": c.kind, "model": c.model} for c in state.corruptions
            ],
        }
    write_state(path, data)


def load_provider(state: ProviderState, path: Path) -> None:
    """Fill a freshly built ``state`` from ``path`` if it exists; a damaged file is a
    :class:`~fakes.statefile.StateFileError` naming it."""
    data = read_state(path)
    if data is None:
        return
    try:
        _fill(state, path, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(path, f"holds invalid provider state ({exc!r})") from None


def _fill(state: ProviderState, path: Path, data: dict[str, Any]) -> None:
    with state._lock:
        state.valid_keys = set(field(path, data, "valid_keys", list))
        state.revoked_keys = set(field(path, data, "revoked_keys", list))
        state.admin_keys = set(field(path, data, "admin_keys", list))
        state._restore_mint_counts(
            field(path, data, "keys_minted", int), field(path, data, "admin_keys_minted", int)
        )
        state.rate_limited = {
            digest: RateLimit(retry_after)
            for digest, retry_after in field(path, data, "rate_limited", dict).items()
        }
        state._corruptions = [
            Corruption(date.fromisoformat(c["day"]), c["kind"], c["model"])
            for c in field(path, data, "corruptions", list)
        ]


__all__ = ["load_provider", "save_provider"]
