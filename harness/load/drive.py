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
from harness.load.leaks import Budget
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
    passes: int = 1
    """The measured load, repeated on empty state; RSS is judged on the last pass, when the first
    ones have paid every one-time cost (DuckDB's buffers, caches filled, threads started)."""
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
        spawned: list[int] = []  # Locust's own count when the last user is up, not a poll's
        # Locust passes user_count by keyword: list.append itself would not take it.
        env.events.spawning_complete.add_listener(lambda user_count: spawned.append(user_count))  # noqa: PLW0108
        probe.start_sampling(plan.sample_every)
        t0 = time.monotonic()
        passes: list[dict[str, Any]] = []
        traffic: list[dict[str, Any]] = []
        for number in range(plan.passes):
            if number:  # each pass on empty state: the previous one's orgs and runs are gone
                probe.reset()
                forget_provider_keys()
            status.clear()  # Locust clears its own statistics when a stopped runner starts again
            passes.append(_one_pass(runner, plan, probe, spawned, t0))
            traffic.append(
                {
                    "requests": reports.request_figures(env.stats, status, passes[-1]["seconds"]),
                    "errors": reports.error_list(env.stats),
                }
            )
        probe.stop_sampling()
        load_seconds = sum(one["seconds"] for one in passes)
        peak_users = max(one["peak_users"] for one in passes)
        last = passes[-1]
        rss_end = last["end_bytes"]
        end_of_run = probe.compare()
        probe.reset()
        retained = probe.compare()
        rss_after_reset = probe.rss()
        runner.quit()

    samples = [*probe.samples, (last["ended_at_s"], rss_end)]
    earlier = ", ".join(f"{one['growth_bytes'] / 2**20:+.1f}" for one in passes[:-1])
    memory = {
        "rss": {
            "judged": "under full load"
            + (f" in the last of {len(passes)} passes (the earlier ones: {earlier} MB)" if earlier else ""),
            "start_bytes": rss_start,
            "full_load_at_s": last["full_load_at_s"],
            "at_full_load_bytes": last["at_full_load_bytes"],
            "peak_bytes": max(rss for _, rss in samples),
            "end_bytes": rss_end,
            "after_reset_bytes": rss_after_reset,
            "growth_bytes": last["growth_bytes"],
            "growth_from_idle_bytes": rss_end - rss_start,
            "passes": passes,
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
        **traffic[-1],
        "earlier_passes": traffic[:-1],
        "quota": LEDGER.summary(),
        "memory": memory,
    }
    result["failures"] = reports.failures(result, plan.budget)
    result["passed"] = not result["failures"]
    return result


def _one_pass(
    runner: Any, plan: LoadPlan, probe: ServedProbe, spawned: list[int], t0: float
) -> dict[str, Any]:
    """One measured load (all users, up to the bound, drained); its RSS figures. Times are
    seconds from the first pass's start, as the samples' are."""
    began = time.monotonic()
    rss_start = probe.rss()
    full_load: dict[str, Any] = {}
    already = len(spawned)

    def all_running() -> None:
        full_load.update(at=round(time.monotonic() - t0, 2), rss=probe.rss())

    runner.start(plan.users, spawn_rate=plan.spawn_rate)
    peak = max(_until_done(runner, plan, began, all_running), *spawned[already:], 0)
    runner.stop()  # graceful: each user finishes its request, then audits its org
    ended = time.monotonic()
    rss_end = probe.rss()
    at_full_load = int(full_load.get("rss", rss_start))
    return {
        "started_at_s": round(began - t0, 2),
        "full_load_at_s": full_load.get("at"),
        "ended_at_s": round(ended - t0, 2),
        "seconds": round(ended - began, 2),
        "peak_users": peak,
        "start_bytes": rss_start,
        "at_full_load_bytes": at_full_load,
        "end_bytes": rss_end,
        "growth_bytes": rss_end - at_full_load,
    }


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


__all__ = ["LoadPlan", "run_load"]
