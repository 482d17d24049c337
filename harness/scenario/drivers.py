"""Where a scenario's requests go: the in-process services over a tier's backends, or live URLs.

Both drivers answer the same calls — ``send`` a request, read and ``advance`` the clock, mint a
valid provider credential, ``arm`` a provider, warehouse or KMS fault, ``count_rows``, ``describe_dataset``,
``bootstrap_config`` — so the runner does not care which one it has. The live driver reaches
behind running services through the root-key-protected ``/_harness`` control plane of
``harness serve``, with :class:`harness.control_client.ControlClient` (``controls`` says whether
it answered).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from harness.backends import Backend
from harness.control import CONTROL_PREFIX
from harness.scenario.actions import ORG_DATASET_TABLES, ActionError, Request
from harness.scenario.labels import RunLabels, labelled_platform
from harness.scenario.model import Fault, ProviderFault
from harness.services.settings import Settings

LIVE_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class InProcess:
    """Both apps over one set of backends of the tier, through TestClient (one portal call per
    request: :class:`harness.asgi_client.AsgiClient`). Given ``backends`` are
    used as they are (their clock and seed) and left open; otherwise fresh ones are built and
    closed. On gcp there is no manual clock and no provider fake behind the services.

    With ``instances`` > 1 there are that many api-service + pipeline-service pairs, each its own
    process as far as the services can tell (:meth:`Platform.instance`: own in-memory state) over
    the same warehouse, keys, clock and provider fakes; instance 1 runs on the backends' own
    platform. A ``recorder`` (``harness.recording``) carries the real clients' exchanges of
    backends built here."""

    mode = "in-process"

    def __init__(
        self,
        settings: Settings,
        seed: int,
        clock_start: datetime,
        backends: Any | None = None,
        *,
        tier: Backend = Backend.FAKE,
        instances: int = 1,
        labels: RunLabels | None = None,
        recorder: Any | None = None,
    ) -> None:
        from harness.backends import build_backends
        from harness.clock import ManualClock

        self._settings = settings
        self._stack = contextlib.ExitStack()
        try:
            clock = None if tier is Backend.GCP else ManualClock(clock_start)
            self.backends = backends or self._stack.enter_context(
                build_backends(tier, settings, clock=clock, seed=seed, recorder=recorder)
            )
            platform = self.backends.platform
            # Every dataset the services create during the run carries the run's labels (janitor).
            self.platform = labelled_platform(platform, labels) if labels is not None else platform
            platforms = [self.platform, *(self.platform.instance() for _ in range(instances - 1))]
            self.instances = [self._clients(each) for each in platforms]
            self.clients = self.instances[0]
        except BaseException:
            self._stack.close()
            raise

    def _clients(self, platform: Any) -> dict[str, Any]:
        from harness.asgi_client import AsgiClient
        from harness.services.api import create_api_app
        from harness.services.app_pool import lent_app
        from harness.services.pipeline import create_pipeline_app

        apps = {
            "api": self._stack.enter_context(lent_app(create_api_app, platform, self._settings)),
            "pipeline": self._stack.enter_context(lent_app(create_pipeline_app, platform, self._settings)),
        }
        return {
            service: self._stack.enter_context(AsgiClient(app, raise_server_exceptions=False))
            for service, app in apps.items()
        }

    def close(self) -> None:
        self._stack.close()

    def send(self, request: Request, instance: int = 1) -> httpx.Response:
        if not 1 <= instance <= len(self.instances):
            raise ActionError(f"no instance {instance}: this run has instances: {len(self.instances)}")
        return _send(self.instances[instance - 1][request.service], request)

    def now(self) -> datetime:
        return self.backends.clock.now()

    def advance(self, delta: timedelta) -> datetime:
        if not hasattr(self.backends.clock, "advance"):
            raise ActionError("advance_clock needs a tier with a manual clock (fake or emulator)")
        return self.backends.clock.advance(delta)

    def mint_credential(self, provider: str) -> str:
        state = self._state(provider)
        if state is not None:
            return state.issue_admin_key()
        secret = env_credential(self._settings, provider)
        if secret is None:
            raise ActionError(f"no {provider.upper()}_API_KEY for a valid {provider} credential")
        return secret

    def arm(self, fault: Fault) -> Any:
        """Arm ``fault``; a warehouse or KMS fault answers its armed handle (how often it fired)."""
        if not isinstance(fault, ProviderFault):
            queue = getattr(self.backends, "faults", None)
            if queue is None:
                raise ActionError(
                    "warehouse and KMS faults need the fake tier or embedded emulators (with external "
                    "emulators, queue them over their control plane: POST /_harness/faults/{port})"
                )
            return queue.arm(fault.spec())
        state = self._state(fault.provider.value)
        if state is None:
            raise ActionError("provider faults need the provider fakes (fake or emulator tier)")
        if fault.timeout:
            state.add_timeout(times=fault.times)
        else:
            state.add_fault(fault.status, times=fault.times, retry_after=fault.retry_after)
        return None

    def count_rows(self, table: str, org: str) -> dict[str, Any]:
        from harness.ports import NotFoundError

        platform = self.backends.platform
        if table in ORG_DATASET_TABLES:
            dataset = f"{platform.warehouse.project}.{platform.org_dataset(org)}"
            sql = f"SELECT COUNT(*) AS n FROM `{dataset}.{table}`"
            params: dict[str, Any] = {}
        else:
            sql = f"SELECT COUNT(*) AS n FROM {platform.table(table)} WHERE org_slug = @org"
            params = {"org": org}
        try:
            rows = int(platform.select(sql, params).rows[0]["n"])
        except NotFoundError:
            return {"table": table, "org_slug": org, "rows": 0, "exists": False}
        return {"table": table, "org_slug": org, "rows": rows, "exists": True}

    def describe_dataset(self, dataset: str) -> dict[str, Any]:
        """``{dataset_id, exists, table_count, tables, columns: {table: [column...]}}``; nested
        RECORD columns read ``parent.child``."""
        from harness.ports import NotFoundError

        warehouse = self.backends.platform.warehouse
        try:
            warehouse.get_dataset(dataset)
        except NotFoundError:
            return {"dataset_id": dataset, "exists": False, "table_count": 0, "tables": [], "columns": {}}
        infos = sorted(warehouse.list_tables(dataset), key=lambda t: t.table_id)
        columns = {info.table_id: _column_names(info.spec.schema) for info in infos}
        return {
            "dataset_id": dataset,
            "exists": True,
            "table_count": len(infos),
            "tables": list(columns),
            "columns": columns,
        }

    def bootstrap_config(self, config: Path, request: Request, settings: Settings) -> httpx.Response:
        """POST /api/v1/admin/bootstrap on an api-service whose platform carries another config
        (same warehouse, keys and clock): the real route's answer, for a config under test."""
        from dataclasses import replace

        from fastapi.testclient import TestClient

        from harness.schema.loader import SchemaConfigError, load_config
        from harness.services.api import create_api_app

        try:
            loaded = load_config(config)
        except SchemaConfigError as exc:
            raise ActionError(f"bootstrap config {config}: {exc}") from exc
        platform = replace(self.platform, config=loaded)
        with TestClient(create_api_app(platform, settings), raise_server_exceptions=False) as client:
            return _send(client, request)

    def _state(self, provider: str) -> Any:
        return self.backends.openai if provider == "openai" else self.backends.anthropic


class Live:
    """Plain HTTP to running services; reaches behind them through ``/_harness`` when served."""

    mode = "live"

    def __init__(self, api_url: str, pipeline_url: str, settings: Settings) -> None:
        from harness.control_client import ControlClient  # live runs only: in-process ones never load it

        self.clients = {
            "api": httpx.Client(base_url=api_url, timeout=LIVE_TIMEOUT),
            "pipeline": httpx.Client(base_url=pipeline_url, timeout=LIVE_TIMEOUT),
        }
        self.control = ControlClient(
            api_url, root_key=settings.ca_root_api_key.get_secret_value(), timeout=LIVE_TIMEOUT
        )
        self._settings = settings
        self.controls = self._probe()

    def _probe(self) -> bool:
        from harness.control_client import ControlError

        try:
            self.control.info()
        except (ControlError, httpx.HTTPError):
            return False
        return True

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.control.close()

    def send(self, request: Request, instance: int = 1) -> httpx.Response:
        if instance != 1:
            raise ActionError("instance: N needs an in-process run; live mode reaches one pair of services")
        return _send(self.clients[request.service], request)

    def now(self) -> datetime:
        if self.controls:
            with _refused():
                return self.control.now()
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with _refused():
            return self.control.advance(delta)

    def mint_credential(self, provider: str) -> str:
        if self.controls:
            with _refused():
                return self.control.mint_key(provider)
        secret = env_credential(self._settings, provider)
        if secret is None:
            raise ActionError(f"no {provider.upper()}_API_KEY for a valid {provider} credential")
        return secret

    def arm(self, fault: Fault) -> None:
        with _refused():
            if not isinstance(fault, ProviderFault):
                spec = fault.spec().describe()
                self.control.add_backend_fault(spec.pop("port"), **spec)
                return
            self.control.add_fault(
                fault.provider.value,
                status=None if fault.timeout else fault.status,
                timeout=fault.timeout,
                times=fault.times,
                retry_after=None if fault.timeout else fault.retry_after,
            )

    def describe_dataset(self, dataset: str) -> dict[str, Any]:
        raise ActionError("describe_dataset needs an in-process run")

    def bootstrap_config(self, config: Path, request: Request, settings: Settings) -> httpx.Response:
        raise ActionError("bootstrap with a config needs an in-process run")

    def count_rows(self, table: str, org: str) -> dict[str, Any]:
        with _refused():
            rows = self.control.org_rows(table, org)
        return {"table": table, "org_slug": org, "rows": rows, "exists": True}


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    """A control the services refused becomes the step's failure, saying what they answered."""
    from harness.control_client import ControlError

    try:
        yield
    except ControlError as exc:
        raise ActionError(f"the {CONTROL_PREFIX} control plane answered {exc}") from exc


def _column_names(fields: Any, prefix: str = "") -> list[str]:
    names: list[str] = []
    for spec in fields:
        names.append(prefix + spec.name)
        names.extend(_column_names(spec.fields, f"{prefix}{spec.name}."))
    return names


def env_credential(settings: Settings, provider: str) -> str | None:
    secret = settings.openai_api_key if provider == "openai" else settings.anthropic_api_key
    return secret.get_secret_value() if secret is not None else None


def _send(client: httpx.Client, request: Request) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": request.headers}
    if request.content is not None:
        kwargs["content"] = request.content
    elif request.json is not None:
        kwargs["json"] = request.json
    return client.request(request.method, request.path, **kwargs)
