"""The fake's overhead over raw DuckDB for the same work.

Work: insert N generated rows into a DAY-partitioned, clustered table, then run a parameterised
GROUP BY. Through the fake that is BigQuery SQL translated by sqlglot, schema checks on every row
and BigQuery-typed results; raw DuckDB gets the equivalent columnar insert and native SQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import duckdb
from _results import summarize, write

from fakes.bigquery.warehouse import FakeWarehouse
from harness.clock import ManualClock
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec, TimePartitioning

SPEC = TableSpec(
    table_id="usage",
    schema=(
        FieldSpec("org_slug", FieldType.STRING, FieldMode.REQUIRED),
        FieldSpec("usage_date", FieldType.DATE, FieldMode.REQUIRED),
        FieldSpec("model", FieldType.STRING),
        FieldSpec("input_tokens", FieldType.INTEGER),
        FieldSpec("cost_usd", FieldType.NUMERIC),
        FieldSpec("recorded_at", FieldType.TIMESTAMP),
    ),
    time_partitioning=TimePartitioning(field="usage_date"),
    clustering_fields=("org_slug", "model"),
)
BQ_QUERY = (
    "SELECT model, COUNT(*) AS n, SUM(input_tokens) AS tokens, SUM(cost_usd) AS cost "
    "FROM bench.usage WHERE org_slug = @org AND usage_date >= @since GROUP BY model ORDER BY model"
)
DUCK_QUERY = (
    "SELECT model, COUNT(*) AS n, SUM(input_tokens) AS tokens, SUM(cost_usd) AS cost "
    "FROM usage WHERE org_slug = $org AND usage_date >= $since GROUP BY model ORDER BY model"
)


def generate(count: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        {
            "org_slug": f"org_{rng.randrange(50)}",
            "usage_date": (start + timedelta(days=rng.randrange(90))).date(),
            "model": f"model-{rng.randrange(20)}",
            "input_tokens": rng.randrange(1_000_000),
            "cost_usd": Decimal(rng.randrange(1_000_000)) / Decimal(10_000),
            "recorded_at": start + timedelta(seconds=rng.randrange(7_776_000)),
        }
        for _ in range(count)
    ]


def through_fake(rows: list[dict[str, object]], params: dict[str, object]) -> tuple[float, float, list]:
    warehouse = FakeWarehouse.in_memory(ManualClock())
    warehouse.create_dataset("bench")
    warehouse.create_table("bench", SPEC)
    started = time.perf_counter()
    warehouse.insert_rows("bench", "usage", rows)
    inserted = time.perf_counter()
    result = warehouse.query(BQ_QUERY, params).rows
    done = time.perf_counter()
    warehouse.engine.close()
    return inserted - started, done - inserted, result


def through_duckdb(rows: list[dict[str, object]], params: dict[str, object]) -> tuple[float, float, list]:
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(
        "CREATE TABLE usage (org_slug VARCHAR NOT NULL, usage_date DATE NOT NULL, model VARCHAR, "
        "input_tokens BIGINT, cost_usd DECIMAL(38,9), recorded_at TIMESTAMPTZ)"
    )
    columns = [f.name for f in SPEC.schema]
    started = time.perf_counter()
    values = {name: [row[name] for row in rows] for name in columns}
    conn.execute(
        "INSERT INTO usage SELECT unnest($org_slug), unnest($usage_date), unnest($model), "
        "unnest($input_tokens), unnest($cost_usd), unnest($recorded_at)",
        values,
    )
    inserted = time.perf_counter()
    result = conn.execute(DUCK_QUERY, params).fetchall()
    done = time.perf_counter()
    conn.close()
    return inserted - started, done - inserted, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = generate(args.rows)
    params = {"org": "org_7", "since": datetime(2025, 2, 1).date()}
    fake_insert, fake_query, duck_insert, duck_query = [], [], [], []
    for _ in range(args.runs):
        insert_s, query_s, fake_rows = through_fake(rows, params)
        fake_insert.append(insert_s)
        fake_query.append(query_s)
        insert_s, query_s, duck_rows = through_duckdb(rows, params)
        duck_insert.append(insert_s)
        duck_query.append(query_s)
        assert [r["n"] for r in fake_rows] == [r[1] for r in duck_rows], "fake and DuckDB disagree"
    fake_total = [a + b for a, b in zip(fake_insert, fake_query, strict=True)]
    duck_total = [a + b for a, b in zip(duck_insert, duck_query, strict=True)]
    fake, duck = summarize(fake_total), summarize(duck_total)
    write(
        "fake_overhead",
        {
            "command": "python bench/bench_fake_overhead.py " + " ".join(sys.argv[1:]),
            "rows": args.rows,
            "fake": {"insert": summarize(fake_insert), "group_by": summarize(fake_query), "total": fake},
            "raw_duckdb": {
                "insert": summarize(duck_insert),
                "group_by": summarize(duck_query),
                "total": duck,
            },
            "overhead_ratio_total": round(fake["median_ms"] / duck["median_ms"], 2),
            "overhead_ratio_insert": round(
                summarize(fake_insert)["median_ms"] / summarize(duck_insert)["median_ms"], 2
            ),
            "overhead_ratio_group_by": round(
                summarize(fake_query)["median_ms"] / summarize(duck_query)["median_ms"], 2
            ),
        },
    )


if __name__ == "__main__":
    main()
