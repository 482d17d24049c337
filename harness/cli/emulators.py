"""``harness emulators up``: the emulator tier's four emulators served from this process.

What a developer runs beside the real Google clients (``eval "$(harness emulators up
--print-env)"``), and what the container image runs. ``--seed-file F`` (repeatable) loads seed files
(:mod:`harness.seeding`): every file is checked before anything starts, and seeded after the start,
before the environment is printed, so a reader of the printed variables finds the data there.
State is in memory unless ``--data-dir`` names a directory to keep it in (:mod:`harness.datadir`);
seed files then seed it when it is new only, so the same command restarts on its own data.
``--auth`` makes BigQuery and Cloud KMS demand OAuth bearer credentials like Google, served by a
local token endpoint (port N+4), and writes a new service-account key file for it (``--key-file``;
a new key at every start): its path is printed, and exported as ``GOOGLE_APPLICATION_CREDENTIALS``
with ``--print-env``, never its contents.
Exit codes: 0 after Ctrl-C / SIGTERM, 1 if the emulators died, 2 if they could not start (e.g. a
port in use, a data dir in use by another process or holding a damaged file) or a seed file is
wrong (``path:line: field: message`` on stderr).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.signals import stop_on_signals

emulators_app = typer.Typer(no_args_is_help=True, help="The emulator tier's local emulators.")


@emulators_app.command("up")
def emulators_up_command(
    port_base: Annotated[
        int,
        typer.Option(
            "--port-base",
            min=0,
            max=65532,
            help="BigQuery on N, KMS on N+1, OpenAI on N+2, Anthropic on N+3 (0: free ports).",
        ),
    ] = 9050,
    print_env: Annotated[
        bool, typer.Option("--print-env", help="Print only `export VAR=value` lines (for eval).")
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 inside a container).")
    ] = "127.0.0.1",
    edge_port: Annotated[
        int | None,
        typer.Option(
            "--edge-port",
            min=0,
            max=65535,
            help="Also serve one port that routes every emulator by path and credentials "
            "(0: a free port); the printed variables then all name it.",
        ),
    ] = None,
    seed_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--seed-file",
            help="Seed the emulators from this YAML/JSON file after they start (repeatable, in order).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="HARNESS_DATA_DIR",
            file_okay=False,
            help="Keep BigQuery tables and rows, KMS keys and provider keys here, across restarts "
            "(created if missing; one process at a time). Without it, state is in memory.",
        ),
    ] = None,
    auth: Annotated[
        bool,
        typer.Option(
            "--auth",
            help="Authenticate like Google: a local OAuth token endpoint (port N+4) issues the tokens "
            "BigQuery and Cloud KMS then require; writes a service-account key file for it.",
        ),
    ] = False,
    key_file: Annotated[
        Path,
        typer.Option(
            "--key-file",
            dir_okay=False,
            help="With --auth: where the service-account key file goes (owner-only; for "
            "GOOGLE_APPLICATION_CREDENTIALS).",
        ),
    ] = Path(".harness/service-account.json"),
) -> None:
    """Serve the BigQuery, Cloud KMS, OpenAI and Anthropic emulators from one process until Ctrl-C."""
    # Imported here: the fakes behind the emulators load only when a command needs them.
    from harness.control import CONTROL_PREFIX
    from harness.emulators import Emulators
    from harness.seeding import SeedError, apply_seed, load_seed_files, serve_seed_files
    from harness.servers import ServeError

    try:
        documents = load_seed_files(seed_files or ())
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise typer.Exit(2) from None

    emulators: Emulators | None = None

    def force_exit() -> None:
        if emulators is not None:
            emulators.force_exit()

    status = 0
    with stop_on_signals(force_exit) as stop:
        try:
            try:
                emulators = serve_seed_files(
                    Emulators(
                        port_base=port_base, host=host, edge_port=edge_port, data_dir=data_dir, auth=auth
                    )
                ).start()
                if auth:
                    emulators.new_service_account_key(key_file)
                if emulators.data_dir is None or emulators.data_dir.fresh:
                    seeded = [apply_seed(document, emulators).summary() for document in documents]
                else:  # like a database's init scripts: a data dir is seeded once, when it is new
                    seeded = [f"{data_dir} holds state already: seed files not applied"] if documents else []
            except (ServeError, SeedError, OSError) as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
                raise typer.Exit(2) from exc
            for line in seeded:
                print(
                    f"# {line}" if print_env else line,
                    file=sys.stderr if print_env else sys.stdout,
                    flush=True,
                )
            env = emulators.env()
            if auth:
                env["GOOGLE_APPLICATION_CREDENTIALS"] = str(key_file.resolve())
                env["GCP_PROJECT_ID"] = emulators.settings.gcp_project_id
                env["KMS_KEY_NAME"] = emulators.settings.kms_key_name
                where_key = (
                    f"service-account key for GOOGLE_APPLICATION_CREDENTIALS written to {key_file.resolve()} "
                    f"(token endpoint {emulators.token_uri}; BigQuery and Cloud KMS require its tokens)"
                )
                print(
                    f"# {where_key}" if print_env else where_key,
                    file=sys.stderr if print_env else sys.stdout,
                    flush=True,
                )
            if print_env:
                for name, value in env.items():
                    print(f"export {name}={shlex.quote(value)}", flush=True)
                print(
                    f"# emulators started in {emulators.startup_seconds:.3f} s", file=sys.stderr, flush=True
                )
            else:
                print(f"CloudAct emulators, started in {emulators.startup_seconds:.3f} s:", flush=True)
                for name in emulators.ports:
                    print(f"  {name:<10} {emulators.url(name)}", flush=True)
                print(f"  {'controls':<10} {CONTROL_PREFIX} on every port (X-CA-Root-Key)", flush=True)
                for name, value in env.items():
                    print(f"export {name}={shlex.quote(value)}", flush=True)
                where = (
                    f"kept in {data_dir}" if data_dir is not None else "in memory (--data-dir DIR keeps it)"
                )
                print(f"State: {where}.", flush=True)
                print(
                    f"BigQuery extract jobs: gs://BUCKET/OBJECT is {emulators.extract_root}/BUCKET/OBJECT.",
                    flush=True,
                )
                print("Press Ctrl-C to stop.", flush=True)
            while not stop.wait(0.5):
                if not emulators.running:
                    print("error: the emulators stopped unexpectedly", file=sys.stderr, flush=True)
                    status = 1
                    break
        finally:
            if emulators is not None:
                emulators.stop()
                print("Stopped.", file=sys.stderr, flush=True)
    if status:
        raise typer.Exit(status)


__all__ = ["emulators_app"]
