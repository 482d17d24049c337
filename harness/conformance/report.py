"""What a conformance run says: the per-file table on stdout, JSON under ``bench/results/``, and
the ratchet (the committed ids of passing cases) compared with the run."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FAILING = ("fail", "error", "no_error", "crash", "timeout", "unreadable")


def per_file(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = {}
    for record in records:
        table.setdefault(record["file"], Counter())[record["status"]] += 1
    return {name: dict(counts) for name, counts in sorted(table.items())}


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(r["status"] for r in records)
    in_scope = sum(v for k, v in statuses.items() if k != "out_of_scope")
    disagreements = [r["id"] for r in records if r.get("disagreement")]
    return {
        "cases": len(records),
        "in_scope": in_scope,
        "passed": statuses["pass"],
        "pass_rate": round(100 * statuses["pass"] / in_scope, 1) if in_scope else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "faces_disagree": len(disagreements),
    }


def write_results(records: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "summary": summary(records),
        "files": per_file(records),
        "not_passing": [
            {k: r[k] for k in ("id", "status", "detail", "disagreement") if k in r}
            for r in records
            if r["status"] in FAILING or r.get("disagreement")
        ],
    }
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def table_lines(records: list[dict[str, Any]]) -> list[tuple[str, int, int, int, str]]:
    """(file, in scope, passed, out of scope, rate) rows, worst rate first."""
    rows = []
    for name, counts in per_file(records).items():
        in_scope = sum(v for k, v in counts.items() if k != "out_of_scope")
        passed = counts.get("pass", 0)
        rate = f"{100 * passed / in_scope:.0f}%" if in_scope else "-"
        rows.append((name, in_scope, passed, counts.get("out_of_scope", 0), rate))
    rows.sort(key=lambda row: (row[2] / row[1] if row[1] else 2.0, row[0]))
    return rows


def read_ratchet(path: Path) -> set[str]:
    """The case ids of a ratchet (or unstable-cases) file: each line that is not a comment, up to
    two spaces or a tab (what follows is a reason; a case name may hold single spaces)."""
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        re.split(r"\s{2,}|\t", line.strip())[0] for line in lines if line.strip() and not line.startswith("#")
    }


def write_ratchet(path: Path, ids: Iterable[str]) -> None:
    header = (
        "# GoogleSQL compliance cases the BigQuery fake passes on the engine and the REST face.\n"
        "# The default test run fails when one of these fails; `harness conformance --update-ratchet`\n"
        "# adds the newly passing ones. Never remove a line to make a run pass.\n"
    )
    path.write_text(header + "".join(f"{case}\n" for case in sorted(ids)), encoding="utf-8")


def ratchet_passing(records: list[dict[str, Any]]) -> set[str]:
    """Cases that pass and whose faces agree (both pass)."""
    return {
        r["id"] for r in records if r["status"] == "pass" and set(r.get("faces", {}).values()) <= {"pass"}
    }
