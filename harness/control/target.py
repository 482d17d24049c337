"""What a served process lets its control plane reach.

Each accessor is called per request, never captured once: a reset swaps the engine, key ring and
provider fakes behind a running server (:meth:`harness.emulators.Emulators.reset`), and the
controls must see the new ones. An accessor that answers None means "nothing of ours to control
here" (the gcp tier's real services), which the routes turn into a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from harness.onboarding.errors import Conflict
from harness.ports import Provider

if TYPE_CHECKING:
    from fakes.bigquery.engine import BigQueryEngine
    from fakes.kms import KmsBackend
    from fakes.providers.base import ProviderState
    from harness.faults.backend import FaultQueue

T = TypeVar("T")


@dataclass(frozen=True)
class Controlled:
    """The state behind one process, as the control routes reach it.

    ``info`` describes the process for ``GET /_harness`` (tier, seed, the four services' URLs...);
    ``reset`` puts every emulator back to fresh state (None where there is nothing to reset);
    ``project`` and ``kms_location`` are the defaults of the state reads' ``project`` / ``location``;
    ``seed`` applies a seed file's text (YAML or JSON, named by ``source``) and answers its report
    (None where no seed-file loader was wired: the process knows no :mod:`harness.seeding`, which
    sits above it); ``faults`` is the queue of warehouse and KMS faults the process's BigQuery and
    KMS answer (None where they are real, or served by another process).
    """

    info: Callable[[], dict[str, Any]]
    clock: Callable[[], Any]
    bigquery: Callable[[], BigQueryEngine | None]
    kms: Callable[[], KmsBackend | None]
    providers: Callable[[], dict[Provider, ProviderState | None]]
    reset: Callable[[], None] | None
    project: str
    kms_location: str
    seed: Callable[[str, str], dict[str, Any]] | None = None
    faults: Callable[[], FaultQueue | None] = lambda: None

    def provider(self, provider: Provider) -> ProviderState:
        return _present(self.providers().get(provider), f"the real {provider.value}")

    def engine(self) -> BigQueryEngine:
        return _present(self.bigquery(), "real BigQuery")

    def key_rings(self) -> KmsBackend:
        return _present(self.kms(), "real Cloud KMS")

    def fault_queue(self) -> FaultQueue:
        return _present(self.faults(), "BigQuery and Cloud KMS it does not serve")


def conflict(message: str) -> Conflict:
    """A control that makes no sense on this process (409, ``CONFLICT``)."""
    return Conflict(message)


def _present(value: T | None, what: str) -> T:
    if value is None:
        raise conflict(f"this process talks to {what}: there is no emulator state to control")
    return value


__all__ = ["Controlled", "conflict"]
