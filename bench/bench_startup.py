"""Start-up: the whole ``harness run scenarios/full_onboarding.yml`` process on the fake tier,
``harness --version`` and the import of the CLI, each a fresh Python process; beside them the
import of the third-party libraries a fake-tier run needs (:data:`FLOOR`), which no change to
the harness can take away.

Every command runs ``python -m harness`` from a source tree (``PYTHONPATH`` and working directory),
so the tree measured is the one named, not whatever the console script was installed from. With
``--vs REF`` the same commands run from a temporary git worktree of ``REF`` too, interleaved run by
run with this tree's, so both see the same machine load and the ratio comes from one invocation.

Bytecode is cached, as in any installed Python: each tree gets its own cache directory
(``PYTHONPYCACHEPREFIX``), filled by a warm-up run, even where ``PYTHONDONTWRITEBYTECODE`` is set
(``--no-bytecode-cache`` keeps that setting instead: every module of the tree compiled each run).
Wall time is the figure; CPU time (user + system of the child) is printed beside it, since on a
shared machine it moves less with other load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _results import summarize, write

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/full_onboarding.yml"


#: The libraries a fake-tier run cannot do without, loaded and nothing else: the CLI (typer, rich),
#: FastAPI and Starlette's TestClient (the services and provider fakes are driven in-process),
#: DuckDB with a database (no Python function: registering one loads numpy, which a full_onboarding
#: run no longer does), sqlglot's two dialects, the respx / httpx2
#: provider mounts, pydantic-settings, PyYAML and the AES primitives. No harness or fakes code:
#: how far a run is above this is how much of its start-up is ours (and the flow's).
FLOOR = (
    "import typer, rich.console, fastapi, starlette.testclient, duckdb, respx, httpx2, yaml, "
    "pydantic_settings, sqlglot.dialects.bigquery, sqlglot.dialects.duckdb\n"
    "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
    "duckdb.connect()"
)


def commands(runs_dir: Path) -> dict[str, list[str]]:
    """What is timed, by name: arguments after the Python interpreter."""
    run = ["-m", "harness", "run", SCENARIO, "--backend", "fake", "--runs-dir", str(runs_dir)]
    return {
        "run_full_onboarding": run,
        "version": ["-m", "harness", "--version"],
        "import_cli": ["-c", "import harness.cli"],
        "third_party_floor": ["-c", FLOOR],
    }


def environment(tree: Path, cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env["PYTHONPATH"] = str(tree)
    env["NO_COLOR"] = "1"
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def timed(args: list[str], tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """One run: (wall seconds, CPU seconds of the child); a failing command stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} in {tree} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A detached git worktree of ``ref`` in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        path = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def measure(trees: dict[str, Path], runs: int, bytecode_cache: bool) -> dict[str, dict[str, object]]:
    """Each tree's commands, interleaved: run i of every (tree, command) before run i + 1."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        work = Path(scratch)
        envs = {
            name: environment(tree, work / f"pyc-{name}" if bytecode_cache else None)
            for name, tree in trees.items()
        }
        todo = commands(work / "runs")
        for name, tree in trees.items():  # warm-up: fills the bytecode cache, checks each command
            for args in todo.values():
                timed(args, tree, envs[name])
        samples: dict[tuple[str, str], tuple[list[float], list[float]]] = {
            (name, command): ([], []) for name in trees for command in todo
        }
        for _ in range(runs):
            for name, tree in trees.items():
                for command, args in todo.items():
                    wall, cpu = timed(args, tree, envs[name])
                    samples[name, command][0].append(wall)
                    samples[name, command][1].append(cpu)
    figures: dict[str, dict[str, object]] = {name: {} for name in trees}
    for (name, command), (walls, cpus) in samples.items():
        figures[name][command] = {
            "command": "python " + " ".join(todo[command]).replace(str(work / "runs"), "<tmp>"),
            "wall": summarize(walls),
            "cpu_median_ms": round(statistics.median(cpus) * 1000, 3),
        }
        wall = figures[name][command]["wall"]
        print(
            f"{name:>8} {command:<20} wall median {wall['median_ms']:8.1f} ms"  # type: ignore[index]
            f"  min {wall['min_ms']:8.1f} ms  cpu median {statistics.median(cpus) * 1000:8.1f} ms"  # type: ignore[index]
        )
    return figures


def _ratio(now: object, then: object) -> float:
    return round(float(now) / float(then), 2)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--vs", metavar="REF", help="Also measure this git commit, interleaved (e.g. 3d6d01e)."
    )
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="Keep PYTHONDONTWRITEBYTECODE as it is set."
    )
    args = parser.parse_args()
    bytecode_cache = not args.no_bytecode_cache
    body: dict[str, object] = {
        "command": "python bench/bench_startup.py " + " ".join(sys.argv[1:]),
        "bytecode_cache": bytecode_cache,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if args.vs is None:
        body["current"] = measure({"current": ROOT}, args.runs, bytecode_cache)["current"]
    else:
        with worktree(args.vs) as base:
            figures = measure({"current": ROOT, args.vs: base}, args.runs, bytecode_cache)
        body["current"], body[args.vs] = figures["current"], figures[args.vs]
        now, then = figures["current"], figures[args.vs]
        body["ratio_current_over_" + args.vs] = {
            command: {
                "wall_median": _ratio(now[command]["wall"]["median_ms"], then[command]["wall"]["median_ms"]),  # type: ignore[index]
                "cpu_median": _ratio(now[command]["cpu_median_ms"], then[command]["cpu_median_ms"]),
            }
            for command in now
        }
    write("startup", body)


if __name__ == "__main__":
    main()
