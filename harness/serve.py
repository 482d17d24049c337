"""``harness serve``: the api-service and the pipeline-service on their ports, in one process, over
one set of backends: for manual testing, for a frontend, and for live-mode scenario runs.

Both apps share one set of backends of the chosen tier — on ``fake`` the DuckDB BigQuery engine,
the KMS keyring and the provider fakes mounted through respx; on ``emulator`` the real Google and
provider clients against emulators served by the same process — so an org onboarded on the
api-service can run a pipeline on the pipeline-service. The meta tables are bootstrapped before
the ports open, so ``/health/ready`` is green from the first request.

Two ``uvicorn.Server`` instances run in one asyncio event loop on a background thread, on sockets
bound up front (a port in use is a clear error before anything starts; port 0 picks a free one).
:class:`ServiceProcess` is that, as an object and a context manager, for tests::

    with ServiceProcess() as services:          # free ports, background thread
        httpx.get(f"{services.api_url}/health")

:func:`serve_forever` is the command: it prints the URLs and the keys to use, then waits for
Ctrl-C or SIGTERM and shuts both servers down gracefully (a second Ctrl-C stops at once).

The clock of a served process follows wall time (quotas reset at midnight UTC, the streaming buffer
drains after 30 real minutes) and can be moved ahead, never back. A served process also answers a
few root-key-protected test controls under ``/_harness`` on the api-service port (mint a provider
key, queue a provider fault, advance the clock, count an org's rows), so a scenario run against the
live services can do what an in-process run does by reaching behind the ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import errno
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.backends import Backend, TierBackends, build_backends
from harness.clock import ManualClock
from harness.onboarding.bootstrap import BootstrapConfigError, bootstrap
from harness.onboarding.errors import DomainError
from harness.onboarding.models import SLUG_PATTERN
from harness.ports import NotFoundError, Provider
from harness.services.api import create_api_app
from harness.services.deps import require_root
from harness.services.pipeline import create_pipeline_app
from harness.services.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8000
DEFAULT_PIPELINE_PORT = 8001
CONTROL_PREFIX = "/_harness"

# Clients in this process (tests, a live-mode runner) reach the served ports through httpx, which
# the provider mount's strict respx router intercepts: these hosts are let through to the network.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

SERVICES = ("api-service", "pipeline-service")


class ServeError(Exception):
    """The services could not start (a port in use, a failed bootstrap, a startup timeout)."""


# ------------------------------------------------------------------------------------------ clock


class WallClock(ManualClock):
    """Wall-clock time plus however far it has been advanced; never goes backwards.

    A ``ManualClock`` so that everything built for the fake tier accepts it (retry waits advance it
    instead of sleeping), but it also moves on its own, as a served process should.
    """

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._offset = timedelta(0)
        self._last = self._now

    def _read(self) -> datetime:
        """Caller holds the lock. The high-water mark hides a wall clock stepped back (NTP)."""
        self._last = max(self._last, datetime.now(UTC) + self._offset)
        return self._last

    def now(self) -> datetime:
        with self._lock:
            return self._read()

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += delta
            return self._read()

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("WallClock.set needs a timezone-aware time")
        with self._lock:
            current = self._read()
            if moment < current:
                raise ValueError("time only moves forward")
            self._offset += moment - current
            return self._read()


# --------------------------------------------------------------------------------- test controls


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: float = Field(default=0, ge=0)


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin: bool = Field(default=True, description="An admin key also reads usage and costs.")


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int | None = Field(default=None, description="HTTP status to answer (4xx/5xx).")
    timeout: bool = Field(default=False, description="Never answer (the client times out).")
    times: int = Field(default=1, ge=1)
    retry_after: float | None = Field(default=None, ge=0)


def control_router(backends: TierBackends, info: Callable[[], dict[str, Any]]) -> APIRouter:
    """Root-key-protected controls of the served fakes, for live-mode runs and manual testing. On
    gcp (real time, real providers) the clock and provider controls answer 409."""
    router = APIRouter(
        prefix=CONTROL_PREFIX,
        tags=["harness"],
        dependencies=[Depends(require_root)],
        include_in_schema=False,
    )

    def state(provider: Provider) -> Any:
        fake = backends.openai if provider is Provider.OPENAI else backends.anthropic
        if fake is None:
            raise DomainError(
                f"this tier talks to the real {provider.value}: no fake to control",
                code="CONFLICT",
                status=409,
            )
        return fake

    @router.get("")
    def describe() -> dict[str, Any]:
        return {**info(), "clock": backends.clock.now().isoformat()}

    @router.get("/clock")
    def read_clock() -> dict[str, str]:
        return {"now": backends.clock.now().isoformat()}

    @router.post("/clock/advance")
    def advance_clock(body: ClockAdvance) -> dict[str, str]:
        delta = timedelta(days=body.days, hours=body.hours, minutes=body.minutes, seconds=body.seconds)
        if not hasattr(backends.clock, "advance"):
            raise DomainError(
                "this tier runs on real time: the clock cannot move", code="CONFLICT", status=409
            )
        return {"now": backends.clock.advance(delta).isoformat()}

    @router.post("/providers/{provider}/keys", status_code=201)
    def mint_key(provider: Provider, body: KeyRequest | None = None) -> dict[str, Any]:
        admin = body.admin if body is not None else True
        fake = state(provider)
        key = fake.issue_admin_key() if admin else fake.issue_key()
        return {"provider": provider.value, "admin": admin, "key": key}

    @router.post("/providers/{provider}/faults", status_code=201)
    def add_fault(provider: Provider, body: FaultRequest) -> dict[str, Any]:
        if (body.status is None) == (not body.timeout):
            raise DomainError("give exactly one of status or timeout: true", code="INVALID_REQUEST")
        fake = state(provider)
        try:
            if body.timeout:
                fake.add_timeout(times=body.times)
            else:
                fake.add_fault(body.status, times=body.times, retry_after=body.retry_after)
        except ValueError as exc:
            raise DomainError(str(exc), code="INVALID_REQUEST") from exc
        return {"provider": provider.value, "pending_faults": len(fake.pending_faults)}

    @router.get("/rows/{table}")
    def count_rows(
        table: Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,1024}$")],
        org_slug: Annotated[str, Query(pattern=SLUG_PATTERN)],
    ) -> dict[str, Any]:
        """An org's rows in a meta table, or all rows of a table in the org's own dataset
        (``llm_usage_daily``...); a table that does not exist counts 0 with ``exists: false``."""
        platform = backends.platform
        if table in platform.config.table_names:
            sql = f"SELECT COUNT(*) AS n FROM {platform.table(table)} WHERE org_slug = @org_slug"
            params: dict[str, Any] = {"org_slug": org_slug}
        else:
            dataset = f"{platform.warehouse.project}.{platform.org_dataset(org_slug)}"
            sql, params = f"SELECT COUNT(*) AS n FROM `{dataset}.{table}`", {}
        try:
            rows = int(platform.select(sql, params).rows[0]["n"])
        except NotFoundError:
            return {"table": table, "org_slug": org_slug, "rows": 0, "exists": False}
        return {"table": table, "org_slug": org_slug, "rows": rows, "exists": True}

    return router


# ----------------------------------------------------------------------------------- the servers


def _bind(service: str, host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only when it does, and
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}" if family == socket.AF_INET else f"[{host}]:{port}"
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use (another `harness serve`?); choose another port"
        elif exc.errno == errno.EACCES:
            reason = "permission denied (ports below 1024 need privileges)"
        else:
            reason = exc.strerror or str(exc)
        raise ServeError(f"{service}: cannot listen on {where}: {reason}") from exc
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


class ServerThread:
    """Several uvicorn servers on pre-bound sockets, run by one event loop in a background thread;
    shared by ``ServiceProcess`` and the emulators. Subclasses fill ``_servers`` / ``_sockets`` and
    name what they serve in ``what`` (for error messages)."""

    what = "services"
    _servers: dict[str, uvicorn.Server]
    _sockets: dict[str, socket.socket]
    _thread: threading.Thread | None
    _error: BaseException | None
    _startup_timeout: float

    def _launch(self, thread_name: str) -> None:
        self._thread = threading.Thread(target=self._thread_main, name=thread_name, daemon=True)
        self._thread.start()
        self._wait_started()

    def _stop_servers(self, timeout: float) -> None:
        """Graceful shutdown (in-flight requests finish), forced after ``timeout``; idempotent."""
        for server in self._servers.values():
            server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                self.force_exit()
                thread.join(5.0)
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def force_exit(self) -> None:
        """Stop without waiting for open connections (a second Ctrl-C)."""
        for server in self._servers.values():
            server.should_exit = True
            server.force_exit = True

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve_all())
        except BaseException as exc:  # a uvicorn startup failure is a SystemExit
            self._error = exc

    async def _serve_all(self) -> None:
        tasks = [
            asyncio.create_task(server.serve(sockets=[self._sockets[name]]), name=name)
            for name, server in self._servers.items()
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in self._servers.values():  # one ended: stop the others too
            server.should_exit = True
        await asyncio.gather(*tasks)

    def _wait_started(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while not all(server.started for server in self._servers.values()):
            thread = self._thread
            if thread is None or not thread.is_alive():
                raise ServeError(f"the {self.what} stopped while starting: {self._error!r}") from self._error
            if time.monotonic() > deadline:
                raise ServeError(f"the {self.what} did not start within {self._startup_timeout:g} s")
            time.sleep(0.01)


class ServiceProcess(ServerThread):
    """Both services on their ports over one set of backends of ``tier``, served from a background
    thread (on the emulator tier the emulators are served by the same process, on their own ports).

    Ports default to 0 (a free port each); read the chosen ones from ``api_url`` / ``pipeline_url``.
    ``start()`` returns once both servers accept connections; ``stop()`` shuts them down gracefully
    and closes the backends (those passed in are left open). Usable as a context manager.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        api_port: int = 0,
        pipeline_port: int = 0,
        seed: int | None = None,
        settings: Settings | None = None,
        backends: TierBackends | None = None,
        tier: Backend = Backend.FAKE,
        access_log: bool = False,
        log_config: dict[str, Any] | None = None,
        cors_origins: Sequence[str] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        if api_port and api_port == pipeline_port:
            raise ServeError(f"the api-service and the pipeline-service cannot share port {api_port}")
        self.host = host
        self.seed = seed
        self.settings = settings or Settings()
        self._requested_ports = {"api-service": api_port, "pipeline-service": pipeline_port}
        self._given_backends = backends
        self.tier = Backend(tier)
        self._access_log = access_log
        self._log_config = log_config
        self._cors_origins = list(cors_origins)
        self._startup_timeout = startup_timeout
        self.backends: TierBackends | None = None
        self.apps: dict[str, FastAPI] = {}
        self.ports: dict[str, int] = {}
        self.tables_created = 0
        self._sockets: dict[str, socket.socket] = {}
        self._servers: dict[str, uvicorn.Server] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ public surface

    @property
    def api_url(self) -> str:
        return _url(self.host, self._port("api-service"))

    @property
    def pipeline_url(self) -> str:
        return _url(self.host, self._port("pipeline-service"))

    @property
    def root_key(self) -> str:
        return self.settings.ca_root_api_key.get_secret_value()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def mint_admin_key(self, provider: Provider | str) -> str:
        """A fresh admin key the provider fake accepts (integration setup, usage and cost reads)."""
        backends = self._require_backends()
        fake = backends.openai if Provider(provider) is Provider.OPENAI else backends.anthropic
        if fake is None:
            raise ServeError(
                f"the {self.tier.value} tier has no {Provider(provider).value} fake to mint keys"
            )
        return fake.issue_admin_key()

    def info(self) -> dict[str, Any]:
        return {
            "tier": self.tier.value,
            "seed": self.seed,
            "api_url": self.api_url if self.ports else None,
            "pipeline_url": self.pipeline_url if self.ports else None,
            "meta_tables": len(self._require_backends().platform.config),
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ServiceProcess:
        if self._thread is not None:
            raise RuntimeError("ServiceProcess is already started")
        try:
            for service in SERVICES:
                sock = _bind(service, self.host, self._requested_ports[service])
                self._sockets[service] = sock
                self.ports[service] = sock.getsockname()[1]
            self._build()
            self._launch("harness-serve")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful shutdown (in-flight requests finish); idempotent."""
        self._stop_servers(timeout)
        if self.backends is not None and self._given_backends is None:
            self.backends.close()

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _port(self, service: str) -> int:
        if service not in self.ports:
            raise RuntimeError("ServiceProcess is not started")
        return self.ports[service]

    def _require_backends(self) -> TierBackends:
        if self.backends is None:
            raise RuntimeError("ServiceProcess is not started")
        return self.backends

    def _build(self) -> None:
        if self._given_backends is not None:
            backends = self._given_backends
        else:
            clock = None if self.tier is Backend.GCP else WallClock()
            try:
                backends = build_backends(self.tier, self.settings, clock=clock, seed=self.seed)
            except ValueError as exc:  # settings that do not reach the tier (no GCP project...)
                raise ServeError(f"the {self.tier.value} tier: {exc}") from exc
        self.backends = backends
        try:
            report = bootstrap(backends.platform.warehouse, backends.platform.config)
        except BootstrapConfigError as exc:
            raise ServeError(f"bootstrapping the meta tables failed: {exc.message}") from exc
        self.tables_created = len(report.created)
        mocks = getattr(backends, "mocks", None)  # the fake tier's respx router intercepts httpx
        for host in dict.fromkeys((self.host, *LOOPBACK_HOSTS)) if mocks is not None else ():
            mocks.router.route(host=host).pass_through()

        api = create_api_app(backends.platform, self.settings)
        api.include_router(control_router(backends, self.info))
        pipeline = create_pipeline_app(backends.platform, self.settings)
        self.apps = {"api-service": api, "pipeline-service": pipeline}
        for service, app in self.apps.items():
            if self._cors_origins:
                app.add_middleware(
                    CORSMiddleware,
                    allow_origins=self._cors_origins,
                    allow_methods=["*"],
                    allow_headers=["*"],
                    expose_headers=["Idempotent-Replayed"],
                )
            config = uvicorn.Config(
                app,
                host=self.host,
                port=self.ports[service],
                lifespan="on",
                access_log=self._access_log,
                log_config=self._log_config,
                log_level=None if self._log_config else "warning",
                timeout_graceful_shutdown=5,
            )
            self._servers[service] = uvicorn.Server(config)


# ---------------------------------------------------------------------------------- the command


def _banner(services: ServiceProcess, keys: dict[str, str]) -> list[str]:
    backends = services._require_backends()
    tables = len(backends.platform.config)
    seed = f"seed {services.seed}" if services.seed is not None else "random seed (--seed N to repeat)"
    rows = [
        ("api-service", f"{services.api_url}   (docs {services.api_url}/docs)"),
        ("pipeline-service", f"{services.pipeline_url}   (docs {services.pipeline_url}/docs)"),
        (
            "meta tables",
            f"{tables} in dataset {backends.platform.meta_dataset} "
            f"({services.tables_created} created at start); GET /health/ready is green",
        ),
        ("root key", f"X-CA-Root-Key: {services.root_key}"),
        *((f"{provider} admin key", key) for provider, key in keys.items()),
        ("", "(accepted by the provider fakes: integration setup, usage and cost pipelines)"),
        (
            "test controls",
            f"{services.api_url}{CONTROL_PREFIX} (root key): mint provider keys, queue provider "
            "faults, advance the clock, count rows",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    where = {
        Backend.FAKE: "one set of in-process fakes",
        Backend.EMULATOR: "the real Google clients against emulators in the same process",
        Backend.GCP: "real BigQuery, Cloud KMS and providers",
    }[services.tier]
    return [
        f"CloudAct services on the {services.tier.value} tier: one process, {where}, {seed}",
        *(f"  {label:<{width}}  {value}" for label, value in rows),
        "Press Ctrl-C to stop.",
    ]


def _log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's own format; its per-server lifecycle lines (doubled here) only from WARNING up."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def serve_forever(
    *,
    host: str = DEFAULT_HOST,
    api_port: int = DEFAULT_API_PORT,
    pipeline_port: int = DEFAULT_PIPELINE_PORT,
    seed: int | None = None,
    tier: Backend = Backend.FAKE,
    access_log: bool = True,
    cors_origins: Iterable[str] = (),
    out: Callable[[str], None] | None = None,
    err: Callable[[str], None] | None = None,
) -> int:
    """Serve until Ctrl-C / SIGTERM; returns the exit status (0 clean stop, 1 died, 2 cannot start)."""
    out = out or (lambda line: print(line, flush=True))
    err = err or (lambda line: print(line, file=sys.stderr, flush=True))
    stop = threading.Event()
    services: ServiceProcess | None = None

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set() and services is not None:
            services.force_exit()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            candidate = ServiceProcess(
                host=host,
                api_port=api_port,
                pipeline_port=pipeline_port,
                seed=seed,
                settings=Settings(),
                tier=tier,
                access_log=access_log,
                log_config=_log_config(access_log),
                cors_origins=list(cors_origins),
            )
            services = candidate.start()
        except ServeError as exc:
            err(f"error: {exc}")
            return 2
        except ValidationError as exc:  # a settings variable (ENVIRONMENT, HARNESS_BACKEND...) is invalid
            err(f"error: invalid settings in the environment: {exc}")
            return 2
        keys = (
            {"OpenAI": services.mint_admin_key("openai"), "Anthropic": services.mint_admin_key("anthropic")}
            if tier is not Backend.GCP
            else {}
        )
        for line in _banner(services, keys):
            out(line)
        status = 0
        while not stop.wait(0.5):
            if not services.running:
                err(f"error: the services stopped unexpectedly: {services._error!r}")
                status = 1
                break
        return status
    finally:
        if services is not None:
            services.stop()
            out("Stopped.")
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
