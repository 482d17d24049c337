"""A fresh virtual environment holding a built wheel and exactly the distributions it needs, made
offline from the ones installed in the running (dev) environment. Used by tests/test_wheel.py.

Why links and not ``pip install``: the suite runs offline, and pip would resolve against an index.
Each needed distribution's files (from its ``RECORD``, through ``importlib.metadata``) are symlinked
file by file into the new site-packages, so a namespace package shared by several distributions
(``google/``) only shows the parts of the ones linked: nothing else of the dev environment, above all
not its editable install of this project, is importable there. Test-only, hence under tests/: a user
installs the wheel with pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterable
from importlib.metadata import Distribution
from pathlib import Path

CLEARED_ENV_PREFIXES = ("PYTHON", "PYTEST_", "HARNESS_", "VIRTUAL_ENV", "PIP_")
"""Variables of the calling environment that would reach back into it (``PYTHONPATH`` names the
checkout) or change what runs (``PYTEST_ADDOPTS``, ``HARNESS_BACKEND``)."""


class FreshEnv:
    """A virtual environment at ``root`` with no pip and nothing installed yet."""

    def __init__(self, root: Path) -> None:
        self.root = root
        venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(root)
        self.bin = root / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"
        purelib = sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)})
        self.site_packages = Path(purelib)

    def link(self, distributions: Iterable[Distribution]) -> int:
        """Symlink every installed file of ``distributions`` (their scripts excepted) into this
        environment's site-packages; returns how many files were linked."""
        linked = 0
        for dist in distributions:
            for file in dist.files or ():
                if file.parts[0] == ".." or file.suffix == ".pth":
                    continue  # console scripts live outside site-packages; .pth files run code
                source = Path(str(dist.locate_file(file)))
                target = self.site_packages / file
                if not source.exists() or target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(source)
                linked += 1
        return linked

    def install_wheel(self, wheel: Path) -> None:
        """Install ``wheel`` alone (``--no-deps``, no index) with the running pip, for this
        environment's interpreter: pip writes its console scripts and RECORD as for any user."""
        result = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), "install", "--quiet",
             "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)],
            capture_output=True, text=True, env=self.env(), timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"pip could not install {wheel.name}:\n{result.stdout}{result.stderr}"

    def env(self) -> dict[str, str]:
        """The environment for commands run in this venv: this venv's bin first on ``PATH``, and
        nothing that points back at the caller's environment or checkout."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(CLEARED_ENV_PREFIXES)}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.root)
        return env

    def run(self, *argv: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` (a program in this venv's bin, or ``python``) in ``cwd``, output captured."""
        program, *rest = (str(arg) for arg in argv)
        return subprocess.run(
            [str(self.bin / program), *rest],
            cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def installed(self) -> set[str]:
        """Canonical names of the distributions this venv's interpreter sees."""
        probe = (
            "import importlib.metadata as m; from packaging.utils import canonicalize_name as c; "
            "print('\\n'.join(sorted({c(d.metadata['Name']) for d in m.distributions()})))"
        )
        result = self.run("python", "-c", probe, cwd=self.root)
        assert result.returncode == 0, result.stderr
        return set(result.stdout.split())
