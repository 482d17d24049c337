"""Both services on their ports, in one process, over one set of backends: what ``harness serve``
serves, as an object and a context manager for tests::

    with ServiceProcess() as services:          # free ports, background thread
        httpx.get(f"{services.api_url}/health")

Both apps share one set of backends of the chosen tier — on ``fake`` the DuckDB BigQuery engine,
the KMS keyring and the provider fakes mounted through respx; on ``emulator`` the real Google and
provider clients against emulators served by the same process — so an org onboarded on the
api-service can run a pipeline on the pipeline-service. The meta tables are bootstrapped before
the ports open, so ``/health/ready`` is green from the first request.

The clock of a served process follows wall time (quotas reset at midnight UTC, the streaming buffer
drains after 30 real minutes) and can be moved ahead, never back, through the ``/_harness`` control
plane (:mod:`harness.control`) on the api-service port, which also resets all state (and
re-bootstraps the meta tables), mints provider keys, queues faults (provider faults, and warehouse
and KMS faults: at the ports on the fake tier, on the wire of the embedded emulators) and reads
BigQuery and KMS state.
The two uvicorn servers run on one event loop in a background thread (:mod:`harness.servers`);
the command around them is :mod:`harness.cli.serve`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fakes.bigquery.queries import clear_statement_caches
from harness.backends import Backend, TierBackends, build_backends
from harness.backends.fake import FakeBackends
from harness.clock import WallClock
from harness.control.org_rows import org_rows_router
from harness.control.routes import control_router
from harness.control.target import Controlled
from harness.datadir import DataDir, SavingWallClock
from harness.onboarding.bootstrap import BootstrapConfigError, bootstrap
from harness.ports import Provider
from harness.servers import DEFAULT_HOST, ServeError, ServerThread, bind_socket, server_url
from harness.services.api import create_api_app
from harness.services.pipeline import create_pipeline_app
from harness.services.settings import LOCAL_ROOT_KEY, Settings, SettingsError

# Clients in this process (tests, a live-mode runner) reach the served ports through httpx, which
# the provider mount's strict respx router intercepts: these hosts are let through to the network.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

SERVICES = ("api-service", "pipeline-service")


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
        data_dir: str | Path | None = None,
    ) -> None:
        if api_port and api_port == pipeline_port:
            raise ServeError(f"the api-service and the pipeline-service cannot share port {api_port}")
        self.host = host
        self.seed = seed
        self.settings = settings or Settings()
        self._requested_ports = {"api-service": api_port, "pipeline-service": pipeline_port}
        self._given_backends = backends
        self.tier = Backend(tier)
        self.data_dir = DataDir(data_dir) if data_dir is not None else None
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
        return server_url(self.host, self._port("api-service"))

    @property
    def pipeline_url(self) -> str:
        return server_url(self.host, self._port("pipeline-service"))

    @property
    def root_key(self) -> str:
        return self.settings.ca_root_api_key.get_secret_value()

    @property
    def root_key_shown(self) -> str:
        """The root key as a banner may print it: the public local default in full (it is in the
        README, no secret), a key the environment gave masked to its last 4 characters (this
        process did not make it, so it does not show it; a short one not at all)."""
        key = self.root_key
        if key == LOCAL_ROOT_KEY:
            return f"{key}   (the local default; set CA_ROOT_API_KEY for your own)"
        tail = key[-4:] if len(key) >= 16 else ""
        return f"****{tail}   (from CA_ROOT_API_KEY, not shown)"

    def require_backends(self) -> TierBackends:
        """The backends being served; only a started process has them."""
        if self.backends is None:
            raise RuntimeError("ServiceProcess is not started")
        return self.backends

    def mint_admin_key(self, provider: Provider | str) -> str:
        """A fresh admin key the provider fake accepts (integration setup, usage and cost reads)."""
        backends = self.require_backends()
        fake = backends.openai if Provider(provider) is Provider.OPENAI else backends.anthropic
        if fake is None:
            raise ServeError(
                f"the {self.tier.value} tier has no {Provider(provider).value} fake to mint keys"
            )
        return fake.issue_admin_key()

    def info(self) -> dict[str, Any]:
        emulators = getattr(self.require_backends(), "emulators", None)
        return {
            "tier": self.tier.value,
            "seed": self.seed,
            "api_url": self.api_url if self.ports else None,
            "pipeline_url": self.pipeline_url if self.ports else None,
            "meta_tables": len(self.require_backends().platform.config),
            "urls": emulators.info()["urls"] if emulators is not None else {},
        }

    def reset(self) -> None:
        """All state back to fresh (the control plane's ``POST /_harness/reset``): every table,
        KMS key, provider key and armed fault gone, the configured KMS key and the meta tables made
        again, on the same clock and seed. Only a tier with state of ours behind it can be reset."""
        backends = self.require_backends()
        emulators = getattr(backends, "emulators", None)
        if emulators is not None:
            emulators.reset(clock=emulators.clock, seed=emulators.seed)
        elif isinstance(backends, FakeBackends):
            backends.engine.reset()
            kms = backends.keys.backend
            kms.reset()
            ring, _, key = backends.keys.key_name.rpartition("/cryptoKeys/")
            kms.create_key_ring(*ring.rsplit("/keyRings/", 1))
            kms.create_crypto_key(ring, key)
            backends.openai.reset()
            backends.anthropic.reset()
            backends.faults.clear()
            backends.faults.fired.clear()
            backends.mocks.router.reset()  # respx's log of every provider call, kept until now
        else:
            raise ServeError(f"the {self.tier.value} tier has no state of ours to reset")
        clear_statement_caches()  # bounded, but keyed by every org's dataset: fresh means empty
        bootstrap(backends.platform.warehouse, backends.platform.config)

    def controlled(self) -> Controlled:
        """What the control plane on the api-service port reaches: the fake tier's in-process state,
        the embedded emulators' on the emulator tier, nothing (409s) on gcp or external emulators."""
        backends = self.require_backends()
        emulators = getattr(backends, "emulators", None)
        if emulators is not None:
            return replace(emulators.controlled(), info=self.info, reset=self.reset)
        fake = backends if isinstance(backends, FakeBackends) else None
        key_name = fake.keys.key_name if fake is not None else self.settings.kms_key_name
        return Controlled(
            info=self.info,
            clock=lambda: backends.clock,
            bigquery=lambda: fake.engine if fake is not None else None,
            kms=lambda: fake.keys.backend if fake is not None else None,
            providers=lambda: {Provider.OPENAI: backends.openai, Provider.ANTHROPIC: backends.anthropic},
            reset=self.reset if fake is not None else None,
            project=self.settings.gcp_project_id,
            kms_location=key_name.partition("/keyRings/")[0],
            faults=lambda: fake.faults if fake is not None else None,
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ServiceProcess:
        if self._thread is not None:
            raise RuntimeError("ServiceProcess is already started")
        try:
            for service in SERVICES:
                sock = bind_socket(service, self.host, self._requested_ports[service])
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

    def _build(self) -> None:
        try:  # also with backends passed in: what the services guard is what the tier says
            self.settings.for_tier(self.tier.value)
        except SettingsError as exc:
            raise ServeError(f"the {self.tier.value} tier: {exc}") from exc
        if self._given_backends is not None:
            backends = self._given_backends
        else:
            clock = None if self.tier is Backend.GCP else WallClock()
            if self.data_dir is not None and clock is not None:
                clock = SavingWallClock(self.data_dir)
            try:
                backends = build_backends(
                    self.tier, self.settings, clock=clock, seed=self.seed, data_dir=self.data_dir
                )
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
        api.include_router(control_router(self.controlled()))
        api.include_router(org_rows_router(backends.platform))
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


__all__ = ["LOOPBACK_HOSTS", "ServiceProcess"]
