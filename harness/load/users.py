"""The load user: one customer org's life through the public HTTP API, one request per step.

Each user onboards its own org (root key), reads it back with the org's key, rotates that key,
sets up a provider integration, then runs the provider's usage/cost pipeline until the daily quota
refuses (STARTER: 6 runs, then 429). After that it keeps a steady state — read the org, read the
quota, try another run, which must again be a clean 429 with ``Retry-After`` — until it is stopped
(time-bounded runs) or has done ``--rounds`` of those (count-bounded runs: tests). When it stops
it audits its org: the server's ``pipelines_run_today`` must equal the runs it was given.

One request per Locust task, so a graceful stop (``--stop-timeout``) waits for at most one request
per user and the quota tallies stay exact. Request names (the "kinds" of the report) are the step
names: onboard, get_org, rotate_key, setup_integration, run_pipeline, get_quota, audit_quota (and
mint_provider_key, once per process: a provider key the fakes accept, from the control plane).
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from locust import FastHttpUser, events, task
from locust.exception import StopUser

from harness.load.ledger import LEDGER
from harness.services.settings import LOCAL_ROOT_KEY

ROOT_HEADER = "X-CA-Root-Key"
KEY_HEADER = "X-API-Key"
PIPELINE = {"openai": "openai/cost/usage_cost", "anthropic": "anthropic/cost/usage_cost"}

THINK = (0.5, 2.0)
"""Seconds between two requests of one user, by default: a person's pace, not a tight loop."""

SERVER_KEEP_ALIVE = 5.0
"""Seconds uvicorn keeps an idle connection open (its default, which ``harness serve`` keeps)."""
KEEP_ALIVE_MARGIN = 1.0

_RUN_TAG = secrets.token_hex(3)
"""Per process, so the orgs of two workers (or two runs on one warehouse) never collide."""
_SERIAL = itertools.count(1)
_PROVIDER_KEYS: dict[str, str] = {}


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    """The options a plain ``locust -f`` run takes besides ``--host`` (the api-service)."""
    parser.add_argument(
        "--pipeline-host", default="http://127.0.0.1:8001", help="The pipeline-service's URL."
    )
    parser.add_argument(
        "--root-key",
        env_var="CA_ROOT_API_KEY",
        default=LOCAL_ROOT_KEY,
        help="The platform root key the services take (the local default unless set).",
    )
    parser.add_argument("--provider", choices=sorted(PIPELINE), default="openai")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=list(THINK),
        metavar=("MIN", "MAX"),
        help="Seconds a user waits between two requests, drawn between MIN and MAX.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="Steady-state rounds each user does after the quota refused it (0: until stopped).",
    )


def options(
    *,
    pipeline_host: str,
    root_key: str = LOCAL_ROOT_KEY,
    provider: str = "openai",
    rounds: int = 0,
    think: tuple[float, float] = THINK,
) -> Namespace:
    """The same options, for a run driven from Python (``Environment(parsed_options=...)``)."""
    return Namespace(
        pipeline_host=pipeline_host, root_key=root_key, provider=provider, rounds=rounds, think=list(think)
    )


def forget_provider_keys() -> None:
    """The served state was reset (provider keys with it): mint afresh on next use."""
    _PROVIDER_KEYS.clear()


class OrgUser(FastHttpUser):
    """One org, from onboarding to a quota that refuses, then a steady state of reads and 429s."""

    # Under a saturating load a request waits in the server's queue: a timeout would turn that
    # wait into a client-side error and lose the run's tally, so it is generous.
    connection_timeout = 300.0
    network_timeout = 300.0

    def wait_time(self) -> float:
        low, high = self.environment.parsed_options.think
        return random.uniform(low, high)

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.api = (self.host or "").rstrip("/")
        self.pipelines = opts.pipeline_host.rstrip("/")
        self.root = {ROOT_HEADER: opts.root_key}
        self.provider: str = opts.provider
        self.rounds: int = opts.rounds
        self.org = f"load_{_RUN_TAG}_{next(_SERIAL)}"
        self.key: dict[str, str] = {}
        self.daily_limit = 0
        self.onboarded = False
        self.last_used: dict[str, float] = {}
        self.script = self.scenario()

    @task
    def step(self) -> None:
        if next(self.script, StopUser) is StopUser:
            raise StopUser()

    def on_stop(self) -> None:
        if self.onboarded:
            self.audit()

    # ------------------------------------------------------------------ the scenario

    def scenario(self) -> Iterator[None]:
        """One request per ``yield``; ends when the user is done."""
        if not self.onboard():
            return
        yield
        self.get_org()
        yield
        self.rotate_key()
        yield
        self.setup_integration()
        yield
        for _ in range(self.daily_limit + 1):  # the (limit+1)-th must be refused
            accepted = self.run_pipeline()
            yield
            if not accepted:
                break
        for _ in itertools.count() if not self.rounds else range(self.rounds):
            self.get_org()
            yield
            self.get_quota()
            yield
            self.run_pipeline()
            yield

    # ------------------------------------------------------------------ the steps

    def onboard(self) -> bool:
        body = {"org_slug": self.org, "company_name": "Load Co", "admin_email": "load@example.com"}
        with self._call("POST", self.api, "/api/v1/organizations/onboard", "onboard", self.root, body) as r:
            if not _expect(r, 201):
                return False
            created = r.json()
            self.key = {KEY_HEADER: created["api_key"]}
            self.daily_limit = int(created["subscription"]["daily_pipeline_limit"])
            self.onboarded = True
            LEDGER.tally(self.org)
            return True

    def get_org(self) -> None:
        with self._call("GET", self.api, f"/api/v1/organizations/{self.org}", "get_org", self.key) as r:
            _expect(r, 200)

    def rotate_key(self) -> None:
        path = f"/api/v1/organizations/{self.org}/api-key/rotate"
        with self._call("POST", self.api, path, "rotate_key", self.key) as r:
            if _expect(r, 200):
                self.key = {KEY_HEADER: r.json()["api_key"]}

    def setup_integration(self) -> None:
        body = {"credential": self._provider_key()}
        path = f"/api/v1/integrations/{self.org}/{self.provider}/setup"
        with self._call("POST", self.api, path, "setup_integration", self.key, body) as r:
            _expect(r, 201)

    def run_pipeline(self) -> bool:
        """One run; ``True`` when it was accepted (201)."""
        tally = LEDGER.tally(self.org)
        path = f"/api/v1/pipelines/run/{self.org}/{PIPELINE[self.provider]}"
        tally.in_flight = True
        with self._call("POST", self.pipelines, path, "run_pipeline", self.key) as r:
            tally.in_flight = False
            if r.status_code == 201:
                tally.accepted += 1
                tally.accepted_after_refusal += bool(tally.refused)
                r.success()
                return True
            if r.status_code == 429:
                tally.refused += 1
                problem = _unclean_refusal(r)
                tally.refused_unclean += problem is not None
                r.failure(problem) if problem else r.success()
                return False
            _expect(r, 201)
            return False

    def get_quota(self) -> None:
        with self._call(
            "GET", self.api, f"/api/v1/organizations/{self.org}/quota", "get_quota", self.key
        ) as r:
            _expect(r, 200)

    def audit(self) -> None:
        """The server's counter against this user's tally (root key: the org key may be mid-rotation)."""
        path = f"/api/v1/organizations/{self.org}/quota"
        with self._call("GET", self.api, path, "audit_quota", self.root) as r:
            ok = r.status_code == 200
            result = LEDGER.check(self.org, r.json() if ok else None, None if ok else f"HTTP {r.status_code}")
            r.failure(result.problem) if result.problem else r.success()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _call(
        self, method: str, base: str, path: str, name: str, headers: dict[str, str], body: Any = None
    ) -> Iterator[Any]:
        self._drop_idle_connections(base)
        with self.client.request(
            method, base + path, name=name, headers=headers, json=body, catch_response=True
        ) as response:
            yield response
        self.last_used[base] = time.monotonic()

    def _drop_idle_connections(self, base: str) -> None:
        """The server closes a keep-alive connection after it sat idle for
        ``SERVER_KEEP_ALIVE`` seconds; a request sent on it just then meets a closed connection
        (and a POST is not retried). A connection idle for nearly that long is closed here first,
        as clients with an idle timeout below the server's do."""
        used = self.last_used.get(base)
        if used is not None and time.monotonic() - used > SERVER_KEEP_ALIVE - KEEP_ALIVE_MARGIN:
            self.client.client.close()  # every pooled connection of this user; reopened on demand
            self.last_used.clear()

    def _provider_key(self) -> str:
        """A key the provider fake accepts, minted once per process through the control plane."""
        if self.provider not in _PROVIDER_KEYS:
            path = f"/_harness/providers/{self.provider}/keys"
            with self._call("POST", self.api, path, "mint_provider_key", self.root, {"admin": True}) as r:
                if _expect(r, 201):
                    _PROVIDER_KEYS[self.provider] = r.json()["key"]
        return _PROVIDER_KEYS.get(self.provider, "no-key-minted")


def _expect(response: Any, status: int) -> bool:
    if response.status_code == status:
        response.success()
        return True
    if not response.status_code:  # no HTTP response at all: say what happened instead
        response.failure(f"expected {status}, got no response: {response.error!r}"[:300])
        return False
    text = (response.text or "")[:200]
    response.failure(f"expected {status}, got {response.status_code}: {text}")
    return False


def _unclean_refusal(response: Any) -> str | None:
    """Why a 429 is not the clean quota refusal (``Retry-After`` in whole seconds, QUOTA_EXCEEDED)."""
    retry_after = response.headers.get("Retry-After")
    if retry_after is None or not retry_after.isdigit() or int(retry_after) < 1:
        return f"429 without a usable Retry-After ({retry_after!r})"
    try:
        code = response.json().get("error")
    except ValueError:
        code = None
    return None if code == "QUOTA_EXCEEDED" else f"429 with error {code!r}, not QUOTA_EXCEEDED"


__all__ = ["OrgUser", "add_options", "forget_provider_keys", "options"]
