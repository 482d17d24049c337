"""One onboarding + OpenAI integration setup through the api-service on the fake tier, repeated.

Each sample is a fresh org on a warm, bootstrapped fake tier (the services' steady state); the
first onboarding after start-up is reported separately because it pays for imports and caches.
"""

from __future__ import annotations

import argparse
import time

from _results import summarize, write
from fastapi.testclient import TestClient

from harness.backends.fake import build_fake
from harness.onboarding.bootstrap import bootstrap
from harness.services.api import create_api_app

ROOT = {"X-CA-Root-Key": "local-root-key"}


def onboard_and_integrate(api: TestClient, credential: str, slug: str) -> None:
    body = {"org_slug": slug, "company_name": "Bench", "admin_email": "bench@example.com"}
    onboarded = api.post("/api/v1/organizations/onboard", headers=ROOT, json=body)
    assert onboarded.status_code == 201, onboarded.text
    key = {"X-API-Key": onboarded.json()["api_key"]}
    setup = api.post(
        f"/api/v1/integrations/{slug}/openai/setup", headers=key, json={"credential": credential}
    )
    assert setup.status_code == 201, setup.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with build_fake(seed=1) as fake, TestClient(create_api_app(fake.platform)) as api:
        bootstrap(fake.platform.warehouse, fake.platform.config)
        credential = fake.openai.issue_key()
        started = time.perf_counter()
        onboard_and_integrate(api, credential, "bench_first")
        first = time.perf_counter() - started
        samples = []
        for run in range(args.runs):
            started = time.perf_counter()
            onboard_and_integrate(api, credential, f"bench_{run:04d}")
            samples.append(time.perf_counter() - started)
    write(
        "onboarding_integration",
        {"tier": "fake", "first_after_startup_ms": round(first * 1000, 3), **summarize(samples)},
    )


if __name__ == "__main__":
    main()
