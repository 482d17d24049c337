"""The emulator tier's servers: BigQuery REST v2, Cloud KMS REST v1, and the OpenAI / Anthropic fake
apps, each on its own loopback port, served from one process in a background thread, on one clock.

    with Emulators() as emulators:            # free ports
        os.environ.update(emulators.env())    # BIGQUERY_EMULATOR_HOST, KMS_ENDPOINT, ...

``port_base=N`` serves them on N (BigQuery), N+1 (KMS), N+2 (OpenAI), N+3 (Anthropic); 0 picks
free ports. ``edge_port=N`` (0: a free port) also serves one port that routes every emulator by path
and credentials (:mod:`harness.edge`). Every port answers the control plane under ``/_harness``
(:mod:`harness.control`): whichever URL a client has, the controls are there. The KMS key ring
and crypto key named by ``Settings.kms_key_name`` exist from the start. Warehouse and KMS faults
armed on :attr:`Emulators.faults` are answered on the wire by the BigQuery and KMS emulators (one
queue for both, on the emulators' clock; a reset clears it).
Sockets are bound up front with :func:`harness.servers.bind_socket` (a port in use is a clear
:class:`~harness.servers.ServeError` before anything starts).

State is in memory unless ``data_dir`` is given: then BigQuery, the KMS keyring and the provider
fakes persist there at every change, and a process started again on the directory (even after a
``kill -9``) serves what the last one had (:mod:`harness.datadir`).

``auth=True`` is the authenticating mode: a local Google OAuth 2.0 token endpoint is served on one
more port (N+4 with a port base) and BigQuery and Cloud KMS then demand ``Authorization: Bearer``
credentials it issued (or self-signed JWTs of a key it knows), answering a missing, unknown or
expired one with Google's 401 (:mod:`fakes.google_oauth`). :meth:`Emulators.new_service_account_key`
makes a key file whose ``token_uri`` points there, so google-auth's service-account flow (the gcp
tier's) runs unchanged. Issued tokens expire on the emulators' clock; keys and tokens outlive a
reset (they are Google's, not the test data's).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from fakes.anthropic import AnthropicState
from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.query_wait import QuickStatements
from fakes.bigquery.rest import create_app as create_bigquery_app
from fakes.google_oauth import ServiceAccountKey, TokenAuthority, generate_key
from fakes.google_oauth.rest import TOKEN_PATH
from fakes.google_oauth.rest import create_app as create_token_app
from fakes.kms import KmsBackend
from fakes.kms.rest import create_app as create_kms_app
from fakes.openai import OpenAIState
from harness.clock import ManualClock, WallClock
from harness.control.app import WithControls, control_app
from harness.control.target import Controlled, conflict
from harness.datadir import DataDir, SavingWallClock
from harness.edge import EdgeRouter
from harness.faults.backend import FaultQueue
from harness.ports import Provider
from harness.servers import DEFAULT_HOST, ServeError, ServerThread, bind_socket, server_url
from harness.services.settings import Settings

EMULATORS = ("bigquery", "kms", "openai", "anthropic")
DEFAULT_PORT_BASE = 9050

_KEY_NAME = re.compile(
    r"^(?P<ring_name>(?P<location>projects/[^/]+/locations/[^/]+)/keyRings/(?P<ring>[^/]+))"
    r"/cryptoKeys/(?P<key>[^/]+)$"
)


class Emulators(ServerThread):
    """All four emulators on loopback ports in a background thread; a context manager."""

    what = "emulators"

    def __init__(
        self,
        *,
        port_base: int = 0,
        host: str = DEFAULT_HOST,
        settings: Settings | None = None,
        clock: ManualClock | None = None,
        seed: int | None = None,
        edge_port: int | None = None,
        data_dir: str | Path | DataDir | None = None,
        startup_timeout: float = 15.0,
        auth: bool = False,
    ) -> None:
        ports = len(EMULATORS) + (1 if auth else 0)
        if port_base and not 0 < port_base <= 65536 - ports:
            raise ServeError(f"port base {port_base} leaves no room for {ports} ports")
        self.host = host
        self.port_base = port_base
        self.settings = settings or Settings()
        self.data_dir = DataDir(data_dir) if isinstance(data_dir, str | Path) else data_dir
        self.clock = clock or (SavingWallClock(self.data_dir) if self.data_dir else WallClock())
        self.seed = seed
        self.edge_port = edge_port
        #: What ``POST /_harness/seed`` calls with the body's text and a source name; set by
        #: :func:`harness.seeding.serve_seed_files` (seeding sits above this module, so it plugs
        #: itself in rather than being imported here). Unset, the route answers 409.
        self.seeder: Callable[[str, str], dict[str, Any]] | None = None
        self._startup_timeout = startup_timeout
        #: Google's OAuth side in authenticating mode (None: anonymous requests are accepted).
        self.authority: TokenAuthority | None = TokenAuthority(lambda: self.clock) if auth else None
        #: The warehouse and KMS faults the BigQuery and KMS emulators answer on the wire.
        self.faults = FaultQueue(lambda: self.clock)
        self.engine: BigQueryEngine | None = None
        self.kms: KmsBackend | None = None
        self.openai: OpenAIState | None = None
        self.anthropic: AnthropicState | None = None
        self.ports: dict[str, int] = {}
        self.startup_seconds: float | None = None
        self._sockets: dict[str, socket.socket] = {}
        self._servers: dict[str, uvicorn.Server] = {}
        self._apps: dict[str, Any] = {}
        #: Which BigQuery statements are quick enough for the event loop: about the process, so
        #: kept across resets (the next test's statements are mostly the last one's).
        self._quick_statements = QuickStatements()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ URLs

    def url(self, name: str) -> str:
        if name not in self.ports:
            raise RuntimeError("Emulators are not started")
        return server_url(self.host, self.ports[name])

    @property
    def bigquery_url(self) -> str:
        return self.url("bigquery")

    @property
    def kms_url(self) -> str:
        return self.url("kms")

    @property
    def openai_url(self) -> str:
        """Root URL (no ``/v1``): what the harness's provider clients take as ``base_url``."""
        return self.url("openai")

    @property
    def anthropic_url(self) -> str:
        return self.url("anthropic")

    @property
    def token_uri(self) -> str:
        """The local token endpoint (authenticating mode): a key file's ``token_uri``."""
        return self.url("oauth") + TOKEN_PATH

    def new_service_account_key(
        self, path: str | Path | None = None, *, account: str = "harness-e2e"
    ) -> ServiceAccountKey:
        """A new service-account key for the settings' project whose ``token_uri`` is this token
        endpoint, registered with it (public half only); written owner-only to ``path`` if given."""
        if self.authority is None:
            raise RuntimeError("these emulators accept anonymous requests: start them with auth=True")
        key = generate_key(self.settings.gcp_project_id, token_uri=self.token_uri, account=account)
        self.authority.register(key)
        if path is not None:
            key.write(path)
        return key

    @property
    def edge_url(self) -> str | None:
        """The one URL that routes every emulator, when the edge port is on."""
        return self.url("edge") if "edge" in self.ports else None

    @property
    def extract_root(self) -> Path:
        """Where BigQuery extract jobs write ``gs://bucket/object`` (as ``<root>/bucket/object``)."""
        return self._apps["bigquery"].state.buckets.root

    def env(self) -> dict[str, str]:
        """The variables a user exports. ``BIGQUERY_EMULATOR_HOST`` is a whole URL: google-cloud-bigquery
        uses it as its API endpoint; ``OPENAI_BASE_URL`` ends in ``/v1`` as the openai SDK
        expects; ``ANTHROPIC_BASE_URL`` is the root, as the anthropic SDK expects. With the edge
        port on, all four name it (and ``HARNESS_EDGE_URL`` too)."""
        edge = self.edge_url
        env = {
            "BIGQUERY_EMULATOR_HOST": edge or self.bigquery_url,
            "KMS_ENDPOINT": edge or self.kms_url,
            "OPENAI_BASE_URL": (edge or self.openai_url) + "/v1",
            "ANTHROPIC_BASE_URL": edge or self.anthropic_url,
        }
        return {**env, "HARNESS_EDGE_URL": edge} if edge else env

    def info(self) -> dict[str, Any]:
        """What ``GET /_harness`` says about this process."""
        return {
            "tier": "emulator",
            "seed": self.seed,
            "auth": self.authority is not None,
            "urls": {name: self.url(name) for name in self.ports},
        }

    def controlled(self) -> Controlled:
        """The state the control plane reaches: this object's current engine, key ring and
        provider fakes (looked up per request, since :meth:`reset` replaces them)."""
        return Controlled(
            info=self.info,
            clock=lambda: self.clock,
            bigquery=lambda: self.engine,
            kms=lambda: self.kms,
            providers=lambda: {Provider.OPENAI: self.openai, Provider.ANTHROPIC: self.anthropic},
            reset=self._reset_keeping_seed,
            seed=self._seed_from_text,
            faults=lambda: self.faults,
            project=self.settings.gcp_project_id,
            kms_location=self.settings.kms_key_name.partition("/keyRings/")[0],
        )

    def _seed_from_text(self, text: str, source: str) -> dict[str, Any]:
        if self.seeder is None:
            raise conflict("these emulators take no seed files: nothing wired harness.seeding to them")
        return self.seeder(text, source)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulators:
        if self._thread is not None:
            raise RuntimeError("Emulators are already started")
        began = time.perf_counter()
        try:
            if self.data_dir is not None:
                self.seed = self.data_dir.open(self.seed, self.clock)
            for offset, name in enumerate(EMULATORS):
                port = self.port_base + offset if self.port_base else 0
                sock = bind_socket(f"{name} emulator", self.host, port)
                self._sockets[name] = sock
                self.ports[name] = sock.getsockname()[1]
            if self.authority is not None:
                port = self.port_base + len(EMULATORS) if self.port_base else 0
                self._sockets["oauth"] = bind_socket("token endpoint", self.host, port)
                self.ports["oauth"] = self._sockets["oauth"].getsockname()[1]
                self.authority.token_uri = self.token_uri
            if self.edge_port is not None:
                sock = bind_socket("edge port", self.host, self.edge_port)
                self._sockets["edge"] = sock
                self.ports["edge"] = sock.getsockname()[1]
            self._build()
            self._launch("harness-emulators")
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_servers(timeout)
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self.data_dir is not None:
            self.data_dir.close(self.clock)

    def __enter__(self) -> Emulators:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def reset(self, *, clock: ManualClock | None = None, seed: int | None = None) -> Emulators:
        """Fresh state behind the running servers (a new engine, key ring and provider fakes on
        ``clock`` and ``seed``, no armed fault): what a new ``Emulators`` would serve, without new
        servers. With a data directory its files are emptied too."""
        if not self.running:
            raise RuntimeError("Emulators are not started")
        if self.engine is not None:
            self.engine.close()
        self.clock = clock or self.clock
        self.seed = seed
        self.faults.clear()
        self.faults.fired.clear()
        if self.data_dir is not None:
            self.seed = self.data_dir.clear(seed)
            self.data_dir.save_clock(self.clock)
        self._fill_state()
        return self

    def _reset_keeping_seed(self) -> None:
        """The control plane's reset: fresh state on the same clock and seed."""
        self.reset(seed=self.seed)

    def _build(self) -> None:
        self._fill_state()
        controls = control_app(self.controlled(), self.settings)
        apps: dict[str, Any] = {name: _Current(self._apps, name) for name in EMULATORS}
        served = {name: WithControls(controls, app) for name, app in apps.items()}
        if self.authority is not None:
            served["oauth"] = WithControls(controls, create_token_app(self.authority))
        if "edge" in self.ports:
            served["edge"] = EdgeRouter({**apps, "control": controls})
        for name, app in served.items():
            config = uvicorn.Config(
                app,
                host=self.host,
                port=self.ports[name],
                lifespan="off",
                access_log=False,
                log_level="warning",
                timeout_graceful_shutdown=5,
            )
            self._servers[name] = uvicorn.Server(config)

    def _fill_state(self) -> None:
        match = _KEY_NAME.match(self.settings.kms_key_name)
        if match is None:
            raise ServeError(f"KMS_KEY_NAME {self.settings.kms_key_name!r} is not a crypto key name")
        if self.data_dir is None:
            self.engine = BigQueryEngine(self.clock)
            self.kms = KmsBackend(self.clock, seed=self.seed)
            self.openai = OpenAIState(clock=self.clock, seed=self.seed or 0)
            self.anthropic = AnthropicState(clock=self.clock, seed=self.seed or 0)
        else:
            state = self.data_dir.open_state(self.clock)
            self.engine, self.kms, self.openai, self.anthropic = (
                state.engine,
                state.kms,
                state.openai,
                state.anthropic,
            )
        if not any(ring["name"] == match["ring_name"] for ring in self.kms.list_key_rings(match["location"])):
            self.kms.create_key_ring(match["location"], match["ring"])
        if not any(key["name"] == match[0] for key in self.kms.list_crypto_keys(match["ring_name"])):
            self.kms.create_crypto_key(match["ring_name"], match["key"])
        self._apps.update(
            bigquery=create_bigquery_app(self.engine, self.faults, self.authority, self._quick_statements),
            kms=create_kms_app(self.kms, self.faults, self.authority),
            openai=_provider_app("openai", self.openai),
            anthropic=_provider_app("anthropic", self.anthropic),
        )


class _Current:
    """The app a server serves is looked up per request, so :meth:`Emulators.reset` can swap it."""

    def __init__(self, apps: dict[str, Any], name: str) -> None:
        self._apps = apps
        self._name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._apps[self._name](scope, receive, send)


def _provider_app(name: str, state: Any) -> Any:
    """The provider fake's app, its recorded delays enacted on the wire (a timeout fault makes the
    client's own read timeout fire)."""
    from fakes.providers.served import DelayedResponses

    if name == "openai":
        from fakes.openai.rest import create_app

        return DelayedResponses(create_app(state), state, "x-request-id")
    from fakes.anthropic.rest import create_app

    return DelayedResponses(create_app(state), state, "request-id")


__all__ = ["DEFAULT_PORT_BASE", "EMULATORS", "Emulators"]
