"""One load run: the served process up, Locust's users on it for a bounded time (or a bounded
number of rounds), a graceful drain, the quota audit, the memory figures, the verdict.

RSS growth is judged from the moment every user is running to the end of the load: getting to
full concurrency costs the server a one-time high-water mark (a worker thread per concurrent
request up to the thread pool's size, each with its own allocator arena, and the connections'
buffers) that is not a leak; memory that keeps growing under a steady load is. The growth from
idle is reported too.

Before the measured load, one user goes through the whole scenario (the warm-up: caches that the
first requests fill, such as SQL translations, are then in place), and all state is reset: the
baseline is a warm, empty server.

Locust runs here as a library (``Environment`` + ``LocalRunner``) in this process, the services in
a child (:mod:`harness.load.served`; why: see there). Two bounds, whichever comes first: the
duration (from the first user spawned; then users finish their current request, ``stop_timeout``
at most) and, with ``rounds``, the users' own end.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gevent
from locust.env import Environment

from harness.load import report as reports
from harness.load.leaks import Budget, verdict
from harness.load.ledger import LEDGER
from harness.load.probe import ServedProbe
from harness.load.users import THINK, OrgUser, forget_provider_keys, options

POLL = 0.25
OPEN_FILES = 16384
WARM_UP_GUARD = 120.0
"""Seconds the warm-up user may take (a guard: it ends by itself after one round)."""


@dataclass(frozen=True)
class LoadPlan:
    users: int = 1000
    spawn_rate: float = 50.0
    duration: float | None = 60.0
    """Seconds of load from the first user on; ``None``: until every user has done its rounds."""
    rounds: int = 0
    """Steady-state rounds per user after the quota refused it (0: until the duration ends)."""
    stop_timeout: float = 300.0
    think: tuple[float, float] = THINK
    seed: int | None = None
    frames: int = 1
    inject_leak: bool = False
    budget: Budget = field(default_factory=Budget)
    sample_every: float = 1.0


def run_load(plan: LoadPlan, command: str) -> dict[str, Any]:
    """Run ``plan``; the report (``passed`` false when anything failed: see ``failures``)."""
    raise_open_files()
    started_at = reports.machine()
    LEDGER.orgs.clear()
    LEDGER.audits.clear()
    status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with ServedProbe(seed=plan.seed, frames=plan.frames, inject_leak=plan.inject_leak) as probe:
        env = Environment(
            user_classes=[OrgUser],
            host=probe.api_url,
            parsed_options=options(pipeline_host=probe.pipeline_url, rounds=plan.rounds, think=plan.think),
            stop_timeout=plan.stop_timeout,
        )

        def count(name: str, response: Any = None, **_: Any) -> None:
            code = getattr(response, "status_code", 0)
            status[name][str(code) if code else "no_response"] += 1

        env.events.request.add_listener(count)
        runner = env.create_local_runner()
        _warm_up(env, runner)
        status.clear()
        probe.reset()
        forget_provider_keys()
        baseline = probe.mark()
        rss_start = probe.rss()
        probe.start_sampling(plan.sample_every)
        spawned: list[int] = []  # Locust's own count when the last user is up, not a poll's
        # Locust passes user_count by keyword: list.append itself would not take it.
        env.events.spawning_complete.add_listener(lambda user_count: spawned.append(user_count))  # noqa: PLW0108
        began = time.monotonic()
        runner.start(plan.users, spawn_rate=plan.spawn_rate)
        full_load: dict[str, float] = {}

        def all_running() -> None:
            full_load.update(at=round(time.monotonic() - began, 2), rss=probe.rss())

        peak_users = max(_until_done(runner, plan, began, all_running), *spawned, 0)
        runner.stop()  # graceful: each user finishes its request, then audits its org
        load_seconds = time.monotonic() - began
        probe.stop_sampling()
        rss_end = probe.rss()
        end_of_run = probe.compare()
        probe.reset()
        retained = probe.compare()
        rss_after_reset = probe.rss()
        runner.quit()

    samples = [*probe.samples, (round(load_seconds, 2), rss_end)]
    memory = {
        "rss": {
            "start_bytes": rss_start,
            "full_load_at_s": full_load.get("at"),
            "at_full_load_bytes": int(full_load.get("rss", rss_start)),
            "peak_bytes": max(rss for _, rss in samples),
            "end_bytes": rss_end,
            "after_reset_bytes": rss_after_reset,
            "growth_bytes": rss_end - int(full_load.get("rss", rss_start)),
            "growth_from_idle_bytes": rss_end - rss_start,
            "samples_mb": [[at, round(rss / 2**20, 1)] for at, rss in samples],
        },
        "tracemalloc": {
            "frames": plan.frames,
            "baseline_traced_bytes": baseline["traced_bytes"],
            "end_of_run": end_of_run,
            "retained_after_reset": retained,
        },
    }
    result: dict[str, Any] = {
        "benchmark": "load",
        "command": command,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": started_at,
        "plan": {**asdict(plan), "budget": asdict(plan.budget)},
        "reached": {
            "peak_users": peak_users,
            "all_spawned": peak_users >= plan.users,
            "load_seconds": round(load_seconds, 2),
        },
        "requests": reports.request_figures(env.stats, status, load_seconds),
        "errors": reports.error_list(env.stats),
        "quota": LEDGER.summary(),
        "memory": memory,
    }
    result["failures"] = failures(result, plan.budget)
    result["passed"] = not result["failures"]
    return result


def raise_open_files(wanted: int = OPEN_FILES) -> None:
    """Each user holds a connection to each service: lift this process's soft limit on open files
    (often 1,024) towards ``wanted``, as far as the hard limit allows (the served child inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _warm_up(env: Environment, runner: Any) -> None:
    """One user, one round of the scenario without think time; then Locust's statistics and the
    tallies are emptied."""
    opts = env.parsed_options
    kept = (opts.rounds, opts.think)
    opts.rounds, opts.think = 1, [0.0, 0.0]
    runner.start(1, spawn_rate=1)
    _until_done(runner, LoadPlan(users=1, duration=WARM_UP_GUARD, rounds=1), time.monotonic(), lambda: None)
    runner.stop()
    opts.rounds, opts.think = kept
    env.stats.reset_all()
    LEDGER.orgs.clear()
    LEDGER.audits.clear()


def _until_done(runner: Any, plan: LoadPlan, began: float, all_running: Callable[[], None]) -> int:
    """Wait for the duration to pass or every user to end; the peak number of users running.
    ``all_running`` is called once, when the last user has been spawned."""
    peak = 0
    spawned = False
    while True:
        gevent.sleep(POLL)
        peak = max(peak, runner.user_count)
        if not spawned and (not runner.spawning_greenlet or runner.spawning_greenlet.dead):
            spawned = True
            all_running()
        if plan.duration is not None and time.monotonic() - began >= plan.duration:
            return peak
        if spawned and runner.user_count == 0 and peak:
            return peak


def failures(result: dict[str, Any], budget: Budget) -> list[str]:
    """Everything that fails a run: a 5xx, any request not answered as the scenario expects, an
    unclean 429, a quota counter off by one run, an org left unaudited, a leak."""
    found = []
    total = result["requests"]["total"]
    server_errors = {code: n for code, n in total["status"].items() if code.startswith("5")}
    if server_errors:
        found.append(f"5xx responses: {server_errors}")
    if total["failures"]:
        kinds = {
            name: row["failures"] for name, row in result["requests"]["kinds"].items() if row["failures"]
        }
        found.append(f"{total['failures']} requests not answered as expected: {kinds}")
    quota = result["quota"]
    if quota["refusals_without_retry_after"]:
        found.append(f"{quota['refusals_without_retry_after']} quota refusals were not clean 429s")
    found.extend(
        f"quota counter of {mismatch['org_slug']}: {mismatch['problem']}"
        for mismatch in quota["counter_mismatches"][:10]
    )
    if quota["orgs_not_audited"]:
        found.append(f"{len(quota['orgs_not_audited'])} orgs were never audited")
    found.extend(verdict(result["memory"], budget))
    return found


__all__ = ["LoadPlan", "failures", "run_load"]
