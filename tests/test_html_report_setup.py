"""``./run_e2e.sh test`` makes the HTML report's browser test run in CI: as root it installs
Debian's chromium when it is missing; as anyone else it says the test will be skipped.

The script runs in a throwaway copy with a faked venv (tests/test_run_e2e_script.py's FakeRepo)
and a fake ``apt-get`` first on PATH that only logs its arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_run_e2e_script import BASH, FakeRepo, _write_executable

FAKE_APT = """#!/bin/sh
echo "$*" >> "{log}"
"""


@pytest.fixture
def repo(tmp_path: Path) -> FakeRepo:
    return FakeRepo(tmp_path)


def _run_test_mode(repo: FakeRepo, tmp_path: Path, **env: str) -> tuple[str, list[str]]:
    apt_log = tmp_path / "apt.log"
    apt_log.touch()
    bin_dir = tmp_path / "fake-bin"
    _write_executable(bin_dir / "apt-get", FAKE_APT.format(log=apt_log))
    env.setdefault("HARNESS_INSTALL_CHROMIUM", "1")
    result = repo.run("test", PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr, apt_log.read_text().splitlines()


def test_a_missing_chromium_is_installed_as_root_and_named_otherwise(repo: FakeRepo, tmp_path: Path) -> None:
    output, apt = _run_test_mode(repo, tmp_path, HARNESS_CHROMIUM=str(tmp_path / "no-chromium"))
    if os.geteuid() == 0:
        assert apt == ["update -qq", "install -y -qq chromium"]
        assert "Installing chromium for the HTML report's browser test" in output
    else:
        assert apt == []
        assert "is not installed: the HTML report's browser test is skipped" in output
    assert repo.calls("pytest") == ["-m pytest -n auto -q"]  # the suite runs either way


def test_a_browser_already_there_is_used_as_it_is(repo: FakeRepo, tmp_path: Path) -> None:
    output, apt = _run_test_mode(repo, tmp_path, HARNESS_CHROMIUM=BASH)
    assert apt == []
    assert "chromium" not in output


def test_installing_can_be_turned_off(repo: FakeRepo, tmp_path: Path) -> None:
    output, apt = _run_test_mode(
        repo, tmp_path, HARNESS_CHROMIUM=str(tmp_path / "no-chromium"), HARNESS_INSTALL_CHROMIUM="0"
    )
    assert apt == []
    assert "chromium" not in output
