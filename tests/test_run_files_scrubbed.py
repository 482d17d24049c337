"""Nothing secret on disk: a scenario with a literal provider credential, an org API key and the
root key pasted in is run, and no file of its run directory — nor of a regression made from it —
holds any of them, even those the run never sent. The scrubbed copy still replays the same way."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from harness.scenario.loader import load_scenario
from harness.scenario.model import Tier
from harness.scenario.outcome import FAILED
from harness.scenario.records import Scrubber, learn_scenario
from harness.scenario.regressions import REPRODUCED, make_regression, replay_regression
from harness.scenario.replay import replay
from harness.scenario.runner import run_scenario
from harness.services.settings import Settings

ROOT_KEY = "planted-root-key-0123456789abcdef"
API_KEY = "pl_api_PlantedApiKey0123456789abcdefghijklmnopq"
CREDENTIAL = "sk-proj-PlantedCredential0123456789abcdefXYZ"
UNSENT_API_KEY = "pl_api_NeverSentKey0123456789abcdefghijklmnopq"
COMMENTED = "sk-ant-admin01-InAComment0123456789abcdefghijkl"
PLANTED = (ROOT_KEY, API_KEY, CREDENTIAL, UNSENT_API_KEY, COMMENTED)
EMULATOR_VARIABLES = ("BIGQUERY_EMULATOR_HOST", "KMS_ENDPOINT", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL")

SCENARIO = f"""
# reported with a key pasted in: {COMMENTED}
name: planted
variables:
  org: pl_{{run_id}}
org: {{slug: "{{org}}"}}
steps:
  - bootstrap: {{}}
  - name: root key by hand
    http: {{method: GET, path: "/api/v1/organizations/{{org}}", auth: none,
           headers: {{X-CA-Root-Key: {ROOT_KEY}}}}}
    expect: {{status: 404}}
  - onboard: {{}}
  - name: an api key by hand
    get_org: {{auth: "{API_KEY}"}}
    expect: {{status: 401}}
  - name: a credential by hand
    setup_integration: {{provider: openai, credential: {CREDENTIAL}}}
    expect: {{status: 400, error: INTEGRATION_VALIDATION_FAILED}}
  - name: the bug
    count_rows: {{table: org_profiles}}
    expect: {{rows: 99}}
  - name: never sent
    get_org: {{auth: "{UNSENT_API_KEY}"}}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", "HARNESS_RECORD_MODE", *EMULATOR_VARIABLES):
        monkeypatch.delenv(name, raising=False)


def leaks(directory: Path) -> list[str]:
    """``file: secret`` for every planted secret found in any file under ``directory``."""
    files = [path for path in directory.rglob("*") if path.is_file()]
    assert files
    return [
        f"{path.relative_to(directory)}: {secret}"
        for path in files
        for secret in PLANTED
        if secret in path.read_text(encoding="utf-8", errors="replace")
    ]


def planted_run(tmp_path: Path, tier: Tier) -> Path:
    path = tmp_path / "planted.yml"
    path.write_text(textwrap.dedent(SCENARIO).lstrip(), encoding="utf-8")
    settings = Settings(ca_root_api_key=SecretStr(ROOT_KEY))
    outcome = run_scenario(
        load_scenario(path),
        source=path,
        tier=tier,
        settings=settings,
        record=True,
        runs_dir=tmp_path / "runs",
    )
    assert outcome.status == FAILED and outcome.failed_step is not None, outcome.failure_report()
    assert outcome.failed_step.name == "the bug", outcome.failure_report()
    assert outcome.record_path is not None
    return outcome.record_path.parent


def test_no_file_of_a_fake_run_or_its_regression_holds_a_planted_secret(tmp_path: Path) -> None:
    run = planted_run(tmp_path, Tier.FAKE)
    assert sorted(p.name for p in run.iterdir()) == ["record.json", "scenario.yml"]
    assert leaks(run) == []
    copy = (run / "scenario.yml").read_text(encoding="utf-8")
    assert "X-CA-Root-Key: <root_key:1>" in copy and "credential: <credential:" in copy
    regression = make_regression(run, into=tmp_path / "regressions", name="planted")
    assert leaks(regression) == []


def test_the_scrubbed_copy_replays_as_the_run_went(tmp_path: Path) -> None:
    """The root key's placeholder is sent as the replaying run's root key; the other placeholders
    are keys nobody issued, as the literals were: the replay fails at the same step."""
    run = planted_run(tmp_path, Tier.FAKE)
    again = replay(run, runs_dir=tmp_path / "replays")  # this machine's root key, not the planted one
    assert again.failed_step is not None and again.failed_step.name == "the bug", again.failure_report()
    assert [s.ok for s in again.steps[:5]] == [True] * 5
    verdict, _ = replay_regression(make_regression(run, into=tmp_path / "r", name="p"), runs_dir=None)
    assert verdict.status == REPRODUCED, verdict.message
    assert leaks(tmp_path / "replays") == []


@pytest.mark.emulator
def test_no_file_of_an_emulator_run_with_a_cassette_holds_a_planted_secret(tmp_path: Path) -> None:
    run = planted_run(tmp_path, Tier.EMULATOR)
    assert sorted(p.name for p in run.iterdir()) == ["cassette.json", "record.json", "scenario.yml"]
    assert leaks(run) == []
    assert leaks(make_regression(run, into=tmp_path / "regressions", name="planted")) == []


def test_what_a_scenario_holds_literally_is_learned_and_what_chooses_or_checks_is_not() -> None:
    scrub = Scrubber()
    learn_scenario(
        scrub,
        {
            "variables": {"spare": COMMENTED},
            "steps": [
                {
                    "onboard": {},
                    "save": {"api_key": "body.api_key"},
                    "expect": {"body": {"api_key": "!= null"}},
                },
                {"get_org": {"auth": "{spare}"}},
                {"get_org": {"auth": API_KEY}},
                {"setup_integration": {"provider": "openai", "credential": "invalid"}},
                {
                    "http": {
                        "method": "GET",
                        "path": "/",
                        "headers": {"Authorization": "Bearer tok_0123456789"},
                    }
                },
            ],
        },
    )
    text = f"body.api_key != null {{spare}} invalid {API_KEY} {COMMENTED} Bearer tok_0123456789"
    assert (
        scrub.text(text)
        == "body.api_key != null {spare} invalid <api_key:1> <credential:1> Bearer <credential:2>"
    )
