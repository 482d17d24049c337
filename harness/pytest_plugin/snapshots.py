"""``@pytest.mark.snapshot("service/name")`` and the ``parity_snapshot`` fixture: parity snapshots in tests.

A marked test's Google calls are captured and checked against ``<snapshot dir>/<service>/<name>.json``
(:mod:`harness.parity`), by tier:

* ``gcp``: the normalized exchanges are WRITTEN, ``validated: true`` with when and where: only a
  run against real GCP can say what Google answers.
* ``emulator``: the exchanges are COMPARED, field by field, with the stored snapshot; with
  ``--parity-update`` they are (re)written instead, ``validated: false`` — except over a
  validated snapshot, which is compared and never overwritten (a warning says so).
* ``fake``: no HTTP is made, so each error the fake raises inside ``parity_snapshot.expect(...)``
  (status, reason, message) is compared with the error answers of the stored snapshot.

Capture on emulator and gcp is a response hook on the client's ``requests`` session
(``parity_snapshot.watch(client)``: a google-cloud-bigquery client, a google-cloud-kms REST client or a
session). A test names the error it expects, ``with parity_snapshot.expect(ErrorClass):``; the class's
``confirmed``/``searched`` (:class:`fakes.errors.RealError`) goes into the snapshot's provenance.
Generated names are registered (``parity_snapshot.unique("dataset", "parity")``) so they become
placeholders. The check runs after the test body passed, as part of the test's own call.
The snapshot directory is the ``harness_snapshot_dir`` ini value (default
``tests/parity/snapshots``, relative to the rootdir).
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from harness.parity import store
from harness.parity.exchange import Exchange, Outcome, error_outcomes, exchange
from harness.parity.normalize import Normalizer
from harness.parity.verdict import Recording, settle

MARKER = "snapshot"
MARKER_HELP = (
    'snapshot("service/name"): compare the Google calls this test makes (parity_snapshot.watch / '
    "parity_snapshot.expect) with tests/parity/snapshots/<service>/<name>.json; gcp writes it validated"
)
UPDATE_OPTION = "--parity-update"  # not --snapshot-update: syrupy and pytest-snapshot own that name
DIR_INI = "harness_snapshot_dir"
CLIENT_PACKAGES = ("google-cloud-bigquery", "google-cloud-kms", "google-api-core", "google-auth")

_RECORDER = pytest.StashKey["SnapshotRecorder"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness")
    group.addoption(
        UPDATE_OPTION,
        dest="harness_parity_update",
        action="store_true",
        default=False,
        help="emulator tier: (re)write the parity snapshots of @pytest.mark.snapshot tests as "
        "validated: false instead of comparing (a snapshot validated on GCP is never overwritten)",
    )
    parser.addini(
        DIR_INI, "where parity snapshots live, relative to the rootdir", default="tests/parity/snapshots"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


class SnapshotRecorder:
    """What one marked test captured, and the check or write at its end."""

    def __init__(self, name: str, tier: str, root: Path, *, project: str, update: bool) -> None:
        self.name = store.check_name(name)
        self.tier = tier
        self.root = root
        self.project = project
        self.update = update
        self.exchanges: list[Exchange] = []
        self.outcomes: list[Outcome] = []
        self.provenance: list[store.Provenance] = []
        self.normalizer = Normalizer(project=project)

    # ------------------------------------------------------------------ what a test calls
    def watch(self, target: Any) -> Any:
        """Capture every exchange of ``target``'s HTTP session (a client or a ``requests``
        session); returns ``target``. On the fake tier there is no session and nothing to do."""
        if self.tier == "fake":
            return target
        session = _session_of(target)
        session.hooks.setdefault("response", []).append(self._capture)
        return target

    def unique(self, kind: str, prefix: str, sep: str = "_") -> str:
        """A new name (``prefix`` + ``sep`` + 12 hex digits) that becomes ``<kind:n>`` in the
        snapshot, so runs with different names compare equal (gcp needs new names: KMS key rings
        can never be deleted)."""
        value = f"{prefix}{sep}{secrets.token_hex(6)}"
        self.normalizer.register(kind, value)
        return value

    def placeholder(self, kind: str, value: str) -> str:
        """Register ``value`` (made elsewhere) as volatile; returns it."""
        self.normalizer.register(kind, value)
        return value

    @contextmanager
    def expect(self, error: type[BaseException]) -> Iterator[None]:
        """The block must fail with ``error`` (the fake's class for the behaviour). On the fake
        tier the raised error's status, reason and message are kept for the comparison; on the
        emulator and gcp the exchange itself was captured, and any error of the client passes
        (the snapshot says what it was) as long as the service sent an error answer.
        ``error``'s provenance goes into the snapshot."""
        self.provenance.append(
            store.Provenance(
                error.__name__, getattr(error, "confirmed", None), getattr(error, "searched", "")
            )
        )
        before = len(self.exchanges)
        try:
            yield
        except Exception as exc:
            if self.tier == "fake":
                if not isinstance(exc, error):
                    raise AssertionError(f"expected {error.__name__}, the fake raised {exc!r}") from exc
                self.outcomes.append(_outcome_of_exception(exc))
            elif not error_outcomes(self.exchanges[before:]):
                raise AssertionError(
                    f"expected {error.__name__} from the service, but the client failed before any "
                    f"error answer: {exc!r}"
                ) from exc
            return
        if self.tier != "gcp":
            raise AssertionError(f"expected {error.__name__}, but the call succeeded")

    # ------------------------------------------------------------------------- the end
    def finish(self) -> None:
        """Write (gcp, or emulator with ``--parity-update``) or compare; ``pytest.fail`` with the
        differences, or naming the missing snapshot (:func:`harness.parity.verdict.settle`)."""
        recording = Recording(
            self.name,
            self.tier,
            self.project,
            exchanges=self.exchanges,
            outcomes=self.outcomes,
            provenance=self.provenance,
            clients=_client_versions(),
        )
        verdict = settle(self.root, recording, self.normalizer, update=self.update)
        if verdict.note:
            warnings.warn(verdict.note, pytest.PytestWarning, stacklevel=1)
        if not verdict.ok:
            pytest.fail(verdict.message(self.name), pytrace=False)

    # ------------------------------------------------------------------------ internals
    def _capture(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        url = urlsplit(request.url)
        query = {
            k: v[0] if len(v) == 1 else v for k, v in parse_qs(url.query, keep_blank_values=True).items()
        }
        self.exchanges.append(
            exchange(
                request.method,
                url.path,
                status=response.status_code,
                query=query,
                request=_json_or_text(request.body),
                response=_json_or_text(response.content),
            )
        )


def _session_of(target: Any) -> Any:
    """The ``requests`` session behind a Google client (BigQuery's ``_http``, a KMS REST
    transport's ``_session``), or ``target`` itself: whatever has ``requests``' ``hooks``."""
    for candidate in (
        target,
        getattr(target, "_http", None),
        getattr(getattr(target, "transport", None), "_session", None),
    ):
        if isinstance(getattr(candidate, "hooks", None), dict) and callable(getattr(candidate, "send", None)):
            return candidate
    raise TypeError(f"snapshot.watch: no requests session found on {type(target).__name__}")


def _json_or_text(body: Any) -> Any:
    if body is None or body in (b"", ""):
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _outcome_of_exception(exc: BaseException) -> Outcome:
    """A fake's error (``harness.ports`` classes: ``status`` plus BigQuery's ``reason`` or Cloud
    KMS's canonical ``code``) as the outcome an error answer carries."""
    reason = getattr(exc, "reason", None) or getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    return Outcome(int(getattr(exc, "status", 500)), reason, message if message is not None else str(exc))


def _client_versions() -> dict[str, str]:
    found = {}
    for package in CLIENT_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


@pytest.fixture
def parity_snapshot(
    request: pytest.FixtureRequest, harness_tier: str, harness_settings: Any
) -> SnapshotRecorder:
    """The recorder of a ``@pytest.mark.snapshot("service/name")`` test (see the module doc)."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None or len(marker.args) != 1 or not isinstance(marker.args[0], str):
        pytest.fail(
            f'{request.node.nodeid}: the parity_snapshot fixture needs @pytest.mark.snapshot("service/name")',
            pytrace=False,
        )
    try:
        name = store.check_name(marker.args[0])
    except store.SnapshotError as exc:
        pytest.fail(f"{request.node.nodeid}: @pytest.mark.snapshot: {exc}", pytrace=False)
    project = harness_settings.gcp_project_id
    root = Path(request.config.rootpath) / str(request.config.getini(DIR_INI))
    update = bool(request.config.getoption("harness_parity_update"))
    recorder = SnapshotRecorder(name, harness_tier, root, project=project, update=update)
    request.node.stash[_RECORDER] = recorder
    return recorder


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """After a snapshot test's body passed, its snapshot is written or compared in the same call."""
    result = yield
    recorder = pyfuncitem.stash.get(_RECORDER, None)
    if recorder is not None:
        recorder.finish()
    return result
