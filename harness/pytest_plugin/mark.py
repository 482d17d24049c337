"""``@pytest.mark.harness(tier=..., seed=..., data=...)``: what one test asks of the harness.

``tier`` runs the test on that tier only (a name or a list of names; read at collection by
:mod:`~harness.pytest_plugin.tiers`), ``seed`` sets the fakes' seed (the ``harness_seed`` fixture:
minted provider keys, KMS key material, generated usage), ``data`` names seed files (a path
relative to the test file, or a list of them; :mod:`harness.seeding`) that the emulators behind the
client fixtures are seeded with after their reset (:mod:`~harness.pytest_plugin.clients`).

The marker is checked for every collected test, so a typo, a value the harness cannot honour or a
seed file that is not there is a usage error naming the test, never a test that silently runs
differently from what it says.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.backends import Backend

MARKER = "harness"
MARKER_HELP = (
    "harness(tier=..., seed=..., data=...): run this test on that tier only (a name or a list), with "
    "that seed for the fakes, the emulators seeded from those files (paths relative to the test file)"
)
TIERS = tuple(backend.value for backend in Backend)
KEYWORDS = ("tier", "seed", "data")
#: The fixtures whose emulators ``data=`` seeds; a test with ``data=`` must use one of them.
SEEDED_FIXTURES = (
    "harness_emulator_state",
    "bigquery_client",
    "bigquery_dataset",
    "kms_client",
    "kms_key_name",
    "openai_client",
    "anthropic_client",
)


@dataclass(frozen=True)
class HarnessMark:
    """The marker's settings for one test; empty when the test is not marked."""

    tiers: tuple[str, ...] = ()
    seed: int | None = None
    data: tuple[Path, ...] = ()


def harness_mark(node: pytest.Item) -> HarnessMark:
    """The closest ``harness`` marker of ``node``, checked; a ``pytest.UsageError`` naming the test
    when it asks for something unknown or unsupported."""
    marker = node.get_closest_marker(MARKER)
    if marker is None:
        return HarnessMark()
    where = f"{node.nodeid}: @pytest.mark.harness"
    if marker.args:
        raise pytest.UsageError(f"{where} takes keywords only ({', '.join(KEYWORDS)}), got {marker.args!r}")
    unknown = sorted(set(marker.kwargs) - set(KEYWORDS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: unknown keyword {', '.join(map(repr, unknown))}; it takes {', '.join(KEYWORDS)}"
        )
    data = _data(where, Path(node.path).parent, marker.kwargs.get("data"))
    if data:
        _check_seeded_fixtures(where, node)
    return HarnessMark(
        tiers=_tiers(where, marker.kwargs.get("tier")), seed=_seed(where, marker.kwargs), data=data
    )


def _tiers(where: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not names or not all(isinstance(name, str) for name in names):
        raise pytest.UsageError(
            f"{where}(tier={value!r}): give a tier name or a list of them ({', '.join(TIERS)})"
        )
    unknown = [name for name in names if name not in TIERS]
    if unknown:
        raise pytest.UsageError(
            f"{where}(tier={value!r}): {', '.join(map(repr, unknown))} is not a tier; "
            f"choose from {', '.join(TIERS)}"
        )
    return tuple(dict.fromkeys(names))


def _seed(where: str, kwargs: dict[str, object]) -> int | None:
    if "seed" not in kwargs:
        return None
    seed = kwargs["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise pytest.UsageError(f"{where}(seed={seed!r}): the seed is a non-negative integer")
    return seed


def _data(where: str, base: Path, value: object) -> tuple[Path, ...]:
    """The seed files, resolved against the test file's directory; each must exist (its content is
    checked when the test seeds from it, with the file's own ``path:line: field: message``)."""
    if value is None:
        return ()
    names = [value] if isinstance(value, str | Path) else value
    if not isinstance(names, Sequence) or not names or not all(isinstance(n, str | Path) for n in names):
        raise pytest.UsageError(f"{where}(data={value!r}): give a seed file's path or a list of them")
    paths = tuple(base / name for name in names)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise pytest.UsageError(f"{where}(data={value!r}): no such seed file: {', '.join(missing)}")
    return paths


def _check_seeded_fixtures(where: str, node: pytest.Item) -> None:
    """``data=`` on a test that reaches no emulator would seed nothing the test could see."""
    if not set(SEEDED_FIXTURES) & set(getattr(node, "fixturenames", ())):
        raise pytest.UsageError(
            f"{where}(data=...): the seed files go into the emulators behind {', '.join(SEEDED_FIXTURES)}; "
            "this test uses none of them"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every marked test at collection, so a bad marker stops the run before anything runs."""
    for item in items:
        harness_mark(item)


@pytest.fixture
def harness_seed(request: pytest.FixtureRequest) -> int:
    """The fakes' seed for this test: the marker's ``seed``, else one derived from the test's node id
    (the same minted keys and generated data on every run of this test)."""
    seed = harness_mark(request.node).seed
    return seed if seed is not None else zlib.crc32(request.node.nodeid.encode())
