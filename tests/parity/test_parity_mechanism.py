"""The parity machinery itself: placeholders, comparison, snapshot files, the listing, and the
pytest plugin's recorder on each tier (its HTTP capture fed by a canned ``requests`` adapter, so
no service is needed; the snapshot tests of ``tests/test_parity.py`` run it against the emulators).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from harness.parity import compare, store
from harness.parity.exchange import Outcome, check, error_outcomes, exchange, outcome_of
from harness.parity.listing import counts, markdown
from harness.parity.normalize import Normalizer, mask_project, renumber
from harness.pytest_plugin.snapshots import SnapshotRecorder

pytest_plugins = ["pytester"]

BQ_ERROR = {
    "error": {
        "code": 404,
        "message": "Not found: Table p1:ds_1.t",
        "errors": [{"message": "Not found: Table p1:ds_1.t", "domain": "global", "reason": "notFound"}],
        "status": "NOT_FOUND",
    }
}
KMS_ERROR = {"error": {"code": 404, "message": "KeyRing x not found.", "status": "NOT_FOUND"}}


def recording(project: str, dataset: str, job: str, when: str, origin: str) -> list[dict[str, Any]]:
    """One behaviour as two runs would record it: only the volatile values differ."""
    return [
        exchange(
            "post",
            f"/bigquery/v2/projects/{project}/jobs",
            status=200,
            request={"configuration": {"query": {"query": f"SELECT 1 FROM {dataset}.t"}}},
            response={
                "jobReference": {"jobId": job, "projectId": project},
                "statistics": {"creationTime": when, "startTime": when},
                "selfLink": f"{origin}/bigquery/v2/projects/{project}/jobs/{job}",
                "etag": f"etag-{job}",
            },
        ),
        exchange(
            "GET",
            f"/bigquery/v2/projects/{project}/queries/{job}",
            status=404,
            response={"error": {"code": 404, "message": f"Not found: Job {project}:US.{job}"}},
        ),
    ]


# ---------------------------------------------------------------------------------- normalize


def test_two_runs_of_one_behaviour_normalize_equal() -> None:
    first = Normalizer(project="proj-a", values={"dataset": ["ds_111"]}).exchanges(
        recording("proj-a", "ds_111", "job_aaa", "1733480000000", "https://bigquery.googleapis.com")
    )
    second = Normalizer(project="proj-b", values={"dataset": ["ds_222"]}).exchanges(
        recording("proj-b", "ds_222", "job_bbb", "1733480999999", "http://127.0.0.1:9050")
    )
    assert first == second
    assert first[0]["path"] == "/bigquery/v2/projects/<project>/jobs"
    assert first[0]["response"]["selfLink"] == "<origin>/bigquery/v2/projects/<project>/jobs/<job-id:1>"
    assert first[1]["response"]["error"]["message"] == "Not found: Job <project>:US.<job-id:1>"
    assert first[0]["request"]["configuration"]["query"]["query"] == "SELECT 1 FROM <dataset:1>.t"


def test_placeholders_are_numbered_by_first_appearance_and_kept_per_value() -> None:
    normalizer = Normalizer(values={"dataset": ["zeta_ds", "alpha_ds"]})
    text = normalizer.text("copy alpha_ds to zeta_ds, then alpha_ds again")
    assert text == "copy <dataset:1> to <dataset:2>, then <dataset:1> again"


def test_timestamps_are_numbered_per_occurrence_not_per_value() -> None:
    """Equal on a manual clock, a few ms apart on a real service: only where they appear counts."""
    normalized = Normalizer().value(
        {"createTime": "2025-01-01T00:00:00Z", "generateTime": "2025-01-01T00:00:00Z"}
    )
    assert normalized == {"createTime": "<timestamp:1>", "generateTime": "<timestamp:2>"}


def test_numbering_does_not_depend_on_the_order_a_server_writes_keys() -> None:
    one = Normalizer().value({"a": {"etag": "x"}, "b": {"etag": "y"}})
    other = Normalizer().value({"b": {"etag": "y"}, "a": {"etag": "x"}})
    assert one == other == {"a": {"etag": "<etag:1>"}, "b": {"etag": "<etag:2>"}}


def test_known_values_are_replaced_only_as_whole_names() -> None:
    normalizer = Normalizer(project="proj")
    assert normalizer.text("projects/proj/datasets/proj_data") == "projects/<project>/datasets/proj_data"
    assert normalizer.text("Dataset proj:ds") == "Dataset <project>:ds"


def test_patterns_and_long_values() -> None:
    normalizer = Normalizer()
    assert normalizer.text("at 2025-12-06T10:00:00.123Z id 123e4567-e89b-12d3-a456-426614174000") == (
        "at <timestamp:1> id <uuid:1>"
    )
    assert normalizer.value({"plaintext": "A" * 600}) == {"plaintext": "<600 chars>"}
    assert normalizer.text("already <dataset:7>") == "already <dataset:7>"


def test_a_kind_is_lowercase_words() -> None:
    with pytest.raises(ValueError, match="placeholder kind"):
        Normalizer().register("Data Set", "x")


def test_renumber_makes_a_subset_comparable() -> None:
    assert renumber(["<dataset:2> and <dataset:5>", "<dataset:2>", "<project>"]) == [
        "<dataset:1> and <dataset:2>",
        "<dataset:1>",
        "<project>",
    ]


def test_mask_project() -> None:
    assert mask_project("cloudact-prod") == "cl*********od"
    assert mask_project("abc") == "***"


# ----------------------------------------------------------------------------------- exchange


def test_outcome_of_bigquery_and_kms_errors() -> None:
    assert outcome_of(exchange("GET", "/x", status=404, response=BQ_ERROR)) == Outcome(
        404, "notFound", "Not found: Table p1:ds_1.t"
    )
    assert outcome_of(exchange("GET", "/x", status=404, response=KMS_ERROR)) == Outcome(
        404, "NOT_FOUND", "KeyRing x not found."
    )
    assert outcome_of(exchange("GET", "/x", status=502, response="Bad Gateway")) == Outcome(
        502, None, "Bad Gateway"
    )
    assert outcome_of(exchange("GET", "/x", status=200, response={})) is None
    assert error_outcomes(
        [exchange("GET", "/x", status=200), exchange("GET", "/y", status=404, response=KMS_ERROR)]
    ) == [Outcome(404, "NOT_FOUND", "KeyRing x not found.")]


def test_check_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"exchanges\[3\]: exchange without query, request"):
        check({"method": "GET", "path": "/", "status": 200, "response": None}, "exchanges[3]")
    with pytest.raises(ValueError, match="status: an HTTP status code"):
        check({**exchange("GET", "/", status=200), "status": "200"}, "here")


# ------------------------------------------------------------------------------------ compare


def test_differences_are_listed_by_path() -> None:
    expected = {"status": 400, "body": {"error": {"message": "a", "code": 400}}, "list": [1, 2]}
    actual = {"status": 404, "body": {"error": {"message": "b", "extra": True}}, "list": [1]}
    assert compare.differences(expected, actual) == [
        "status: 400 vs 404",
        'body.error.message: "a" vs "b"',
        "body.error.code: 400 vs <missing>",
        "body.error.extra: <missing> vs true",
        "list[1]: 2 vs <missing>",
    ]
    assert compare.differences({"n": 1}, {"n": "1"}) == ['n: 1 vs "1"']
    assert compare.differences([{"a": 1}], [{"a": 1}]) == []


def test_report_is_bounded() -> None:
    text = compare.report("svc/x", [f"p{i}: 1 vs 2" for i in range(5)], limit=2)
    assert text.splitlines() == [
        "snapshot svc/x: 5 difference(s) (path: expected vs actual)",
        "  p0: 1 vs 2",
        "  p1: 1 vs 2",
        "  ... and 3 more",
    ]


# -------------------------------------------------------------------------------------- store


def test_a_snapshot_survives_a_round_trip(tmp_path: Path) -> None:
    snapshot = store.Snapshot(
        "kms/x",
        [exchange("GET", "/v1/x", status=404, response=KMS_ERROR)],
        validated=True,
        validated_at="2026-01-01T00:00:00+00:00",
        where={"tier": "gcp"},
        provenance=[store.Provenance("KeyRingNotFound", "seen in a public issue")],
    )
    path = store.write(tmp_path, snapshot)
    assert path == tmp_path / "kms" / "x.json"
    assert store.load(tmp_path, "kms/x") == snapshot
    assert store.load(tmp_path, "kms/y") is None
    assert store.load_all(tmp_path) == [snapshot]


@pytest.mark.parametrize("name", ["x", "KMS/x", "kms/x/y", "kms/../x", "kms/x y"])
def test_snapshot_names_are_service_slash_name(name: str) -> None:
    with pytest.raises(store.SnapshotError, match="write it <service>/<name>"):
        store.check_name(name)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable JSON snapshot"),
        ('{"name": "kms/other", "validated": false, "exchanges": []}', "name: 'kms/other', but the file is"),
        ('{"name": "kms/x", "validated": "no", "exchanges": []}', "validated: true or false"),
        ('{"name": "kms/x", "validated": false, "exchanges": {}}', "exchanges: a list"),
        (
            '{"name": "kms/x", "validated": false, "exchanges": [{"method": "GET"}]}',
            r"exchanges\[0\]: exchange",
        ),
    ],
)
def test_a_broken_snapshot_file_names_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "kms").mkdir()
    (tmp_path / "kms" / "x.json").write_text(content)
    with pytest.raises(store.SnapshotError, match=message) as raised:
        store.load(tmp_path, "kms/x")
    assert str(tmp_path / "kms" / "x.json") in str(raised.value)


# ------------------------------------------------------------------------------------ listing


def test_listing_counts_validated_per_service() -> None:
    snapshots = [
        store.Snapshot("bigquery/a", [], validated=True, validated_at="2026-01-01", where={"tier": "gcp"}),
        store.Snapshot("bigquery/b", [], provenance=[store.Provenance("B", None, "searched")]),
        store.Snapshot("kms/c", [], provenance=[store.Provenance("C", "seen")]),
    ]
    assert [(c.service, c.validated, c.unvalidated, c.total) for c in counts(snapshots)] == [
        ("bigquery", 1, 1, 2),
        ("kms", 0, 1, 1),
        ("all", 1, 2, 3),
    ]
    table = markdown(snapshots)
    assert "| bigquery | 1 | 1 | 2 |" in table
    assert "| `bigquery/a` | yes | gcp / 2026-01-01 | - |" in table
    assert "| `bigquery/b` | not yet | ? / - | not confirmed: B |" in table
    assert "| `kms/c` | not yet | ? / - | confirmed |" in table


# ---------------------------------------------------------------------------------- recorder


class Canned(BaseAdapter):
    """Answers every request with one status and JSON body, as a Google API would."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__()
        self.status, self.body = status, body

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response._content = json.dumps(self.body).encode()
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


class NotFound(Exception):
    """Stands in for a fake's error class: status, reason, message and provenance."""

    status = 404
    reason = "notFound"
    confirmed = None
    searched = "looked everywhere"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def session(status: int = 404, body: Any = BQ_ERROR) -> requests.Session:
    http = requests.Session()
    http.mount("http://", Canned(status, body))
    return http


def run_call(recorder: SnapshotRecorder, http: requests.Session, project: str = "p1") -> None:
    recorder.watch(http)
    with recorder.expect(NotFound):
        response = http.get(
            f"http://bq.test/bigquery/v2/projects/{project}/datasets/ds_1/tables/t?a=1&b=2&b=3"
        )
        if response.status_code >= 400:
            raise RuntimeError(response.text)


def test_gcp_writes_a_validated_snapshot(tmp_path: Path) -> None:
    recorder = SnapshotRecorder("bigquery/t", "gcp", tmp_path, project="p1", update=False)
    recorder.placeholder("dataset", "ds_1")
    run_call(recorder, session())
    recorder.finish()
    written = store.load(tmp_path, "bigquery/t")
    assert written is not None and written.validated and written.validated_at
    assert written.where["tier"] == "gcp" and written.where["project"] == "**"
    assert written.provenance == [store.Provenance("NotFound", None, "looked everywhere")]
    assert written.unconfirmed == ["NotFound"]
    [item] = written.exchanges
    assert item["path"] == "/bigquery/v2/projects/<project>/datasets/<dataset:1>/tables/t"
    assert item["query"] == {"a": "1", "b": ["2", "3"]}
    assert outcome_of(item) == Outcome(404, "notFound", "Not found: Table <project>:<dataset:1>.t")


def test_emulator_compares_and_prints_the_differences(tmp_path: Path) -> None:
    writer = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=True)
    run_call(writer, session())
    writer.finish()
    assert store.load(tmp_path, "bigquery/t") == store.Snapshot(
        "bigquery/t",
        store.load(tmp_path, "bigquery/t").exchanges,  # type: ignore[union-attr]
        where=store.load(tmp_path, "bigquery/t").where,  # type: ignore[union-attr]
        provenance=[store.Provenance("NotFound", None, "looked everywhere")],
    )

    same = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="other", update=False)
    run_call(same, session(body=json.loads(json.dumps(BQ_ERROR).replace("p1", "other"))), project="other")
    same.finish()  # passes: only the project differed

    changed = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=False)
    run_call(changed, session(body=KMS_ERROR))
    with pytest.raises(pytest.fail.Exception) as failed:
        changed.finish()
    text = str(failed.value)
    assert "snapshot bigquery/t:" in text
    assert (
        'exchanges[0].response.error.message: "Not found: Table <project>:ds_1.t" vs "KeyRing x not found."'
        in text
    )


def test_emulator_update_never_overwrites_a_validated_snapshot(tmp_path: Path) -> None:
    gcp = SnapshotRecorder("bigquery/t", "gcp", tmp_path, project="p1", update=False)
    run_call(gcp, session())
    gcp.finish()
    before = (tmp_path / "bigquery" / "t.json").read_text()

    emulator = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=True)
    run_call(emulator, session(body=KMS_ERROR))
    with pytest.warns(pytest.PytestWarning, match="validated on GCP"), pytest.raises(pytest.fail.Exception):
        emulator.finish()
    assert (tmp_path / "bigquery" / "t.json").read_text() == before


def test_fake_compares_its_errors_with_the_snapshots_error_answers(tmp_path: Path) -> None:
    writer = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=True)
    writer.placeholder("dataset", "ds_1")
    run_call(writer, session())
    writer.finish()

    fake = SnapshotRecorder("bigquery/t", "fake", tmp_path, project="p1", update=False)
    fake.placeholder("dataset", "ds_9")
    with fake.expect(NotFound):
        raise NotFound("Not found: Table p1:ds_9.t")
    fake.finish()

    wrong = SnapshotRecorder("bigquery/t", "fake", tmp_path, project="p1", update=False)
    with wrong.expect(NotFound):
        raise NotFound("Not found: Dataset p1:ds_1")
    with pytest.raises(pytest.fail.Exception, match=r"errors\[0\]\.message"):
        wrong.finish()


def test_expect_insists_on_the_error(tmp_path: Path) -> None:
    fake = SnapshotRecorder("bigquery/t", "fake", tmp_path, project="p1", update=False)
    with (
        pytest.raises(AssertionError, match="expected NotFound, but the call succeeded"),
        fake.expect(NotFound),
    ):
        pass
    with (
        pytest.raises(AssertionError, match="expected NotFound, the fake raised KeyError"),
        fake.expect(NotFound),
    ):
        raise KeyError("x")
    emulator = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=False)
    with pytest.raises(AssertionError, match="failed before any error answer"), emulator.expect(NotFound):
        raise ValueError("the client refused the request itself")
    gcp = SnapshotRecorder("bigquery/t", "gcp", tmp_path, project="p1", update=False)
    with gcp.expect(NotFound):
        pass  # real GCP accepting what we refuse is a finding the snapshot records, not a failure


def test_no_snapshot_says_how_to_record_one(tmp_path: Path) -> None:
    recorder = SnapshotRecorder("kms/none", "fake", tmp_path, project="p1", update=False)
    with pytest.raises(pytest.fail.Exception, match=r"no snapshot kms/none .*--parity-update"):
        recorder.finish()


# --------------------------------------------------------------------------- through pytest

INNER = """
import pytest


class Boom(Exception):
    status = 400
    reason = "invalid"
    confirmed = "seen"

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@pytest.mark.snapshot("svc/boom")
def test_boom(parity_snapshot):
    with parity_snapshot.expect(Boom):
        raise Boom("Bad thing")


def test_unmarked(parity_snapshot):
    pass
"""


def test_the_marker_compares_through_pytest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_BACKEND", raising=False)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest("-p", "no:randomly", "--backend", "fake")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*no snapshot svc/boom in *--parity-update*"])
    result.stdout.fnmatch_lines(['*the parity_snapshot fixture needs @pytest.mark.snapshot("service/name")*'])

    body = {"error": {"code": 400, "message": "Bad other thing", "errors": [{"reason": "invalid"}]}}
    stored = store.Snapshot("svc/boom", [exchange("POST", "/x", status=400, response=body)])
    store.write(pytester.path / "tests" / "parity" / "snapshots", stored)
    result = pytester.runpytest("-p", "no:randomly", "--backend", "fake", "-k", "boom")
    result.assert_outcomes(failed=1)
    assert '  errors[0].message: "Bad other thing" vs "Bad thing"' in result.stdout.lines


# ------------------------------------------------------------- settle: the interface for scenarios


def test_settle_takes_plain_exchanges(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from harness.parity.verdict import Recording, settle

    exchanges = recording("proj-a", "ds_111", "job_aaa", "1733480000000", "https://bigquery.googleapis.com")
    gcp = Recording(
        "bigquery/job", "gcp", "proj-a", exchanges=exchanges, clients={"google-cloud-bigquery": "3"}
    )
    written = settle(
        tmp_path, gcp, Normalizer(project="proj-a"), now=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    assert (written.action, written.ok, written.path) == ("written", True, tmp_path / "bigquery" / "job.json")
    snapshot = store.load(tmp_path, "bigquery/job")
    assert snapshot is not None
    assert (snapshot.validated, snapshot.validated_at) == (True, "2026-01-02T03:04:05+00:00")
    assert snapshot.where == {"tier": "gcp", "project": "pr**-a", "clients": {"google-cloud-bigquery": "3"}}

    again = recording("proj-b", "ds_111", "job_bbb", "1733480000001", "http://127.0.0.1:1")
    verdict = settle(
        tmp_path,
        Recording("bigquery/job", "emulator", "proj-b", exchanges=again),
        Normalizer(project="proj-b"),
    )
    assert (verdict.action, verdict.differences) == ("compared", [])

    missing = settle(tmp_path, Recording("bigquery/other", "fake", "p"), Normalizer())
    assert not missing.ok
    assert missing.message("bigquery/other").startswith(f"no snapshot bigquery/other in {tmp_path}:")


def test_watch_needs_a_requests_session(tmp_path: Path) -> None:
    recorder = SnapshotRecorder("bigquery/t", "emulator", tmp_path, project="p1", update=False)
    with pytest.raises(TypeError, match="no requests session found on object"):
        recorder.watch(object())
