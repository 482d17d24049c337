"""The load run's report: every figure in one JSON document (with the command that produced it),
the summary lines ``harness load`` prints, and the verdict (what fails a run)."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.load.leaks import MB, Budget, verdict

PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}
TOP_ERRORS = 20


def request_figures(stats: Any, status: Mapping[str, Mapping[str, int]], seconds: float) -> dict[str, Any]:
    """Per request kind (and in total): count, failures, p50/p95/p99/avg/max latency, throughput,
    and the responses by status code. ``stats`` is Locust's ``RequestStats``."""
    kinds: dict[str, Any] = {}
    for (name, _method), entry in sorted(stats.entries.items()):
        kinds[name] = _entry(entry, dict(sorted(status.get(name, {}).items())), seconds)
    every: dict[str, int] = {}
    for by_code in status.values():
        for code, count in by_code.items():
            every[code] = every.get(code, 0) + count
    total = _entry(stats.total, dict(sorted(every.items())), seconds)
    return {"kinds": kinds, "total": total}


def _entry(entry: Any, status: dict[str, int], seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {"count": entry.num_requests, "failures": entry.num_failures}
    for label, share in PERCENTILES.items():
        figures[label] = entry.get_response_time_percentile(share) if entry.num_requests else None
    figures["avg_ms"] = round(entry.avg_response_time, 1)
    figures["max_ms"] = round(entry.max_response_time or 0, 1)
    figures["per_second"] = round(entry.num_requests / seconds, 1) if seconds else None
    figures["status"] = status
    return figures


def error_list(stats: Any) -> list[dict[str, Any]]:
    """The distinct failures Locust saw, most frequent first."""
    errors = sorted(stats.errors.values(), key=lambda error: -error.occurrences)
    return [
        {"kind": error.name, "error": str(error.error)[:300], "occurrences": error.occurrences}
        for error in errors[:TOP_ERRORS]
    ]


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "platform": f"{platform.machine()} {platform.system()}",
    }


def write(report: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return out


def default_path(root: Path) -> Path:
    when = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / "bench" / "results" / f"load-{when}.json"


def summary(report: dict[str, Any]) -> list[str]:
    """What a person reads after the run: latency and status per kind, quota, memory, verdict."""
    reached = report["reached"]
    plan = report["plan"]
    lines = [
        f"load: {reached['peak_users']} of {plan['users']} users reached "
        f"(spawn rate {plan['spawn_rate']}/s) for {reached['load_seconds']:.1f} s on "
        f"{report['machine']['cores']} cores",
        f"  {'kind':<18} {'count':>7} {'fail':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7}  status",
    ]
    requests = report["requests"]
    for name, row in [*requests["kinds"].items(), ("total", requests["total"])]:
        codes = " ".join(f"{code}:{count}" for code, count in row["status"].items())
        lines.append(
            f"  {name:<18} {row['count']:>7} {row['failures']:>5} {_ms(row['p50_ms'])} "
            f"{_ms(row['p95_ms'])} {_ms(row['p99_ms'])} {row['per_second'] or 0:>7.1f}  {codes}"
        )
    quota = report["quota"]
    lines.append(
        f"  quota: {quota['orgs']} orgs, {quota['runs_accepted']} runs accepted, "
        f"{quota['runs_refused']} refused ({quota['refusals_without_retry_after']} unclean), "
        f"{quota['orgs_refused']} orgs reached their limit, {len(quota['counter_mismatches'])} counter "
        f"mismatches in {quota['orgs_audited']} audited"
    )
    memory = report["memory"]
    rss = memory["rss"]
    retained = memory["tracemalloc"]["retained_after_reset"]
    lines.append(
        f"  memory (served process): RSS idle {rss['start_bytes'] / MB:.1f} MB, all users running "
        f"{rss['at_full_load_bytes'] / MB:.1f} MB, end {rss['end_bytes'] / MB:.1f} MB (growth under "
        f"full load {rss['growth_bytes'] / MB:+.1f} MB, peak {rss['peak_bytes'] / MB:.1f} MB); "
        f"allocations kept after reset {retained['traced_growth_bytes'] / MB:+.2f} MB"
    )
    if len(rss["passes"]) > 1:
        growths = ", ".join(f"{one['growth_bytes'] / MB:+.1f}" for one in rss["passes"])
        lines.append(f"  RSS growth under full load, pass by pass: {growths} MB (the last one is judged)")
        lines.append("  (requests above: the last pass; the earlier ones are in the report)")
    lines.extend(
        f"    {site['site']}: {site['size_diff_bytes'] / 1024:+.0f} KiB"
        for site in retained["top_growth"][:3]
    )
    verdict = "PASSED" if report["passed"] else "FAILED"
    lines.append(f"{verdict}" + ("" if report["passed"] else ":"))
    lines.extend(f"  - {failure}" for failure in report["failures"])
    return lines


def _ms(value: float | None) -> str:
    return f"{value:>7.0f}" if value is not None else f"{'-':>7}"


def failures(result: dict[str, Any], budget: Budget) -> list[str]:
    """Everything that fails a run: a 5xx, any request not answered as the scenario expects, an
    unclean 429, a quota counter off by one run, an org left unaudited, a leak."""
    found = []
    for number, traffic in enumerate([*result["earlier_passes"], result], start=1):
        where = f" (pass {number})" if result["earlier_passes"] else ""
        total = traffic["requests"]["total"]
        server_errors = {code: n for code, n in total["status"].items() if code.startswith("5")}
        if server_errors:
            found.append(f"5xx responses{where}: {server_errors}")
        if total["failures"]:
            kinds = {
                name: row["failures"] for name, row in traffic["requests"]["kinds"].items() if row["failures"]
            }
            found.append(f"{total['failures']} requests not answered as expected{where}: {kinds}")
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


__all__ = ["default_path", "error_list", "failures", "machine", "request_figures", "summary", "write"]
