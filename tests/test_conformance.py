"""The conformance ratchet: every GoogleSQL compliance case that passed on both faces of the
BigQuery fake (the engine and the REST emulator read by google-cloud-bigquery) still passes.

Only the cases of ``tests/conformance/passing.txt`` run here, in two worker processes; the whole
corpus, with the newly passing cases to add, is ``harness conformance`` (README, "Conformance").
"""

from __future__ import annotations

from pathlib import Path

from harness.conformance.report import ratchet_passing, read_ratchet
from harness.conformance.runner import RunOptions, run_corpus

HERE = Path(__file__).parent
CORPUS = HERE / "conformance" / "zetasql" / "testdata"
RATCHET = HERE / "conformance" / "passing.txt"


def test_every_case_of_the_ratchet_still_passes_on_both_faces() -> None:
    ids = read_ratchet(RATCHET)
    assert len(ids) > 1000, "the ratchet list is missing or truncated"
    files = sorted({case.split(":")[0].split("@")[0] for case in ids})
    # A generous per-case limit: the suite may run with both cores busy.
    records = run_corpus(RunOptions(CORPUS, files=files, cases=ids, workers=2, timeout=120.0))
    by_id = {record["id"]: record for record in records}
    regressed = sorted(ids - ratchet_passing(records))
    details = "\n".join(
        f"  {case}: {by_id[case]['status'] if case in by_id else 'not run'}: "
        f"{by_id.get(case, {}).get('detail') or by_id.get(case, {}).get('disagreement', '')}"
        for case in regressed[:40]
    )
    assert not regressed, f"{len(regressed)} conformance cases that passed fail now:\n{details}"
