"""One shard of the conformance ratchet (``tests/test_conformance.py``), timed in CPU seconds.

The shard's files run through :func:`harness.conformance.runner.run_corpus` with one worker, as
the test runs them; the figure is the CPU (user + system) of the worker process, which does all
the work (the engine, the REST emulator and the client), beside the wall time. On a shared
machine CPU moves far less than wall with other load; compare two trees run side by side.
Writes ``bench/results/conformance_shard.json``.

    PYTHONPATH=$PWD python bench/bench_conformance_shard.py --shard 0
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from _results import write

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shard", type=int, default=0, help="which of the test's shards (default 0)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness.conformance.report import ratchet_passing, read_ratchet
    from harness.conformance.runner import RunOptions, run_corpus
    from tests.test_conformance import CORPUS, RATCHET, _file_of, _shards

    files = _shards()[args.shard]
    began = time.perf_counter()
    records = run_corpus(RunOptions(CORPUS, files=files, workers=1, timeout=120.0))
    wall = time.perf_counter() - began
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    ratchet = {case for case in read_ratchet(RATCHET) if _file_of(case) in files}
    write(
        "conformance_shard",
        {
            "command": f"PYTHONPATH=$PWD python bench/bench_conformance_shard.py --shard {args.shard}",
            "shard": args.shard,
            "files": len(files),
            "cases": len(records),
            "ratchet_cases": len(ratchet),
            "ratchet_regressed": len(ratchet - ratchet_passing(records)),
            "statuses": dict(Counter(record["status"] for record in records)),
            "worker_cpu_s": round(worker.ru_utime + worker.ru_stime, 2),
            "wall_s": round(wall, 2),
        },
    )


if __name__ == "__main__":
    main()
