"""The conformance ratchet: every GoogleSQL compliance case that passed on both faces of the
BigQuery fake (the engine and the REST emulator read by google-cloud-bigquery) still passes.

Every case of the files the ratchet names runs here (the in-scope ones outside the ratchet add
about a tenth), in four shards of whole files, one worker process each, so pytest-xdist spreads
them over the cores. A ratchet case that no longer passes fails the shard; the cases that pass
and are not in the ratchet yet are listed at the end of the run, to add with
``harness conformance --update-ratchet`` (README, "Conformance").
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.conformance.report import ratchet_passing, read_ratchet
from harness.conformance.runner import RunOptions, run_corpus

pytestmark = pytest.mark.slow  # deselected by --quick: the compliance corpus on both faces

HERE = Path(__file__).parent
CORPUS = HERE / "conformance" / "zetasql" / "testdata"
RATCHET = HERE / "conformance" / "passing.txt"
UNSTABLE = HERE / "conformance" / "unstable.txt"
SHARDS = 4


def _file_of(case: str) -> str:
    return case.split(":")[0].split("@")[0]


def _shards() -> list[list[str]]:
    """Whole files in ``SHARDS`` groups of about the same number of ratchet cases."""
    sizes = Counter(_file_of(case) for case in read_ratchet(RATCHET))
    groups: list[list[str]] = [[] for _ in range(SHARDS)]
    totals = [0] * SHARDS
    for name, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        smallest = totals.index(min(totals))
        groups[smallest].append(name)
        totals[smallest] += size
    return groups


def test_the_ratchet_is_there() -> None:
    assert len(read_ratchet(RATCHET)) > 1000, "the ratchet list is missing or truncated"


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_case_of_the_ratchet_still_passes_on_both_faces(
    shard: int, record_property: pytest.RecordProperty
) -> None:
    files = _shards()[shard]
    ids = {case for case in read_ratchet(RATCHET) if _file_of(case) in files}
    # A generous per-case limit: the suite may run with both cores busy.
    records = run_corpus(RunOptions(CORPUS, files=files, workers=1, timeout=120.0))
    newly = sorted(ratchet_passing(records) - read_ratchet(RATCHET) - read_ratchet(UNSTABLE))
    record_property("conformance_newly_passing", " ".join(newly))
    by_id = {record["id"]: record for record in records}
    regressed = sorted(ids - ratchet_passing(records))
    details = "\n".join(
        f"  {case}: {by_id[case]['status'] if case in by_id else 'not run'}: "
        f"{by_id.get(case, {}).get('detail') or by_id.get(case, {}).get('disagreement', '')}"
        for case in regressed[:40]
    )
    assert not regressed, f"{len(regressed)} conformance cases that passed fail now:\n{details}"
