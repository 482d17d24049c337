"""Seed files over HTTP: what ``POST /_harness/seed`` runs on a process's emulators.

The control plane sits below this package (the emulators mount it), so it cannot import the loader;
instead the process that starts the emulators plugs the loader in here. A broken file is the
control plane's structured 400, ``SEED_INVALID``, whose message is the loader's
``source:line: field: message``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.onboarding.errors import InvalidRequest
from harness.seeding.apply import apply_seed
from harness.seeding.document import SeedError
from harness.seeding.loader import load_seed_text

if TYPE_CHECKING:
    from harness.emulators import Emulators


class SeedInvalid(InvalidRequest):
    code = "SEED_INVALID"


def serve_seed_files(emulators: Emulators) -> Emulators:
    """Let ``POST /_harness/seed`` on ``emulators`` seed them (all or nothing); returns them."""

    def seed(text: str, source: str) -> dict[str, Any]:
        try:
            return apply_seed(load_seed_text(text, source), emulators).to_dict()
        except SeedError as exc:
            raise SeedInvalid(str(exc)) from None

    emulators.seeder = seed
    return emulators
