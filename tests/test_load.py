"""``harness load``: the quota audit and the leak verdict on their own, then two small real runs
of the command (Locust users against the served services in a child process), bounded by rounds,
never by time: a clean one whose report must carry every figure and exact quota counters, and one
with the test-only leak whose verdict must fail naming the leaking line.

The runs are subprocesses: Locust patches the standard library for gevent in the process that
imports it, which this test process must not be.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.cli.load import parse_duration, parse_think
from harness.load import leaks
from harness.load.leaks import Budget, verdict
from harness.load.ledger import Ledger
from harness.load.report import failures

REPO = Path(__file__).resolve().parents[1]
USERS = 3
ROUNDS = 2
DAILY_LIMIT = 6  # STARTER
RUN_GUARD = 600
"""Seconds a small run may take before the test gives up (a guard against a hang, not a limit)."""
KINDS = {
    "onboard", "get_org", "rotate_key", "mint_provider_key", "setup_integration",
    "run_pipeline", "get_quota", "audit_quota",
}  # fmt: skip
FIGURES = {"count", "failures", "p50_ms", "p95_ms", "p99_ms", "avg_ms", "max_ms", "per_second", "status"}


# ---------------------------------------------------------------------- the quota audit


def test_the_audit_passes_an_exact_counter_and_names_every_way_it_can_be_off() -> None:
    ledger = Ledger()
    exact, short, over, late, inflight = (ledger.tally(slug) for slug in ("a", "b", "c", "d", "e"))
    exact.accepted = 6
    short.accepted = 5
    over.accepted = 7
    late.accepted, late.refused, late.accepted_after_refusal = 6, 2, 1
    inflight.accepted, inflight.in_flight = 3, True
    assert ledger.check("a", {"pipelines_run_today": 6, "daily_limit": 6}).problem is None
    assert ledger.check("b", {"pipelines_run_today": 6, "daily_limit": 6}).problem == (
        "the server counted 6 runs, the user was given 5"
    )
    full = {"pipelines_run_today": 6, "daily_limit": 6}
    assert "over a daily limit of 6" in str(ledger.check("c", {**full, "pipelines_run_today": 7}).problem)
    assert "after the quota refused" in str(ledger.check("d", full).problem)
    # A run cut off by a forced stop may or may not have been counted: one either way, never two.
    assert ledger.check("e", {"pipelines_run_today": 4, "daily_limit": 6}).problem is None
    assert ledger.check("e", {"pipelines_run_today": 5, "daily_limit": 6}).problem is not None
    summary = ledger.summary()
    assert summary["orgs"] == 5 and summary["runs_in_flight_at_stop"] == ["e"]
    assert [m["org_slug"] for m in summary["counter_mismatches"]] == ["b", "c", "d", "e"]


# ---------------------------------------------------------------------- the leak verdict


def _memory(rss_growth_mb: float, retained_mb: float, sites: list[tuple[str, int]]) -> dict[str, Any]:
    top = [{"site": site, "size_diff_bytes": size, "count_diff": 1} for site, size in sites]
    return {
        "rss": {"growth_bytes": int(rss_growth_mb * leaks.MB), "judged": "under full load"},
        "tracemalloc": {
            "retained_after_reset": {"traced_growth_bytes": int(retained_mb * leaks.MB), "top_growth": top}
        },
    }


def test_the_verdict_fails_on_rss_or_retained_growth_and_names_only_the_sites_over_the_threshold() -> None:
    budget = Budget(rss_mb=30, retained_mb=8, site_kb=256)
    assert verdict(_memory(29.9, 7.9, [("x.py:1", 300 * 1024)]), budget) == []
    failures = verdict(_memory(31, 9, [("big.py:3", 2 * leaks.MB), ("small.py:9", 100 * 1024)]), budget)
    assert len(failures) == 2
    assert failures[0].startswith("RSS of the served process grew 31.0 MB under full load")
    assert all("big.py:3 (+2048 KiB in 1 blocks)" in failure for failure in failures)
    assert not any("small.py" in failure for failure in failures)


# ---------------------------------------------------------------------- the command's options


def test_durations_and_think_times_parse_and_nonsense_is_refused() -> None:
    assert [parse_duration(text) for text in ("60", "60s", "1.5m", "1h")] == [60, 60, 90, 3600]
    assert parse_think("0.5-2") == (0.5, 2.0) and parse_think("0") == (0.0, 0.0)
    result = CliRunner().invoke(app, ["load", "--duration", "soon"])
    assert result.exit_code == 2 and "not a duration like 60s" in result.output
    result = CliRunner().invoke(app, ["load", "--think", "2-1"])
    assert result.exit_code == 2 and "not a think time" in result.output


def test_without_locust_the_command_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.cli.load as command

    monkeypatch.setattr(command, "find_spec", lambda name: None)
    result = CliRunner().invoke(app, ["load", "--users", "1"])
    assert result.exit_code == 2
    assert "harness load needs Locust, which is in the 'load' extra" in result.output
    assert "cloudact-harness[load]" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------------- two real runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict[str, Any], str]]:
    """A clean run and a leaking one, side by side: (exit status, report, output) of each."""
    folder = tmp_path_factory.mktemp("load")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    base = ["--users", str(USERS), "--spawn-rate", str(USERS), "--rounds", str(ROUNDS), "--think", "0"]
    argv = {
        "clean": [*base, "--seed", "7"],
        "leaky": [*base, "--inject-leak", "--max-retained", "0.5", "--site-threshold", "512"],
    }
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "harness", "load", *args, "--out", str(folder / f"{name}.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for name, args in argv.items()
    }
    done = {}
    for name, process in started.items():
        output, _ = process.communicate(timeout=RUN_GUARD)
        path = folder / f"{name}.json"
        report = json.loads(path.read_text()) if path.exists() else {}
        done[name] = (process.returncode, report, output)
    return done


def test_a_small_run_reports_latency_status_throughput_and_memory_per_kind(runs: dict[str, Any]) -> None:
    status, report, output = runs["clean"]
    assert status == 0, output
    assert report["passed"] is True and report["failures"] == []
    assert report["command"].startswith("harness load --users 3")
    assert report["reached"] == {
        "peak_users": USERS,
        "all_spawned": True,
        "load_seconds": report["reached"]["load_seconds"],
    }
    kinds = report["requests"]["kinds"]
    assert set(kinds) == KINDS
    for row in [*kinds.values(), report["requests"]["total"]]:
        assert set(row) >= FIGURES
        assert row["failures"] == 0 and row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert sum(row["status"].values()) == row["count"]
    # Every request of the scenario, counted exactly: rounds, not time, bound the run.
    assert kinds["onboard"]["status"] == {"201": USERS}
    assert kinds["get_org"]["status"] == {"200": USERS * (1 + ROUNDS)}
    assert kinds["get_quota"]["status"] == {"200": USERS * ROUNDS}
    assert not any(code.startswith("5") for code in report["requests"]["total"]["status"])
    memory = report["memory"]
    rss = memory["rss"]
    assert rss["start_bytes"] > 0 and rss["samples_mb"] and rss["full_load_at_s"] is not None
    assert rss["growth_bytes"] == rss["end_bytes"] - rss["at_full_load_bytes"]
    assert {"traced_bytes", "traced_growth_bytes", "top_growth"} <= set(
        memory["tracemalloc"]["retained_after_reset"]
    )
    assert "PASSED" in output and "quota: 3 orgs" in output


def test_runs_past_the_daily_limit_are_clean_429s_and_the_counters_are_exact(runs: dict[str, Any]) -> None:
    _, report, _ = runs["clean"]
    refused = USERS * (1 + ROUNDS)  # the one that ends the climb, then one per round
    assert report["requests"]["kinds"]["run_pipeline"]["status"] == {
        "201": USERS * DAILY_LIMIT,
        "429": refused,
    }
    quota = report["quota"]
    assert quota["orgs"] == quota["orgs_audited"] == quota["orgs_refused"] == USERS
    assert quota["runs_accepted"] == USERS * DAILY_LIMIT and quota["runs_refused"] == refused
    assert quota["refusals_without_retry_after"] == 0
    assert quota["counter_mismatches"] == [] and quota["orgs_not_audited"] == []
    assert quota["runs_in_flight_at_stop"] == []


def test_an_injected_leak_fails_the_run_naming_the_line_that_keeps_allocating(runs: dict[str, Any]) -> None:
    status, report, output = runs["leaky"]
    source, first = inspect.getsourcelines(leaks.hoard)
    line = first + next(i for i, text in enumerate(source) if "_HOARD.append" in text)
    site = f"harness/load/leaks.py:{line}"
    assert status == 1, output
    assert report["passed"] is False
    top = report["memory"]["tracemalloc"]["retained_after_reset"]["top_growth"][0]
    assert top["site"] == site
    pipeline_requests = report["requests"]["kinds"]["run_pipeline"]["count"]
    assert top["size_diff_bytes"] >= pipeline_requests * leaks.HOARD_CHUNK
    assert any("outlived the run's data" in failure and site in failure for failure in report["failures"])
    # The leak is the only thing wrong with that run.
    assert all(site in failure for failure in report["failures"])
    assert report["quota"]["counter_mismatches"] == []
    assert f"the Python allocation sites that grew most: {site}" in output


def test_these_tests_never_imported_locust_here() -> None:
    # Locust patches the standard library for gevent in the process that imports it.
    assert "locust" not in sys.modules


def test_a_5xx_in_an_earlier_pass_fails_the_run_though_the_last_pass_was_clean() -> None:
    def traffic(status: dict[str, int]) -> dict[str, Any]:
        total = {"status": status, "failures": 0}
        return {"requests": {"total": total, "kinds": {"onboard": total}}}

    quota = {"refusals_without_retry_after": 0, "counter_mismatches": [], "orgs_not_audited": []}
    memory = _memory(0, 0, [])
    result = {**traffic({"201": 3}), "earlier_passes": [traffic({"201": 2, "503": 1})], "quota": quota}
    assert failures({**result, "memory": memory}, Budget()) == ["5xx responses (pass 1): {'503': 1}"]
