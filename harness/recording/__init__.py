"""Recording at the HTTP layer for the real-client tiers (emulator, gcp): cassettes with record
modes, an httpx transport for the provider clients and a requests adapter for the Google clients.

* :mod:`.cassette`: the file format, what is kept of an exchange and how it is scrubbed;
* :mod:`.recorder`: record modes, matching, the aliases of values a replay regenerates;
* :mod:`.httpx_transport`, :mod:`.requests_adapter`: the two layers, both over one ``Recorder``;
* :mod:`.options`: what a run asks for (mode, match rule, cassette) and the tier defaults;
* :mod:`.exchanges`: a run's recorded exchanges as plain objects.
"""

from harness.recording.cassette import CASSETTE_FILE, CassetteError
from harness.recording.exchanges import GOOGLE_SERVICES, Exchange, recorded_exchanges
from harness.recording.options import RecordingOptions
from harness.recording.recorder import CassetteMiss, Recorder, RecordMode, parse_match_on, parse_mode

__all__ = [
    "CASSETTE_FILE",
    "GOOGLE_SERVICES",
    "CassetteError",
    "CassetteMiss",
    "Exchange",
    "RecordMode",
    "Recorder",
    "RecordingOptions",
    "parse_match_on",
    "parse_mode",
    "recorded_exchanges",
]
