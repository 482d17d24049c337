"""Wall time of one pipeline run ingesting 30 days × 20 models through the pipeline-service on
the fake tier (OpenAI usage and costs, pagination, load, data-quality checks)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta

from _results import summarize, write
from fastapi.testclient import TestClient

from harness.backends.fake import build_fake
from harness.clock import ManualClock
from harness.onboarding.bootstrap import bootstrap
from harness.services.api import create_api_app
from harness.services.pipeline import create_pipeline_app

ROOT = {"X-CA-Root-Key": "local-root-key"}


def big_pipeline(runs: int, days: int, models: int) -> dict[str, object]:
    samples = []
    rows = 0
    for run in range(runs):
        clock = ManualClock(datetime(2025, 3, 15, tzinfo=UTC))
        with build_fake(clock=clock, seed=run) as fake:
            fake.openai.usage_model_count = models
            bootstrap(fake.platform.warehouse, fake.platform.config)
            api = TestClient(create_api_app(fake.platform))
            pipelines = TestClient(create_pipeline_app(fake.platform))
            body = {
                "org_slug": "bench",
                "company_name": "Bench",
                "admin_email": "b@example.com",
                "plan": "SCALE",
            }
            key = {
                "X-API-Key": api.post("/api/v1/organizations/onboard", headers=ROOT, json=body).json()[
                    "api_key"
                ]
            }
            admin = fake.openai.issue_admin_key()
            api.post("/api/v1/integrations/bench/openai/setup", headers=key, json={"credential": admin})
            start = date(2025, 1, 15)
            request = {
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=days - 1)).isoformat(),
            }
            started = time.perf_counter()
            response = pipelines.post(
                "/api/v1/pipelines/run/bench/openai/cost/usage_cost", headers=key, json=request
            )
            samples.append(time.perf_counter() - started)
            result = response.json()
            assert result["status"] == "SUCCESS", result
            rows = result["rows_processed"]
    return {"days": days, "models": models, "rows_loaded": rows, **summarize(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    write("pipeline", {"tier": "fake", "pipeline_30_days_20_models": big_pipeline(args.runs, 30, 20)})


if __name__ == "__main__":
    main()
