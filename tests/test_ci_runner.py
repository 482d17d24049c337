"""The CI path: scenario files run through pytest alone.

``harness run`` is the human front end; CI gets JUnit XML from pytest's ``--junit-xml`` and shards
from pytest-split (``--splits N --group I``, durations in ``.test_durations``). These tests run an
inner pytest session with pytester over a project laid out like this repository (its root conftest
and a ``scenarios/`` directory), so the scenario items are the ones the plugin makes in CI.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import harness.backends.fake

# In-process pytester runs drop the modules first imported during a run when it ends; a second
# import of cryptography's Python layer then no longer matches its native bindings. Importing the
# fake tier here, in the outer session, keeps those modules loaded across runs.
assert harness.backends.fake

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"

PASSING = """
name: {name}
steps:
  - bootstrap: {{}}
  - onboard: {{}}
    expect: {{status: 201}}
"""

FAILING = """
name: wrong_plan
steps:
  - bootstrap: {}
  - name: onboard expecting SCALE
    onboard: {}
    expect: {status: 201, body: {subscription.plan_name: SCALE}}
  - get_org: {}
"""

GCP_ONLY = """
name: nightly_only
tiers: [gcp]
steps:
  - bootstrap: {}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner runs must not inherit the outer run's choices, and must load entry-point plugins.
    for name in ("HARNESS_BACKEND", "HARNESS_HYPOTHESIS_PROFILE", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)


def _scenario_project(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    for name, text in files.items():
        path = pytester.path / "scenarios" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip(), encoding="utf-8")


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--collect-only", "-q", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return [line for line in result.stdout.lines if line.startswith("scenarios/")]


def test_scenario_items_land_in_pytests_junit_xml_with_the_failing_step(pytester: pytest.Pytester) -> None:
    _scenario_project(
        pytester,
        {"alpha.yml": PASSING.format(name="alpha"), "wrong_plan.yml": FAILING, "nightly_only.yml": GCP_ONLY},
    )
    result = pytester.runpytest("--backend", "fake", "--junit-xml", "out/junit.xml")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    suite = ET.parse(pytester.path / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "skipped": "1",
    }
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert sorted(cases) == ["alpha", "nightly_only", "wrong_plan"]
    assert cases["alpha"].get("classname") == "scenarios.alpha.yml"
    failure = cases["wrong_plan"].find("failure")
    assert failure is not None
    report = f"{failure.get('message')}\n{failure.text}"
    assert "failing step 2/3: onboard expecting SCALE" in report
    assert 'body.subscription.plan_name: expected "SCALE", got "STARTER"' in report
    assert "replay: harness replay .harness/runs/" in report
    skipped = cases["nightly_only"].find("skipped")
    assert skipped is not None and "runs on gcp" in (skipped.get("message") or "")


def test_splits_partition_the_scenario_items(pytester: pytest.Pytester) -> None:
    names = [f"s{i}" for i in range(5)]
    _scenario_project(
        pytester,
        {
            **{
                f"{'regressions/' if i % 2 else ''}{name}.yml": PASSING.format(name=name)
                for i, name in enumerate(names)
            },
            "regressions/_configs/not_a_scenario.yml": "dataset: {id: x}\ntables: []\n",
        },
    )
    everything = _collected(pytester, "--backend", "fake,emulator")
    assert len(everything) == 10  # five scenarios, each on both tiers
    groups = [
        _collected(pytester, "--backend", "fake,emulator", "--splits", "2", "--group", str(g)) for g in (1, 2)
    ]
    assert all(groups)  # both shards get work
    assert sorted(groups[0] + groups[1]) == sorted(everything)  # every item in exactly one group
    assert not set(groups[0]) & set(groups[1])


def test_splits_follow_the_recorded_durations(pytester: pytest.Pytester) -> None:
    names = [f"s{i}" for i in range(4)]
    _scenario_project(pytester, {f"{name}.yml": PASSING.format(name=name) for name in names})
    slow = "scenarios/s2.yml::s2"
    durations = {f"scenarios/{name}.yml::{name}": 1.0 for name in names} | {slow: 100.0}
    (pytester.path / ".test_durations").write_text(json.dumps(durations), encoding="utf-8")
    groups = [
        _collected(
            pytester,
            "--backend",
            "fake",
            "--splits",
            "2",
            "--group",
            str(g),
            "--splitting-algorithm",
            "least_duration",
        )
        for g in (1, 2)
    ]
    assert [slow] in groups  # the slow scenario gets a shard to itself
    assert sorted(groups[0] + groups[1]) == sorted(durations)
