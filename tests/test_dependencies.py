"""The declared dependencies match what the code imports: a plain ``pip install`` (no extras) runs the
default tier, the CLI and the pytest plugin; extras hold only optional tiers and tools.

An AST scan of ``harness/`` and ``fakes/`` finds every third-party import. One at module level
(outside ``if TYPE_CHECKING:``) runs whenever its module is imported, so its distribution must be a
runtime dependency named directly (not only reached through another one, which may drop it). An
import inside a function runs only when called: those are the optional ones, and each must be in an
extra and fail soft where the module says it does. constraints.txt pins exactly what all the lists
need. tests/test_wheel.py proves the runtime list by installing the wheel with exactly its closure.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.distribution import requirement_closure

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "fakes")
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

OPTIONAL_IMPORTS = {
    "docker": ("containers", "harness/pytest_plugin/probes.py"),
    "testcontainers": ("containers", "harness/containers/extra.py"),
    "locust": ("load", "harness/cli/load.py"),
}
"""The imports allowed to be missing at run time: the extra that provides each, and the only module
that may import it (lazily: inside a function, or guarded by ``except ImportError``)."""

PYTEST_PLUGIN = "harness/pytest_plugin/"
"""pytest itself is the user's own tool: the plugin is only loaded by a running pytest."""

LOAD_PACKAGE = "harness/load/"
"""``harness load``'s package: imported only by that command once it found Locust (the ``load``
extra), so its module-level imports come from that extra."""


@dataclass(frozen=True)
class Import:
    module: str
    """The top-level import name (``google.cloud`` keeps its second part: a namespace package)."""
    path: str
    line: int
    lazy: bool
    """Inside a function or under ``if TYPE_CHECKING:`` (not run when the module is imported), or in
    a ``try`` that catches ``ImportError`` (the module imports without it)."""


def _import_name(dotted: str) -> str:
    parts = dotted.split(".")
    return ".".join(parts[:2]) if parts[0] == "google" and len(parts) > 1 else parts[0]


def _walk(node: ast.AST, path: str, lazy: bool) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            names = [alias.name for alias in child.names]
        elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
            names = [child.module]
        else:
            names = []
        for name in names:
            yield Import(_import_name(name), path, child.lineno, lazy)
        inner_lazy = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            inner_lazy = True
        if isinstance(child, ast.Try) and any(
            handler.type and "ImportError" in ast.unparse(handler.type) for handler in child.handlers
        ):
            inner_lazy = True
        yield from _walk(child, path, inner_lazy)


def third_party_imports() -> list[Import]:
    """Every import in harness/ and fakes/ of a module outside the standard library and this project."""
    found = []
    for package in PACKAGES:
        for file in sorted((REPO / package).rglob("*.py")):
            path = file.relative_to(REPO).as_posix()
            for imp in _walk(ast.parse(file.read_text(), path), path, lazy=False):
                top = imp.module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in PACKAGES and top != "__future__":
                    found.append(imp)
    return found


def _declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(text).name) for text in requirements}


RUNTIME = _declared(PROJECT["dependencies"])
EXTRAS = {name: _declared(reqs) for name, reqs in PROJECT["optional-dependencies"].items()}


def distributions_of(module: str) -> set[str]:
    """The installed distributions that provide import name ``module`` (several for a namespace
    package's parent; ``google.cloud`` is told apart below)."""
    top, _, sub = module.partition(".")
    providers = {canonicalize_name(dist) for dist in _import_names().get(top, [])}
    if not sub:
        return providers
    return {dist for dist in providers if _provides(dist, f"{top}/{sub}/")}


@cache
def _import_names() -> dict[str, list[str]]:
    return packages_distributions()


def _provides(dist: str, prefix: str) -> bool:
    return any(str(file).startswith(prefix) for file in distribution(dist).files or ())


IMPORTS = third_party_imports()


def test_the_scan_sees_the_imports_it_must() -> None:
    # The scan itself: the lazy docker probe, a module-level import, one under TYPE_CHECKING.
    by_module = {(imp.module, imp.path): imp.lazy for imp in IMPORTS}
    assert by_module[("docker", "harness/pytest_plugin/probes.py")] is True
    assert by_module[("httpx2", "fakes/provider_mocks.py")] is False
    assert by_module[("testcontainers", "harness/containers/extra.py")] is True
    assert by_module[("google.cloud", "harness/backends/bigquery.py")] is False


MODULE_LEVEL = sorted(
    {imp.module for imp in IMPORTS if not imp.lazy and not imp.path.startswith((PYTEST_PLUGIN, LOAD_PACKAGE))}
)


@pytest.mark.parametrize("module", MODULE_LEVEL)
def test_every_module_level_import_is_a_direct_runtime_dependency(module: str) -> None:
    providers = distributions_of(module)
    assert providers, f"no installed distribution provides {module!r}"
    where = sorted({f"{imp.path}:{imp.line}" for imp in IMPORTS if imp.module == module and not imp.lazy})
    assert providers & RUNTIME, (
        f"{module} is imported at module level ({', '.join(where[:3])}) but none of "
        f"{sorted(providers)} is in [project].dependencies"
    )


def test_the_pytest_plugin_needs_nothing_beyond_the_runtime_and_pytest() -> None:
    plugin = {imp.module for imp in IMPORTS if imp.path.startswith(PYTEST_PLUGIN) and not imp.lazy}
    missing = {
        module: sorted(distributions_of(module))
        for module in plugin
        if module not in ("pytest", "_pytest") and not distributions_of(module) & RUNTIME
    }
    assert not missing


def test_the_load_package_needs_nothing_beyond_the_runtime_and_the_load_extra() -> None:
    load = {imp.module for imp in IMPORTS if imp.path.startswith(LOAD_PACKAGE) and not imp.lazy}
    assert "locust" in load
    missing = {
        module: sorted(distributions_of(module))
        for module in load
        if not distributions_of(module) & (RUNTIME | EXTRAS["load"])
    }
    assert not missing


def test_optional_imports_are_lazy_in_their_one_module_and_in_an_extra() -> None:
    outside_load = [imp for imp in IMPORTS if not imp.path.startswith(LOAD_PACKAGE)]
    lazy_outside_runtime = {
        imp for imp in outside_load if imp.lazy and not distributions_of(imp.module) & RUNTIME
    }
    for imp in sorted(lazy_outside_runtime, key=lambda i: (i.path, i.line)):
        top = imp.module.split(".")[0]
        assert top in OPTIONAL_IMPORTS, f"{imp.path}:{imp.line} imports {imp.module}, in no dependency list"
        extra, module_path = OPTIONAL_IMPORTS[top]
        assert imp.path == module_path, f"{top} is imported from {imp.path}, not only {module_path}"
        assert canonicalize_name(top) in EXTRAS[extra]
    for top, (_, module_path) in OPTIONAL_IMPORTS.items():
        assert all(imp.lazy for imp in outside_load if imp.module.split(".")[0] == top), top
        assert any(imp.path == module_path for imp in outside_load if imp.module.split(".")[0] == top)


def test_extras_are_only_tools_and_optional_tiers() -> None:
    assert set(EXTRAS) == {"dev", "containers", "load"}
    assert not (EXTRAS["dev"] | EXTRAS["containers"] | EXTRAS["load"]) & RUNTIME  # nothing declared twice
    assert {"respx", "httpx2"} <= RUNTIME  # the fake tier's provider mount (issue 13)


def test_the_docker_probe_fails_soft_without_the_docker_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from harness.pytest_plugin import probes

    monkeypatch.setitem(sys.modules, "docker", None)  # import docker -> ImportError
    monkeypatch.setattr(probes, "DOCKER_SOCKET", str(tmp_path / "docker.sock"))
    probes.docker_problem.cache_clear()
    try:
        problem = probes.docker_problem()
    finally:
        probes.docker_problem.cache_clear()
    assert problem is not None and "the docker package is not installed" in problem


def test_constraints_pin_exactly_the_installed_closure_of_every_dependency_list() -> None:
    # ./run_e2e.sh setup installs with -c constraints.txt: every distribution the runtime and the
    # extras need is pinned there, at the version installed here, and nothing else is.
    pinned = {
        canonicalize_name(name): version
        for name, _, version in (
            line.strip().partition("==")
            for line in (REPO / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    }
    everything = [
        *PROJECT["dependencies"],
        *(req for reqs in PROJECT["optional-dependencies"].values() for req in reqs),
    ]
    closure = requirement_closure(everything)
    assert sorted(set(closure) - set(pinned)) == [], "installed but not pinned"
    assert sorted(set(pinned) - set(closure)) == [], "pinned but needed by nothing"
    assert {name: dist.version for name, dist in closure.items() if dist.version != pinned[name]} == {}
