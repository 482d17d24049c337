"""The leak verdict of a load run, and the test-only leak it must be able to find.

Two figures fail a run: the served process's RSS growth under full load, from the moment every
user is running to the end (the issue's budget: 30 MB for 1,000 users x 60 s; see
:mod:`harness.load.drive` for why not from idle), and the Python allocations still held after the
load *and a reset of all state* beyond those held before the load. The reset matters: a run
onboards orgs and stores runs, which is data, not a leak; what outlives the data that caused it
is. A failing verdict names the Python allocation sites (file:line) that grew the most; RSS also
holds native memory (DuckDB's tables and buffers, the allocator's arenas) that no Python site
accounts for, so an RSS failure whose named sites are small points below Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.serve import ServiceProcess

MB = 1024 * 1024
HOARD_CHUNK = 64 * 1024

_HOARD: list[bytearray] = []


def hoard() -> None:
    """Keep one more chunk for good: the injected leak (tests only)."""
    _HOARD.append(bytearray(HOARD_CHUNK))


class HoardMiddleware:
    """ASGI middleware that leaks one chunk per HTTP request (tests only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            hoard()
        await self.app(scope, receive, send)


def leaky_services() -> type[ServiceProcess]:
    """A :class:`ServiceProcess` whose pipeline-service leaks on every request (tests only)."""
    from harness.serve import ServiceProcess

    class LeakyServices(ServiceProcess):
        def _build(self) -> None:
            super()._build()
            self.apps["pipeline-service"].add_middleware(HoardMiddleware)

    return LeakyServices


@dataclass(frozen=True)
class Budget:
    """What a run may grow: RSS over the run, traced allocations kept after the reset, and the
    growth from which one site is named as a suspect."""

    rss_mb: float = 30.0
    retained_mb: float = 8.0
    site_kb: float = 256.0


def verdict(memory: dict[str, Any], budget: Budget) -> list[str]:
    """The leak failures of a run (none: no leak), each naming what grew."""
    failures = []
    rss_growth = memory["rss"]["growth_bytes"]
    retained = memory["tracemalloc"]["retained_after_reset"]
    suspects = [
        f"{site['site']} (+{site['size_diff_bytes'] / 1024:.0f} KiB in {site['count_diff']} blocks)"
        for site in retained["top_growth"]
        if site["size_diff_bytes"] >= budget.site_kb * 1024
    ]
    named = "; the Python allocation sites that grew most: " + ", ".join(suspects) if suspects else ""
    if rss_growth > budget.rss_mb * MB:
        failures.append(
            f"RSS of the served process grew {rss_growth / MB:.1f} MB {memory['rss']['judged']} "
            f"(from every user running to the end; budget {budget.rss_mb:g} MB){named}"
        )
    if retained["traced_growth_bytes"] > budget.retained_mb * MB:
        failures.append(
            f"{retained['traced_growth_bytes'] / MB:.1f} MB of Python allocations outlived the run's data "
            f"(kept after a reset of all state; budget {budget.retained_mb:g} MB){named}"
        )
    return failures


__all__ = ["Budget", "HoardMiddleware", "hoard", "leaky_services", "verdict"]
