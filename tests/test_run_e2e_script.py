"""./run_e2e.sh and .ci/run, exercised without reinstalling anything or re-entering the test suite.

Everything that would install or run pytest happens in a throwaway copy of the script whose
``.venv/bin/python`` is a logging wrapper: pip and pytest calls are recorded and answered with a
chosen exit code, everything else goes to the real interpreter.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "run_e2e.sh"
CI_RUN = ROOT / ".ci" / "run"
BASH = shutil.which("bash") or "/bin/bash"
ANSI = "\x1b["
MODES = ("main", "setup", "test", "help")


def _env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
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


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("path", [SCRIPT, CI_RUN], ids=["run_e2e.sh", ".ci/run"])
def test_scripts_pass_shellcheck(path: Path) -> None:
    result = subprocess.run(["shellcheck", str(path)], capture_output=True, text=True, check=False)
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
        assert mode in result.stdout
    assert "NO_COLOR" in result.stdout


def test_unknown_mode_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "unknown mode 'frobnicate'" in result.stderr
    assert "Usage:" in result.stderr


@pytest.mark.parametrize("mode", ["setup", "main"])
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
echo "harness $*" >> "{log}"
echo "bootstrapped 15 tables"
exit "${{FAKE_HARNESS_RC:-0}}"
"""


class FakeRepo:
    def __init__(self, tmp_path: Path) -> None:
        self.root = _copy_repo(tmp_path)
        self.log = tmp_path / "calls.log"
        self.log.touch()
        bin_dir = self.root / ".venv" / "bin"
        _write_executable(bin_dir / "python", FAKE_PYTHON.format(log=self.log, real=sys.executable))
        _write_executable(bin_dir / "harness", FAKE_HARNESS.format(log=self.log))
        self.stamp = self.root / ".venv" / ".harness-install-stamp"

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        return run(*args, script=self.root / "run_e2e.sh", env=_env(NO_COLOR="1", **env))

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


def test_main_mode_bootstraps_the_fake_backend(fake_repo: FakeRepo) -> None:
    result = fake_repo.run()
    assert result.returncode == 0, result.stderr
    assert fake_repo.calls("harness") == ["harness e2e"]
    assert "bootstrapped 15 tables" in result.stdout


def test_main_mode_propagates_a_bootstrap_failure(fake_repo: FakeRepo) -> None:
    result = fake_repo.run(FAKE_HARNESS_RC="3")
    assert result.returncode == 3
    assert "harness e2e failed" in result.stderr


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
