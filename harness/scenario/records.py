"""Run records: what one scenario run did, as JSON under ``.harness/runs/<record_id>/record.json``.

A record holds everything needed to understand and replay a run: the scenario as written
(``scenario``, templates intact) and as resolved (``resolved``: every variable and each step's
concrete arguments), the run id its values derive from, the seed, the clock start, every request
and response (with timings), the provider exchanges, the armed faults, the cleanup and the outcome.
``scenario.yml`` next to it is a copy of the file that was run, scrubbed like the record.

Secrets never reach the file. The :class:`Scrubber` learns each secret as it appears (the root key,
org API keys from onboard/rotate responses, provider credentials, Stripe signatures, anything in a
secret header or a field named like one) and replaces it everywhere with a numbered placeholder —
``<root_key:1>``, ``<api_key:2>``, ``<credential:1>``, ``<stripe_signature:3>`` (LocalStack-style
reference placeholders) — so the same key reads the same throughout and the record still tells
the story. The masked form providers echo in error messages (``sk-admin***…abcd``) is replaced too.
A scenario's own literals (a ``credential: sk-...``, an ``auth:`` key, a secret header of an
``http`` step) are learned before the first step (:func:`learn_scenario`), so one that is never sent
is hidden as well. Every file under a run directory is written through the same scrubber
(:func:`write_scrubbed`; the cassette through ``Recorder.save``).

A replay reads the scrubbed copy: a ``<root_key:N>`` placeholder there stands for the root key of
whoever replays (:func:`fill_root_key`); other placeholders are sent as they read — a key nobody
issued, as the literal was on the run that recorded it (or its recorded answer is served).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

RECORD_FORMAT = 1
DEFAULT_RUNS_DIR = Path(".harness/runs")
RECORD_FILE = "record.json"
SCENARIO_COPY = "scenario.yml"
REGRESSION_FILE = "regression.yml"
"""Beside a record, it makes the directory a regression (:mod:`harness.scenario.regressions`)."""

SECRET_HEADERS = {
    "x-ca-root-key": "root_key",
    "x-api-key": "api_key",
    "authorization": "credential",
    "stripe-signature": "stripe_signature",
}
SECRET_FIELDS = {"api_key": "api_key", "credential": "credential", "root_key": "root_key"}
# Keys the provider fakes (and the real providers) issue: caught even when nothing announced them.
PROVIDER_KEY = re.compile(r"sk-(?:proj|admin|ant-admin\d*|ant-api\d*|ant)-[A-Za-z0-9_-]{16,}")
_PLACEHOLDER = re.compile(r"^<[a-z_]+:\d+>$")
_ROOT_KEY_PLACEHOLDER = re.compile(r"<root_key:\d+>")
# ``auth`` / ``credential`` values that choose a key rather than being one.
_KEY_CHOICES = frozenset({"org", "root", "none", "invalid", "valid"})


def _mask(key: str) -> str:
    """How OpenAI masks a key in its 401 message (mirrors ``fakes.providers.keys.mask_key``)."""
    return key if len(key) <= 12 else key[:8] + "*" * (len(key) - 12) + key[-4:]


class Scrubber:
    """Replaces known secrets with stable, numbered placeholders."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def add(self, secret: Any, kind: str) -> str | None:
        """Register a secret (idempotent); returns its placeholder."""
        if not isinstance(secret, str) or len(secret) < 6:
            return None
        if _PLACEHOLDER.match(secret):  # a scrubbed copy, replayed: its masked echo reads as it did
            if _mask(secret) != secret:
                self._secrets.setdefault(_mask(secret), secret[:-1] + ":masked>")
            return None
        if secret in self._secrets:
            return self._secrets[secret]
        self._counts[kind] = self._counts.get(kind, 0) + 1
        placeholder = f"<{kind}:{self._counts[kind]}>"
        self._secrets[secret] = placeholder
        masked = _mask(secret)
        if masked != secret:
            self._secrets.setdefault(masked, f"<{kind}:{self._counts[kind]}:masked>")
        return placeholder

    @property
    def placeholders(self) -> list[str]:
        return sorted(set(self._secrets.values()))

    def learn(self, data: Any) -> None:
        """Register secrets found by shape: fields named like secrets, provider-style keys."""
        if isinstance(data, dict):
            for key, value in data.items():
                kind = SECRET_FIELDS.get(str(key).lower())
                if kind and isinstance(value, str):
                    self.add(value, kind)
                else:
                    self.learn(value)
        elif isinstance(data, list):
            for item in data:
                self.learn(item)
        elif isinstance(data, str):
            for match in PROVIDER_KEY.finditer(data):
                self.add(match.group(0), "credential")

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Headers with secret values registered and replaced (``Bearer <credential:1>``)."""
        clean: dict[str, str] = {}
        for name, value in headers.items():
            kind = SECRET_HEADERS.get(name.lower())
            if kind:
                _scheme, _, rest = value.partition(" ")
                secret = rest if rest and name.lower() == "authorization" else value
                self.add(secret, kind)
            clean[name] = self.text(value)
        return clean

    def text(self, text: str) -> str:
        if not self._secrets:
            return text
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, self._secrets[secret])
        return text

    def __call__(self, data: Any) -> Any:
        """``data`` (JSON-shaped) with every known secret replaced, keys included."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {self(k): self(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self(item) for item in data]
        return data


def learn_scenario(scrub: Scrubber, scenario: Any) -> None:
    """Register the secrets a scenario (as a JSON-shaped dict) holds literally: an ``auth`` or
    ``credential`` that is not a choice (``org``, ``valid``...) nor a ``{template}``, a field named
    like a secret, a secret header of an ``http`` step, a provider-shaped key anywhere (in
    expectations and ``save`` only that: ``api_key: "!= null"`` is a comparison, not a key)."""
    if isinstance(scenario, list):
        for item in scenario:
            learn_scenario(scrub, item)
        return
    if not isinstance(scenario, dict):
        scrub.learn(scenario)
        return
    for key, value in scenario.items():
        name = str(key).lower()
        if name in ("expect", "expect_on", "save"):  # checked or kept, not sent: only a key's shape counts
            scrub.learn(json.dumps(value))
        elif name == "headers" and isinstance(value, dict):
            scrub.headers({str(k): v for k, v in value.items() if isinstance(v, str) and "{" not in v})
        elif name in ("auth", *SECRET_FIELDS) and _literal(value):
            scrub.add(value, "api_key" if name == "auth" else SECRET_FIELDS[name])
        else:
            learn_scenario(scrub, value)


def _literal(value: Any) -> bool:
    return isinstance(value, str) and value not in _KEY_CHOICES and "{" not in value


def fill_root_key(scenario: dict[str, Any]) -> dict[str, Any]:
    """``scenario`` (JSON-shaped) with each ``<root_key:N>`` placeholder turned into the
    ``{root_key}`` template: the root key is a setting of the run, so a replay sends its own."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _ROOT_KEY_PLACEHOLDER.sub("{root_key}", value)
        if isinstance(value, dict):
            return {fill(k): fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    filled: dict[str, Any] = fill(scenario)
    return filled


# ------------------------------------------------------------------------------------ model


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HttpExchange(_Record):
    service: str
    method: str
    path: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = None
    status: int | None = None
    response_headers: dict[str, str] = Field(default_factory=dict)
    response: Any = None
    """The response body: parsed JSON, or text."""


class ProviderExchange(_Record):
    """One request a service made to OpenAI / Anthropic. ``body`` is kept with ``--record``;
    without it only the line (method, path, status) is listed."""

    step: int | None
    provider: str
    method: str
    path: str
    query: str = ""
    request_headers: dict[str, str] = Field(default_factory=dict)
    status: int | None = None
    headers: dict[str, str] | None = None
    body: str | None = None
    error: str | None = None
    """An exception instead of a response (``ReadTimeout: ...``)."""
    elapsed_ms: float = 0.0

    @property
    def recorded(self) -> bool:
        return self.body is not None or self.error is not None


class StepRecord(_Record):
    index: int
    name: str
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    clock: datetime | None = None
    exchange: HttpExchange | None = None
    result: Any = None
    """The outcome of a local action (count_rows, advance_clock)."""
    ok: bool
    failures: list[str] = Field(default_factory=list)
    error: str | None = None
    saved: dict[str, Any] = Field(default_factory=dict)
    elapsed_ms: float
    instance: int = 1
    parallel: list[StepRecord] = Field(default_factory=list)
    """A ``parallel`` step's sub-steps, each recorded like a step."""


class FaultRecord(_Record):
    fault: dict[str, Any]
    armed_before_step: int | None
    fired: int | None = None
    """How many calls a warehouse or KMS fault failed (None where the run cannot see it)."""


class CleanupRecord(_Record):
    policy: str
    ran: bool
    reason: str = ""
    ok: bool = True
    orgs: dict[str, str] = Field(default_factory=dict)
    """org slug → what happened (``offboarded`` or the error)."""
    steps: list[StepRecord] = Field(default_factory=list)


class Failure(_Record):
    step_index: int | None
    step: str | None
    action: str | None
    messages: list[str]
    sub_step: int | None = None
    """The failing sub-step's place in its ``parallel`` step."""


class RecordingRecord(_Record):
    """How the real clients' HTTP exchanges were recorded (emulator and gcp tiers)."""

    mode: str
    match_on: list[str]
    cassette: str | None = None
    """The cassette's file name beside the record."""
    replayed_from: str | None = None
    interactions: int = 0
    served: int = 0
    """Requests answered from a cassette instead of sent."""
    misses: list[str] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict)
    """The project, KMS key and environment the requests' paths name (a replay needs them)."""


class RunRecord(_Record):
    format: int = RECORD_FORMAT
    record_id: str
    run_id: str
    scenario_name: str
    source: str | None = None
    scenario: dict[str, Any]
    """The scenario as written (templates intact); replay re-runs this."""
    resolved: dict[str, Any] = Field(default_factory=dict)
    """Concrete values: ``variables`` and per-step ``steps`` arguments."""
    tier: str
    mode: str
    """``in-process`` or ``live``."""
    api_url: str | None = None
    pipeline_url: str | None = None
    seed: int
    clock_start: datetime
    clock_end: datetime | None = None
    recorded_provider_responses: bool = False
    replay_of: str | None = None
    started_at: datetime
    duration_ms: float = 0.0
    faults: list[FaultRecord] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    provider_calls: list[ProviderExchange] = Field(default_factory=list)
    recording: RecordingRecord | None = None
    cleanup: CleanupRecord | None = None
    outcome: str
    failure: Failure | None = None
    placeholders: list[str] = Field(default_factory=list)


def new_run_id() -> str:
    """8 lowercase hex digits: short, unique enough, valid inside an org slug, and the name of the
    run's record directory (so it is minted here, beside the directories it names)."""
    return secrets.token_hex(4)


def record_dir(runs_dir: Path, run_id: str, *, replay: bool = False) -> tuple[str, Path]:
    """A fresh directory for a record: ``<run_id>`` or, for a replay, ``<run_id>-replay[-n]``."""
    base = f"{run_id}-replay" if replay else run_id
    candidate, n = base, 1
    while (runs_dir / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate, runs_dir / candidate


def write_record(record: RunRecord, directory: Path, scrub: Scrubber, source: Path | None = None) -> Path:
    """Scrub and write ``record.json`` (+ ``scenario.yml``, a scrubbed copy of the source file)."""
    directory.mkdir(parents=True, exist_ok=True)
    copy = source.read_text(encoding="utf-8") if source is not None and source.is_file() else None
    if copy is not None:  # the file may hold literals this run never saw (a replay runs the scrubbed copy)
        with contextlib.suppress(yaml.YAMLError):
            learn_scenario(scrub, yaml.safe_load(copy))
        scrub.learn(copy)  # a provider-shaped key in a comment
    data = scrub(json.loads(record.model_dump_json()))
    data["placeholders"] = scrub.placeholders
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    path = write_scrubbed(directory / RECORD_FILE, text, scrub)
    if copy is not None:
        write_scrubbed(directory / SCENARIO_COPY, copy, scrub)
    return path


def write_scrubbed(path: Path, text: str, scrub: Scrubber) -> Path:
    """Write ``text`` with every secret ``scrub`` knows replaced: the one way a file reaches a run
    directory (or a regression made from one)."""
    path.write_text(scrub.text(text), encoding="utf-8")
    return path


def read_record(path: Path) -> RunRecord:
    """A record from ``record.json`` (or its directory)."""
    if path.is_dir():
        path = path / RECORD_FILE
    return RunRecord.model_validate_json(path.read_text(encoding="utf-8"))


def is_record(path: Path) -> bool:
    """Whether ``path`` is a run record (a ``.json`` file with a record's shape, or its directory)."""
    if path.is_dir():
        return (path / RECORD_FILE).is_file()
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "run_id" in data and "scenario" in data
