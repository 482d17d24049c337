"""Start-up imports only what the command and the tier need (issue 19): checked as module sets in
a fresh interpreter, never as seconds.

* ``import harness.cli``, ``harness --version`` and ``harness --help`` load no command's
  implementation: no web framework, no database, no SQL translator, no YAML, no pydantic, no
  event loop.
* A fake-tier ``harness run`` loads no Google client (BigQuery, KMS, api_core, auth, grpc,
  protobuf), no server (uvicorn) and nothing of the test tooling (hypothesis, pytest); nor numpy
  when its statements call none of the fake BigQuery's Python functions.

``bench/bench_startup.py`` times the same commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Not needed to print the version or the help, nor to build the command tree.
NOT_FOR_THE_CLI = (
    "fakes",
    "fastapi",
    "starlette",
    "uvicorn",
    "duckdb",
    "sqlglot",
    "numpy",
    "httpx",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "asyncio",
    "google",
    "grpc",
    "hypothesis",
    "importlib.metadata",
    "harness.scenario",
    "harness.services",
    "harness.onboarding",
    "harness.schema.loader",
)

#: Not needed on the fake tier: the real clients and their transports, servers, test tooling.
NOT_FOR_THE_FAKE_TIER = (
    "google.cloud",
    "google.api_core",
    "google.auth",
    "google.protobuf",
    "grpc",
    "uvicorn",
    "hypothesis",
    "pytest",
    "_pytest",
    "harness.backends.emulator",
    "harness.backends.gcp",
    "harness.backends.bigquery",
    "harness.backends.kms",
    "harness.emulators",
    "harness.control_client",
)

#: Not needed by a run whose scenarios call no Anthropic API (``full_onboarding`` connects OpenAI).
NOT_WITHOUT_ANTHROPIC = ("fakes.anthropic.rest",)

#: Not needed by a run whose statements call none of the fake BigQuery's Python functions
#: (``full_onboarding`` calls none: its NUMERIC sums are macros): DuckDB imports numpy when the
#: first is registered.
NOT_WITHOUT_PYTHON_FUNCTIONS = ("numpy",)

#: Not needed once the runs directory holds this translator's translations (the second run).
NOT_WHEN_TRANSLATIONS_ARE_KEPT = ("sqlglot.dialects.duckdb", "sqlglot.generators.duckdb")

_REPORT = "import json, sys; print(json.dumps(sorted(sys.modules)))"


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    """The modules loaded by ``code`` then a report, in a fresh interpreter run from this tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{_REPORT}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_importing_the_cli_loads_no_command_implementation(tmp_path: Path) -> None:
    modules = _modules_after("import harness.cli", tmp_path)
    assert _loaded(modules, NOT_FOR_THE_CLI) == []
    assert "typer" in modules  # the check sees what was imported


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_version_and_help_load_no_command_implementation(tmp_path: Path, option: str) -> None:
    code = (
        "from harness.cli import app\n"
        "try:\n"
        f"    app([{option!r}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code"
    )
    modules = _modules_after(code, tmp_path)
    assert _loaded(modules, tuple(p for p in NOT_FOR_THE_CLI if p != "importlib.metadata")) == []


def _run(scenario: str, runs: Path) -> str:
    return (
        "from harness.cli import app\n"
        "try:\n"
        f"    app(['run', {str(ROOT / 'scenarios' / scenario)!r}, '--backend', 'fake', "
        f"'--runs-dir', {str(runs)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code"
    )


@pytest.mark.parametrize("scenario", ["full_onboarding.yml"])
def test_a_fake_tier_run_loads_no_google_client_server_or_test_tooling(tmp_path: Path, scenario: str) -> None:
    runs = tmp_path / "runs"
    modules = _modules_after(_run(scenario, runs), tmp_path)
    assert _loaded(modules, NOT_FOR_THE_FAKE_TIER) == []
    assert _loaded(modules, NOT_WITHOUT_ANTHROPIC) == []
    assert _loaded(modules, NOT_WITHOUT_PYTHON_FUNCTIONS) == []
    assert {
        "duckdb",
        "fastapi",
        "fakes.bigquery.engine",
        "fakes.openai.rest",
    } <= modules  # it ran on the fakes
    assert list(runs.glob("*/record.json")), "the run left no record"


def test_a_second_run_translates_from_the_runs_directory(tmp_path: Path) -> None:
    """The first run keeps its translations under the runs directory; the second, of the same code,
    reads them and never loads sqlglot's DuckDB generator. ``harness runs list`` lists only runs."""
    runs = tmp_path / "runs"
    first = _modules_after(_run("full_onboarding.yml", runs), tmp_path)
    assert set(NOT_WHEN_TRANSLATIONS_ARE_KEPT) <= first  # it translated
    kept = list((runs / ".translations").glob("*.jsonl"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    second = _modules_after(_run("full_onboarding.yml", runs), tmp_path)
    assert _loaded(second, NOT_WHEN_TRANSLATIONS_ARE_KEPT) == []
    assert "fakes.bigquery.translation_store" in second
    assert len(list(runs.glob("*/record.json"))) == 2
    listed = _modules_after(
        "from harness.scenario.run_index import list_runs\n"
        f"assert len(list_runs(__import__('pathlib').Path({str(runs)!r}))) == 2",
        tmp_path,
    )
    assert "harness.scenario.run_index" in listed
