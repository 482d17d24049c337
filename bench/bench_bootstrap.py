"""Bootstrap of the 15 meta tables on a fresh in-memory fake, repeated: median wall time."""

from __future__ import annotations

import argparse
import time

from _results import summarize, write

from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.onboarding.bootstrap import bootstrap
from harness.schema.loader import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    config = load_config()
    bootstrap(FakeWarehouse.in_memory(ManualClock()), config)  # warm imports and DuckDB
    samples = []
    for _ in range(args.runs):
        warehouse = FakeWarehouse.in_memory(ManualClock())
        started = time.perf_counter()
        report = bootstrap(warehouse, config)
        samples.append(time.perf_counter() - started)
        assert len(report.created) == len(config)
        warehouse.engine.close()
    write("bootstrap", {"tables": len(config), "fresh_engine_per_run": True, **summarize(samples)})


if __name__ == "__main__":
    main()
