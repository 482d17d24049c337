"""A scenario's parity snapshot: its Google calls, judged against ``snapshot: <name>``.

A scenario that declares ``snapshot: bootstrap`` has the BigQuery and Cloud KMS exchanges of its
run (the real clients' cassette, :mod:`harness.recording`) normalized and, by tier
(:func:`harness.parity.verdict.settle`):

* ``gcp``: written to ``tests/parity/snapshots/scenarios/<name>.json`` as validated, with when
  and where — the nightly turns an emulator-made snapshot into a validated one;
* ``emulator``: compared field by field (``HARNESS_PARITY_UPDATE=1`` rewrites an unvalidated one);
* ``fake``: not judged — the in-process fakes make no HTTP call to compare (the errors the fake
  raises are compared by the pytest snapshots in ``tests/test_parity.py``).

The run's own names are registered as volatile (its run id, the org slugs and datasets derived
from it), so two runs of the scenario compare equal.
"""

from __future__ import annotations

import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import parse_qs

from harness.parity.normalize import Normalizer
from harness.parity.verdict import Recording, Verdict, settle
from harness.recording.cassette import Scrub
from harness.recording.exchanges import GOOGLE_SERVICES, recorded_exchanges
from harness.recording.recorder import Recorder
from harness.scenario.model import Scenario, Tier

SNAPSHOT_ROOT = Path("tests/parity/snapshots")
"""Relative to the working directory: where the repository's snapshots live."""
UPDATE_VARIABLE = "HARNESS_PARITY_UPDATE"
CLIENTS = ("google-cloud-bigquery", "google-cloud-kms", "google-auth")


def wants_recording(scenario: Scenario, tier: Tier) -> bool:
    """Whether the run must record its Google calls for the snapshot (real-client tiers only)."""
    return scenario.snapshot is not None and tier is not Tier.FAKE


def judge(
    scenario: Scenario,
    recorder: Recorder,
    scrub: Scrub,
    *,
    tier: Tier,
    project: str,
    run_id: str,
    volatile: dict[str, list[str]],
    root: Path = SNAPSHOT_ROOT,
) -> Verdict:
    """Write or compare the run's snapshot. ``volatile`` maps a placeholder kind to the run's own
    values of it (org slugs, dataset ids), registered before the run id they contain."""
    assert scenario.snapshot is not None
    with tempfile.TemporaryDirectory() as scratch:
        path = recorder.save(Path(scratch) / "cassette.json", scrub)
        exchanges = [
            {
                "method": item.method,
                "path": item.path,
                "query": _query(item.query),
                "request": item.request_json,
                "status": item.status,
                "response": item.response_json,
            }
            for item in recorded_exchanges(path, services=GOOGLE_SERVICES)
        ]
    normalizer = Normalizer(project=project, values={**volatile, "run-id": [run_id]})
    recording = Recording(
        name=f"scenarios/{scenario.snapshot}",
        tier=tier.value,
        project=project,
        exchanges=exchanges,
        clients=_client_versions(),
    )
    update = os.environ.get(UPDATE_VARIABLE, "") not in ("", "0")
    return settle(root, recording, normalizer, update=update)


def _query(text: str) -> dict[str, object]:
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(text, keep_blank_values=True).items()}


def _client_versions() -> dict[str, str]:
    found = {}
    for name in CLIENTS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
