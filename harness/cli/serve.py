"""``harness serve``: the api-service and the pipeline-service on their ports, in one process, over
one set of backends (:class:`harness.serve.ServiceProcess`): for manual testing, for a frontend,
and for live-mode scenario runs.

It prints the URLs and the keys to use (never a secret it did not make: a root key from
``CA_ROOT_API_KEY`` is masked), then waits for Ctrl-C or SIGTERM and shuts both servers
down gracefully (a second Ctrl-C stops at once). Exit status: 0 after Ctrl-C / SIGTERM, 1 if the
services died, 2 if they could not start (e.g. a port in use, a data dir in use or damaged).
State (warehouse, keyring, provider fakes) is in memory unless ``--data-dir`` keeps it.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness.backends import Backend
from harness.cli.signals import stop_on_signals
from harness.servers import DEFAULT_HOST, ServeError

if TYPE_CHECKING:
    from harness.serve import ServiceProcess

DEFAULT_API_PORT = 8000
DEFAULT_PIPELINE_PORT = 8001


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = DEFAULT_HOST,
    api_port: Annotated[
        int, typer.Option("--api-port", min=0, max=65535, help="api-service port (0: a free one).")
    ] = DEFAULT_API_PORT,
    pipeline_port: Annotated[
        int, typer.Option("--pipeline-port", min=0, max=65535, help="pipeline-service port (0: a free one).")
    ] = DEFAULT_PIPELINE_PORT,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for the fakes' keys and data (repeatable runs).")
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            "--backend",
            envvar="HARNESS_BACKEND",
            help="fake (in-process fakes), emulator (real Google clients against emulators served "
            "by this process) or gcp.",
        ),
    ] = Backend.FAKE,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Allow browser calls from this origin (repeatable; '*' for any)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="HARNESS_DATA_DIR",
            file_okay=False,
            help="fake and emulator tiers: keep the warehouse (orgs included), KMS keys and provider "
            "keys here across restarts (one process at a time). Without it, state is in memory.",
        ),
    ] = None,
) -> None:
    """Serve the api-service and the pipeline-service over one set of backends until Ctrl-C.

    Prints the URLs, the root key (masked when CA_ROOT_API_KEY gave it) and provider admin keys the
    fakes minted for this process. Exit status: 0 after
    Ctrl-C / SIGTERM, 1 if the services died, 2 if they could not start (e.g. a port in use).
    """
    status = serve_forever(
        host=host,
        api_port=api_port,
        pipeline_port=pipeline_port,
        seed=seed,
        tier=backend,
        access_log=access_log,
        cors_origins=cors_origin or (),
        data_dir=data_dir,
    )
    if status:
        raise typer.Exit(status)


def _banner(services: ServiceProcess, keys: dict[str, str]) -> list[str]:
    from harness.control import CONTROL_PREFIX

    backends = services.require_backends()
    tables = len(backends.platform.config)
    data_dir = services.data_dir
    chosen = data_dir.seed if data_dir is not None else services.seed  # a data dir keeps its seed
    seed = f"seed {chosen}" if chosen is not None else "random seed (--seed N to repeat)"
    rows = [
        ("api-service", f"{services.api_url}   (docs {services.api_url}/docs)"),
        ("pipeline-service", f"{services.pipeline_url}   (docs {services.pipeline_url}/docs)"),
        (
            "meta tables",
            f"{tables} in dataset {backends.platform.meta_dataset} "
            f"({services.tables_created} created at start); GET /health/ready is green",
        ),
        ("root key", f"X-CA-Root-Key: {services.root_key_shown}"),
        ("state", f"kept in {data_dir.path}" if data_dir else "in memory (--data-dir keeps it)"),
        *((f"{provider} admin key", key) for provider, key in keys.items()),
        ("", "(accepted by the provider fakes: integration setup, usage and cost pipelines)"),
        (
            "control plane",
            f"{services.api_url}{CONTROL_PREFIX} (root key): reset, clock, provider keys and "
            "faults, BigQuery and KMS state, org rows",
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
    import uvicorn

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
    data_dir: Path | None = None,
    out: Callable[[str], None] | None = None,
    err: Callable[[str], None] | None = None,
) -> int:
    """Serve until Ctrl-C / SIGTERM; returns the exit status (0 clean stop, 1 died, 2 cannot start)."""
    # The serving stack (FastAPI, uvicorn, both services) loads only here, so that every other
    # command starts in a fraction of the time.
    from harness.serve import ServiceProcess
    from harness.services.settings import SettingsError, settings_from_environment

    out = out or (lambda line: print(line, flush=True))
    err = err or (lambda line: print(line, file=sys.stderr, flush=True))
    services: ServiceProcess | None = None

    def force_exit() -> None:
        if services is not None:
            services.force_exit()

    with stop_on_signals(force_exit) as stop:
        try:
            try:
                candidate = ServiceProcess(
                    host=host,
                    api_port=api_port,
                    pipeline_port=pipeline_port,
                    seed=seed,
                    settings=settings_from_environment(),
                    tier=tier,
                    access_log=access_log,
                    log_config=_log_config(access_log),
                    cors_origins=list(cors_origins),
                    data_dir=data_dir,
                )
                services = candidate.start()
            except ServeError as exc:
                err(f"error: {exc}")
                return 2
            except SettingsError as exc:  # a variable (ENVIRONMENT, a local secret on gcp...) is refused
                for problem in exc.problems:
                    err(f"error: invalid settings in the environment: {problem}")
                return 2
            keys = (
                {
                    "OpenAI": services.mint_admin_key("openai"),
                    "Anthropic": services.mint_admin_key("anthropic"),
                }
                if tier is not Backend.GCP
                else {}
            )
            for line in _banner(services, keys):
                out(line)
            status = 0
            while not stop.wait(0.5):
                if not services.running:
                    err(f"error: the services stopped unexpectedly: {services.error!r}")
                    status = 1
                    break
            return status
        finally:
            if services is not None:
                services.stop()
                out("Stopped.")


__all__ = ["serve_command", "serve_forever"]
