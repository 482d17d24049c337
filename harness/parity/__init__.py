"""Parity snapshots: what a Google API answered, kept in the repo and compared field by field.

LocalStack's way of proving an emulator: the responses of a test's Google calls, recorded against
the real service, are stored with their volatile values replaced by reference placeholders
(``<job-id:1>``, ``<timestamp:1>``, ``<project>``), and the same calls on the fake and emulator
tiers are compared against them. A snapshot says whether it was validated against real GCP, when
and where; one produced on the emulator is marked unvalidated until a gcp run rewrites it.

The input is plain data: a list of exchanges (:class:`~harness.parity.exchange.Exchange`), as an
HTTP recorder or the pytest plugin's capture gives them. Modules: ``exchange`` (the input and the
error outcome read from it), ``normalize`` (placeholders), ``store`` (the snapshot files),
``compare`` (differences as ``path: expected vs actual``), ``listing`` (which behaviours are
validated). Standard library only, so every layer may use it.
"""
