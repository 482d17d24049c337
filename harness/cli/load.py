"""``harness load``: the api-service and the pipeline-service, served by a child process, under
many concurrent scenario-shaped users (Locust), bounded in time or in rounds; a JSON report in
``bench/results/`` and exit status 1 when anything failed (a 5xx, an unclean quota refusal, a quota
counter off, a leak), 2 when the run could not start (Locust missing, the services did not start).

Locust is an optional dependency (the ``load`` extra): without it the command says so and which
extra to install, nothing more.
"""

from __future__ import annotations

import re
import shlex
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer

EXTRA_HINT = "pip install 'cloudact-harness[load]' (or the dev extra)"
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>s|m|h)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """``60``, ``60s``, ``1.5m``, ``1h`` as seconds (> 0)."""
    match = _DURATION.match(text.strip())
    if not match or float(match["n"]) <= 0:
        raise typer.BadParameter(f"{text!r} is not a duration like 60s, 2m or 1h")
    return float(match["n"]) * _UNITS[match["unit"] or "s"]


def parse_think(text: str) -> tuple[float, float]:
    """``0.5-2`` (a range) or ``1`` (a constant) as (min, max) seconds."""
    low, _, high = text.strip().partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        bounds = (-1.0, -1.0)
    if not 0 <= bounds[0] <= bounds[1]:
        raise typer.BadParameter(f"{text!r} is not a think time like 0.5-2 or 0")
    return bounds


def load_command(
    users: Annotated[int, typer.Option("--users", "-u", min=1, help="Concurrent users at the peak.")] = 1000,
    spawn_rate: Annotated[
        float, typer.Option("--spawn-rate", "-r", min=0.1, help="Users started per second.")
    ] = 50.0,
    duration: Annotated[
        str | None,
        typer.Option(
            "--duration",
            "-t",
            help="How long the load lasts from the first user (60s, 2m); default 60s, or until the "
            "users have done their --rounds when those are given.",
        ),
    ] = None,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            min=0,
            help="Steady-state rounds (read org, read quota, refused run) each user does after the "
            "quota refused it, then stops: a run bounded in requests, not time (0: until --duration).",
        ),
    ] = 0,
    think: Annotated[
        str,
        typer.Option("--think", help="Seconds each user waits between requests: MIN-MAX (0 for none)."),
    ] = "0.5-2",
    stop_timeout: Annotated[
        float,
        typer.Option(
            "--stop-timeout", min=0, help="Seconds users may take to finish their request at the end."
        ),
    ] = 300.0,
    passes: Annotated[
        int,
        typer.Option(
            "--passes",
            min=1,
            help="Repeat the measured load on empty state; RSS is judged on the last pass (the first "
            "pays one-time costs: DuckDB's buffers, caches, threads).",
        ),
    ] = 1,
    max_rss_growth: Annotated[
        float,
        typer.Option(
            "--max-rss-growth",
            min=0,
            help="MB the served process's RSS may grow under full load (every user running to the end).",
        ),
    ] = 30.0,
    max_retained: Annotated[
        float,
        typer.Option(
            "--max-retained",
            min=0,
            help="MB of Python allocations that may outlive the run's data (kept after a reset).",
        ),
    ] = 8.0,
    site_threshold: Annotated[
        float, typer.Option("--site-threshold", min=0, help="KiB from which a grown site is named.")
    ] = 256.0,
    frames: Annotated[
        int, typer.Option("--tracemalloc-frames", min=1, help="Frames tracemalloc keeps per allocation.")
    ] = 1,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the fakes' keys and data.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", dir_okay=False, help="Report file (default bench/results/load-<when>.json)."
        ),
    ] = None,
    inject_leak: Annotated[bool, typer.Option("--inject-leak", hidden=True)] = False,
) -> None:
    """Load the served api-service and pipeline-service with scenario-shaped users (onboard, read,
    rotate, integrate, run pipelines until the quota refuses) and report latency percentiles,
    throughput, status codes, quota accounting and the served process's memory growth."""
    if find_spec("locust") is None:
        typer.echo(f"error: harness load needs Locust, which is in the 'load' extra: {EXTRA_HINT}", err=True)
        raise typer.Exit(2)
    seconds = parse_duration(duration) if duration else (None if rounds else 60.0)
    think_time = parse_think(think)

    import locust  # noqa: F401 - first: it patches the standard library for gevent

    from harness.load.drive import LoadPlan, run_load
    from harness.load.leaks import Budget
    from harness.load.probe import ProbeError
    from harness.load.report import default_path, summary, write

    plan = LoadPlan(
        users=users,
        spawn_rate=spawn_rate,
        duration=seconds,
        rounds=rounds,
        passes=passes,
        stop_timeout=stop_timeout,
        think=think_time,
        seed=seed,
        frames=frames,
        inject_leak=inject_leak,
        budget=Budget(rss_mb=max_rss_growth, retained_mb=max_retained, site_kb=site_threshold),
    )
    command = shlex.join(["harness", *sys.argv[1:]])
    try:
        report = run_load(plan, command)
    except ProbeError as exc:
        typer.echo(f"error: the served services: {exc}", err=True)
        raise typer.Exit(2) from None
    path = write(report, out or default_path(Path.cwd()))
    for line in summary(report):
        typer.echo(line)
    typer.echo(f"report: {path}")
    if not report["passed"]:
        raise typer.Exit(1)


__all__ = ["load_command", "parse_duration", "parse_think"]
