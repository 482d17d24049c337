"""Seeding the emulators from files (goccy's ``--data-from-yaml``, and more): BigQuery projects,
datasets, tables and rows, KMS key rings and keys, provider keys and usage.

Two calls, public and stable (the CLI's ``--seed-file``, the pytest marker's ``data=`` and the
control plane's ``POST /_harness/seed`` all use them)::

    document = load_seed_text(text, "seed.yml")  # or load_seed_file(path)
    report = apply_seed(document, emulators)     # onto running harness.emulators.Emulators

Both raise :class:`SeedError` (``path:line: field: message``) for anything wrong in the file.
:func:`serve_seed_files` lets the control plane's ``POST /_harness/seed`` do the same over HTTP.

:mod:`~harness.seeding.model` is the format, :mod:`~harness.seeding.loader` reads it,
:mod:`~harness.seeding.checks` holds what is checked before the emulators are touched,
:mod:`~harness.seeding.apply` creates it all or nothing.
"""

from harness.seeding.apply import SeedReport, apply_seed
from harness.seeding.document import SeedDocument, SeedError
from harness.seeding.loader import load_seed_file, load_seed_files, load_seed_text
from harness.seeding.served import serve_seed_files

__all__ = [
    "SeedDocument",
    "SeedError",
    "SeedReport",
    "apply_seed",
    "load_seed_file",
    "load_seed_files",
    "load_seed_text",
    "serve_seed_files",
]
