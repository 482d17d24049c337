"""Emulator tier: start-up time of ``Emulators`` (BigQuery REST, Cloud KMS REST, OpenAI,
Anthropic from one process) and the latency of ``query_and_wait("SELECT 1")`` through the real
google-cloud-bigquery client against the BigQuery REST emulator."""

from __future__ import annotations

import argparse
import time

from _results import summarize, write
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from harness.emulators import Emulators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    startups = []
    for _ in range(args.starts):
        with Emulators(port_base=0) as emulators:
            startups.append(emulators.startup_seconds or 0.0)
    with Emulators(port_base=0) as emulators:
        client = bigquery.Client(
            project="bench-project",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=emulators.bigquery_url),
        )
        client.query_and_wait("SELECT 1")  # warm
        samples = []
        for _ in range(args.queries):
            started = time.perf_counter()
            rows = list(client.query_and_wait("SELECT 1"))
            samples.append(time.perf_counter() - started)
            assert rows[0][0] == 1
    write("emulators", {"startup": summarize(startups), "query_and_wait_select_1": summarize(samples)})


if __name__ == "__main__":
    main()
