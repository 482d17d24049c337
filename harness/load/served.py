"""The served process of a load run: both services (fake tier) with tracemalloc on, answering a
line protocol on stdin/stdout (``python -m harness.load.served``).

Why a process of its own: Locust runs its users on gevent, which patches threads, sockets and
``select`` in the process that imports it; the services' event loop and DuckDB's blocking calls
would then share one OS thread with a thousand users. Apart, the server gets its own core and the
figures measured on it (RSS, allocations) are the server's alone.

Protocol: one JSON object a line. The child first prints ``{"api_url", "pipeline_url", "pid"}``
once both services accept connections, then answers each command line:

* ``mark``   — tracemalloc (re)started and a baseline snapshot taken after a full GC: from here on
  every allocation is traced, so start-up and warm-up run at full speed and do not count.
* ``compare``— a full GC, then what was allocated since the mark and is still alive: traced bytes
  and the top sites.
* ``reset``  — all state dropped (the control plane's reset), so what the run's orgs and runs
  hold no longer counts: growth left after it was kept by something that outlives its data.
* ``stop``   — graceful shutdown; answers and exits.

``--inject-leak`` (tests only) makes the pipeline-service keep 64 KiB per request
(:func:`harness.load.leaks.hoard`), a leak the verdict must find and name.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import sysconfig
import tracemalloc
from typing import Any

TOP_SITES = 15
IGNORED = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>", "<unknown>")


def _snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, pattern) for pattern in (*IGNORED, tracemalloc.__file__)]
    )


def growth(baseline: tracemalloc.Snapshot, now: tracemalloc.Snapshot, top: int = TOP_SITES) -> dict[str, Any]:
    """Traced bytes now vs the baseline, and the sites (file:line) that grew the most."""
    stats = [stat for stat in now.compare_to(baseline, "lineno") if stat.size_diff > 0]
    return {
        "traced_bytes": sum(stat.size for stat in now.statistics("filename")),
        "traced_growth_bytes": sum(stat.size_diff for stat in now.compare_to(baseline, "filename")),
        "top_growth": [
            {
                "site": f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}",
                "size_diff_bytes": stat.size_diff,
                "count_diff": stat.count_diff,
            }
            for stat in stats[:top]
        ],
    }


def _short(filename: str) -> str:
    """A path from the project's root, site-packages or the standard library, not the machine's."""
    stdlib = sysconfig.get_paths()["stdlib"] + os.sep
    if filename.startswith(stdlib):
        return "stdlib/" + filename[len(stdlib) :]
    for marker in ("/site-packages/", f"{os.sep}harness{os.sep}", f"{os.sep}fakes{os.sep}"):
        if marker in filename:
            tail = filename.rpartition(marker)[2]
            return tail if marker == "/site-packages/" else marker.strip(os.sep) + os.sep + tail
    return filename


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.load.served")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames kept per allocation")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--inject-leak", action="store_true", help="tests only: keep 64 KiB per request")
    args = parser.parse_args(argv)
    from harness.load.leaks import leaky_services
    from harness.serve import ServiceProcess

    kind = leaky_services() if args.inject_leak else ServiceProcess
    services = kind(seed=args.seed)
    services.start()
    out = sys.stdout
    _say(out, {"api_url": services.api_url, "pipeline_url": services.pipeline_url, "pid": os.getpid()})
    baseline: tracemalloc.Snapshot | None = None
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "mark":
                tracemalloc.stop()
                gc.collect()
                tracemalloc.start(args.frames)
                baseline = _snapshot()
                _say(out, {"traced_bytes": tracemalloc.get_traced_memory()[0]})
            elif command == "compare" and baseline is not None:
                _say(out, growth(baseline, _snapshot()))
            elif command == "reset":
                services.reset()
                _say(out, {"reset": True})
            elif command == "stop":
                break
            else:
                _say(out, {"error": f"unknown command {command!r} (compare needs a mark first)"})
    finally:
        services.stop()
    _say(out, {"stopped": True})
    return 0


def _say(out: Any, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main())
