"""``--quick``: the inner-loop run keeps the fake tier and the fast tests, and says what it left out.

An inner pytest session (pytester) with the plugin loaded through its entry point, as a user's run
loads it. Nothing here builds backends: the tier-aware test only asks for ``harness_tier``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"

SUITE = """
from pathlib import Path

import pytest

def test_plain():
    pass

def test_tiered(harness_tier):
    assert harness_tier in ("fake", "emulator")

@pytest.mark.harness(tier="emulator")
def test_emulator_only(harness_tier):
    assert harness_tier == "emulator"

@pytest.mark.slow
def test_slow():
    pass

@pytest.mark.emulator
def test_needs_emulator():
    pass

@pytest.mark.requires_docker
def test_docker():
    pass
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HARNESS_BACKEND", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_SKIP_DOCKER", "1")


def test_quick_runs_the_fake_tier_without_slow_emulator_and_docker_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-v", "--backend", "fake,emulator", "--quick")
    result.assert_outcomes(passed=2, deselected=4)
    result.stdout.fnmatch_lines(["*--quick: fake tier only*", "*test_plain PASSED*", "*test_tiered PASSED*"])
    assert "emulator]" not in result.stdout.str()


def test_without_quick_every_tier_and_marker_is_collected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-v", "--backend", "fake,emulator")
    result.assert_outcomes(passed=6, skipped=1)
    result.stdout.fnmatch_lines(["*test_tiered?fake? PASSED*", "*test_tiered?emulator? PASSED*"])
    assert "--quick" not in result.stdout.str()


def test_quick_leaves_out_what_the_durations_file_records_as_slow(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_timed="\n".join(f"def test_{name}():\n    pass\n" for name in ("fast", "recorded_slow", "new")),
        test_all_slow="raise ImportError('a module recorded slow throughout is not imported')\n"
        "def test_a():\n    pass\n",
    )
    pytester.path.joinpath(".test_durations").write_text(
        '{"test_timed.py::test_fast": 0.01, "test_timed.py::test_recorded_slow": 2.5,'
        ' "test_all_slow.py::test_a": 3.0}',
        encoding="utf-8",
    )
    result = pytester.runpytest("-v", "--quick")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(["*slower than 0.05 s*", "*test_fast PASSED*", "*test_new PASSED*"])
    assert "test_recorded_slow PASSED" not in result.stdout.str()

    loose = pytester.runpytest("-v", "--quick", "--quick-max-seconds", "10", "test_timed.py")
    loose.assert_outcomes(passed=3)
    named = pytester.runpytest("--quick", "test_all_slow.py")
    named.assert_outcomes(errors=1)  # named on the command line, it is imported (and refuses to be)


def test_quick_finds_fake_tier_records_and_keeps_slow_scenarios(pytester: pytest.Pytester) -> None:
    """With one tier the tier is no parameter, so ``test_x[fake-a]`` is collected as ``test_x[a]``:
    its record still leaves it out. A scenario item recorded slow is kept, being the flow itself."""
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    pytester.path.joinpath("scenarios").mkdir()
    pytester.path.joinpath("scenarios", "flow.yml").write_text(
        "name: flow\ndescription: Only the bootstrap.\nsteps:\n  - bootstrap: {}\n", encoding="utf-8"
    )
    pytester.makepyfile(
        test_qtiers="import pytest\n\n"
        "def test_slow(harness_tier):\n    pass\n\n"
        "def test_fast(harness_tier):\n    pass\n\n"
        "@pytest.mark.parametrize('p', ['a', 'b'])\ndef test_param(harness_tier, p):\n    pass\n"
    )
    durations = {
        "test_qtiers.py::test_slow[fake]": 2.0,
        "test_qtiers.py::test_fast[fake]": 0.01,
        "test_qtiers.py::test_param[fake-a]": 2.0,
        "test_qtiers.py::test_param[fake-b]": 0.01,
        "scenarios/flow.yml::flow[fake]": 2.0,
    }
    assert _quick_selection(pytester, durations) == {
        "test_qtiers.py::test_fast",
        "test_qtiers.py::test_param[b]",
        "scenarios/flow.yml::flow",
    }


def test_quick_leaves_out_tests_that_would_pay_for_a_slow_shared_set_up(
    pytester: pytest.Pytester,
) -> None:
    """A module fixture's set-up is recorded against its first test: the rest of its group is left
    out with it when their share of it is over the limit, and kept when it is not."""
    fixture = "import pytest\n\n@pytest.fixture(scope='module')\ndef shared():\n    return 1\n\n"
    pytester.makepyfile(
        test_costly=fixture
        + "".join(f"def test_{n}(shared):\n    pass\n\n" for n in ("first", "second"))
        + "def test_alone():\n    pass\n",
        test_cheap=fixture
        + "".join(f"def test_{n}(shared):\n    pass\n\n" for n in ("first", "b", "c", "d")),
    )
    durations = {
        "test_costly.py::test_first": 3.0,
        "test_costly.py::test_second": 0.001,
        "test_costly.py::test_alone": 0.001,
        "test_cheap.py::test_first": 0.08,
        **{f"test_cheap.py::test_{n}": 0.001 for n in ("b", "c", "d")},
    }
    assert _quick_selection(pytester, durations) == {
        "test_costly.py::test_alone",
        "test_cheap.py::test_b",
        "test_cheap.py::test_c",
        "test_cheap.py::test_d",
    }


def _quick_selection(pytester: pytest.Pytester, durations: dict[str, float]) -> set[str]:
    """The ids ``--quick`` collects with ``durations`` as the durations file."""
    pytester.path.joinpath(".test_durations").write_text(json.dumps(durations), encoding="utf-8")
    result = pytester.runpytest("--collect-only", "-q", "--quick")
    return {line for line in result.stdout.lines if "::" in line}
