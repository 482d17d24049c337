"""What a run asks of recording: the record mode, the match rule, a cassette to replay from.

Defaults by tier: on ``fake`` and ``emulator`` nothing is recorded unless asked (mode ``none``
without a cassette is "not recording", as before recording existed); on ``gcp`` every exchange is
recorded (``all``), so a nightly failure can be replayed. ``HARNESS_RECORD_MODE`` sets the mode
for every entry point (``harness run``, pytest), ``HARNESS_MATCH_ON`` the match rule; an explicit
option wins over both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.recording.recorder import DEFAULT_MATCH_ON, RecordMode, parse_match_on, parse_mode

MODE_ENV = "HARNESS_RECORD_MODE"
MATCH_ENV = "HARNESS_MATCH_ON"


@dataclass(frozen=True)
class RecordingOptions:
    mode: RecordMode | None = None
    """None: the tier's default."""
    match_on: tuple[str, ...] = DEFAULT_MATCH_ON
    cassette: Path | None = None
    """An existing cassette to replay from (modes ``none``, ``once``, ``new_episodes``)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RecordingOptions:
        environ = os.environ if environ is None else environ
        mode = environ.get(MODE_ENV, "").strip()
        match = environ.get(MATCH_ENV, "").strip()
        return cls(
            mode=parse_mode(mode) if mode else None,
            match_on=parse_match_on(match) if match else DEFAULT_MATCH_ON,
        )

    def mode_for(self, tier: str) -> RecordMode:
        if self.mode is not None:
            return self.mode
        return RecordMode.ALL if tier == "gcp" else RecordMode.NONE

    def active(self, tier: str) -> bool:
        """Whether a run of ``tier`` records or replays at all: mode ``none`` with no cassette to
        replay from is the "off" of the fake and emulator tiers."""
        return not (self.mode_for(tier) is RecordMode.NONE and self.cassette is None)


__all__ = ["MATCH_ENV", "MODE_ENV", "RecordingOptions"]
