"""The ``harness`` command.

``harness check-schema`` is the preflight check: it loads the bootstrap config and runs BigQuery's
own table rules over it, so a config that real BigQuery would refuse (the classic: partitioning on
a column the schema does not have) fails here in milliseconds instead of halfway through a bootstrap.
``harness bootstrap`` creates the meta dataset and its tables on a tier and reports what it did.

Exit codes: 0 ok, 1 BigQuery would refuse something (or a live table drifted from the config),
2 the config could not be loaded.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from harness.backends import DEFAULT_PROJECT, Backend, build_warehouse
from harness.clock import SystemClock
from harness.onboarding.bootstrap import BootstrapConfigError, BootstrapReport, bootstrap
from harness.schema.loader import SchemaConfigError, load_config
from harness.schema.rules import validate_config
from harness.schema.spec import BootstrapConfig, TableSpec
from harness.schema.violations import Violation

app = typer.Typer(no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="bootstrap.yml to use (default: the packaged one).", exists=True),
]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", help="Project ID [default: $GCP_PROJECT_ID, else cloudact-local]."),
]

_NONE = "—"


@app.callback()
def main() -> None:
    """CloudAct test harness and emulator suite."""


@app.command("check-schema")
def check_schema(config: ConfigOption = None, project: ProjectOption = None) -> None:
    """Check the bootstrap config against BigQuery's table rules, without touching BigQuery."""
    out = _console()
    loaded = _load(config)
    out.print(_summary(loaded))
    violations = validate_config(loaded, _project(project))
    if violations:
        _report_violations(violations)
        raise typer.Exit(1)
    out.print(f"{len(loaded)} tables OK.", markup=False)


@app.command("bootstrap")
def bootstrap_command(
    config: ConfigOption = None,
    project: ProjectOption = None,
    backend: Annotated[Backend, typer.Option("--backend", help="Tier to bootstrap.")] = Backend.FAKE,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Keep the fake warehouse in files here instead of in memory."),
    ] = None,
) -> None:
    """Create the meta dataset and its tables (idempotent) and print what was created."""
    out = _console()
    loaded = _load(config)
    try:
        warehouse = build_warehouse(
            backend, clock=SystemClock(), project=_project(project), data_dir=data_dir
        )
    except ValueError as error:  # a tier the settings cannot reach (no emulators, no GCP project)
        Console(stderr=True, highlight=False).print(f"error: {error}", markup=False)
        raise typer.Exit(2) from error
    started = time.perf_counter()
    try:
        report = bootstrap(warehouse, loaded)
    except BootstrapConfigError as error:
        _report_violations(error.violations)
        raise typer.Exit(1) from error
    elapsed_ms = (time.perf_counter() - started) * 1000
    out.print(_summary(loaded, report))
    dataset_state = "created" if report.dataset_created else "already existed"
    out.print(
        f"{backend.value}: dataset {report.project}.{report.dataset_id} {dataset_state}; "
        f"{len(report.created)} tables created, {len(report.existing)} already existed "
        f"in {elapsed_ms:.0f} ms.",
        markup=False,
    )
    if report.drift:
        err = Console(stderr=True, highlight=False)
        for table_id, differences in report.drift.items():
            for difference in differences:
                err.print(f"drift: {table_id}: {difference}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    api_port: Annotated[
        int, typer.Option("--api-port", min=0, max=65535, help="api-service port (0: a free one).")
    ] = 8000,
    pipeline_port: Annotated[
        int, typer.Option("--pipeline-port", min=0, max=65535, help="pipeline-service port (0: a free one).")
    ] = 8001,
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
) -> None:
    """Serve the api-service and the pipeline-service over one set of backends until Ctrl-C.

    Prints the URLs, the root key and provider admin keys the fakes accept. Exit status: 0 after
    Ctrl-C / SIGTERM, 1 if the services died, 2 if they could not start (e.g. a port in use).
    """
    from harness.serve import serve_forever

    status = serve_forever(
        host=host,
        api_port=api_port,
        pipeline_port=pipeline_port,
        seed=seed,
        tier=backend,
        access_log=access_log,
        cors_origins=cors_origin or (),
    )
    if status:
        raise typer.Exit(status)


def _console() -> Console:
    """Logs are not terminals: give them room so summary rows never fold (rich assumes 80)."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _load(config: Path | None) -> BootstrapConfig:
    try:
        return load_config(config)
    except SchemaConfigError as error:
        Console(stderr=True, highlight=False).print(str(error), markup=False, soft_wrap=True)
        raise typer.Exit(2) from error


def _project(project: str | None) -> str:
    return project or os.environ.get("GCP_PROJECT_ID") or DEFAULT_PROJECT


def _report_violations(violations: dict[str, list[Violation]]) -> None:
    err = Console(stderr=True, highlight=False)
    for name, found in violations.items():
        for violation in found:
            err.print(f"{name}: {violation}", markup=False, soft_wrap=True)
    count = sum(len(found) for found in violations.values())
    err.print(f"{count} problem(s) BigQuery would refuse.", markup=False)


def _summary(config: BootstrapConfig, report: BootstrapReport | None = None) -> Table:
    dataset = config.dataset
    table = Table(
        title=f"{dataset.dataset_id} ({dataset.location}): {len(config)} tables",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("table", no_wrap=True)
    table.add_column("partitioning", no_wrap=True)
    table.add_column("clustering", no_wrap=True)
    table.add_column("cols", justify="right", no_wrap=True)
    table.add_column("expires", justify="right", no_wrap=True)
    statuses = {t.table_id: t.status.value for t in report.tables} if report else {}
    if report:
        table.add_column("status", no_wrap=True)
    for spec in config.tables:
        row = [
            spec.table_id,
            _partitioning(spec),
            ", ".join(spec.clustering_fields) or _NONE,
            str(len(spec.schema)),
            _expiration(spec),
        ]
        table.add_row(*row, *([statuses.get(spec.table_id, _NONE)] if report else []))
    return table


def _partitioning(spec: TableSpec) -> str:
    partitioning = spec.time_partitioning
    if partitioning is None:
        return _NONE
    # Ingestion-time partitioning is on BigQuery's _PARTITIONTIME pseudo-column.
    return f"{partitioning.type.value}({partitioning.field or '_PARTITIONTIME'})"


def _expiration(spec: TableSpec) -> str:
    """Partition expiration in the largest whole unit (``24h`` is shown as ``1d``)."""
    partitioning = spec.time_partitioning
    if partitioning is None or partitioning.expiration_ms is None:
        return _NONE
    ms = partitioning.expiration_ms
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms > 0 and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


# ------------------------------------------------------------------------------ harness scenario

scenario_app = typer.Typer(no_args_is_help=True, help="Scenario files: their JSON Schema and a linter.")
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("schema")
def scenario_schema_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file instead of stdout.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that --output is up to date (exit 1 if it is not).")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files, for editors (yaml-language-server, VS Code, PyCharm)."""
    from harness.scenario.loader import scenario_json_schema_text

    text = scenario_json_schema_text()
    if output is None:
        if check:
            raise typer.BadParameter("--check needs --output FILE", param_hint="--check")
        typer.echo(text, nl=False)
        return
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            typer.echo(f"{output} is out of date; run: harness scenario schema --output {output}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date.")
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@scenario_app.command("lint")
def scenario_lint_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Scenario files, or directories searched for *.yml / *.yaml.",
            exists=True,
            metavar="PATHS...",
        ),
    ],
) -> None:
    """Check scenario files and print every problem as path:line: field: message.

    Exit codes: 0 all valid, 1 some file has problems, 2 usage error (no such path, no files).
    """
    from harness.scenario.loader import lint_scenario, scenario_files

    files = scenario_files(paths)
    if not files:
        typer.echo(f"no scenario files (*.yml, *.yaml) in: {', '.join(map(str, paths))}", err=True)
        raise typer.Exit(2)
    problems = 0
    bad_files = 0
    for path in files:
        errors = lint_scenario(path)
        for error in errors:
            typer.echo(str(error))
        problems += len(errors)
        bad_files += bool(errors)
    if problems:
        typer.echo(f"{problems} problem(s) in {bad_files} of {len(files)} scenario file(s).")
        raise typer.Exit(1)
    typer.echo(f"{len(files)} scenario file(s) OK.")


# ----------------------------------------------------------------------- harness run / replay
# Exit codes: 0 every scenario passed (or was skipped: not for this tier), 1 a scenario failed,
# 2 usage or preflight error (bad path/shard, a file that does not load, tier not available,
# services not answering /health, an action live mode cannot do), 130 interrupted (Ctrl-C).

_RUNS_DIR_OPTION = typer.Option("--runs-dir", help="Where run records go (<runs-dir>/<run_id>/record.json).")


@app.command("run")
def run_command(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files or directories (searched for *.yml recursively).")
    ],
    backend: Annotated[
        str,
        typer.Option("--backend", envvar="HARNESS_BACKEND", help="Tier: fake (in-process), emulator or gcp."),
    ] = "fake",
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="Run against a live api-service (with --pipeline-url).")
    ] = None,
    pipeline_url: Annotated[
        str | None, typer.Option("--pipeline-url", help="Run against a live pipeline-service.")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Keep provider responses (scrubbed) in the run record.")
    ] = False,
    junit_xml_path: Annotated[
        Path | None, typer.Option("--junit-xml", help="Write a JUnit XML report (one testcase per scenario).")
    ] = None,
    shard: Annotated[
        str | None, typer.Option("--shard", help="Run only shard i of n (1-based), e.g. 2/4.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for the fakes (overrides the file's).")
    ] = None,
    runs_dir: Annotated[Path, _RUNS_DIR_OPTION] = Path(".harness/runs"),
) -> None:
    """Run scenario files: one line per step, a summary, a failure report with a replay command."""
    from harness.scenario.model import Tier
    from harness.scenario.reporting import SelectionError, expand_paths, parse_shard, select_shard

    out, err = _console(), Console(stderr=True, highlight=False)
    try:
        tier = Tier(backend)
    except ValueError:
        _usage_error(err, f"--backend {backend!r}: expected one of {', '.join(t.value for t in Tier)}")
    if (api_url is None) != (pipeline_url is None):
        _usage_error(err, "--api-url and --pipeline-url go together")
    try:
        paths = expand_paths(scenarios)
        if not paths:
            _usage_error(err, "no scenario files found in " + ", ".join(str(p) for p in scenarios))
        if shard is not None:
            index, count = parse_shard(shard)
            paths = select_shard(paths, index, count)
            out.print(f"shard {index}/{count}: {len(paths)} scenario(s)", markup=False, highlight=False)
    except SelectionError as exc:
        _usage_error(err, str(exc))
    loaded = _load_scenarios(paths, err)
    if api_url is not None and pipeline_url is not None:
        _preflight_live(err, api_url, pipeline_url)
    status = _run_all(
        loaded,
        out=out,
        err=err,
        tier=tier,
        api_url=api_url,
        pipeline_url=pipeline_url,
        record=record,
        seed=seed,
        runs_dir=runs_dir,
        junit_path=junit_xml_path,
    )
    if status:
        raise typer.Exit(status)


@app.command("replay")
def replay_command(
    target: Annotated[
        Path, typer.Argument(help="A run record (record.json or its directory), or a scenario file.")
    ],
    record: Annotated[
        bool, typer.Option("--record", help="Keep provider responses in the replay's own record.")
    ] = False,
    runs_dir: Annotated[Path, _RUNS_DIR_OPTION] = Path(".harness/runs"),
) -> None:
    """Re-run a run record offline: fake tier, same run id, seed, clock and provider responses."""
    from harness.scenario.records import is_record, read_record
    from harness.scenario.runner import RunInterrupted, ScenarioUsageError, replay

    out, err = _console(), Console(stderr=True, highlight=False)
    if not target.exists():
        _usage_error(err, f"{target}: no such file or directory")
    original = None
    if is_record(target):
        try:
            original = read_record(target)
        except ValueError as exc:
            _usage_error(err, f"{target}: not a readable run record: {exc}")
        recorded = sum(1 for call in original.provider_calls if call.recorded)
        out.print(
            f"replaying {original.scenario_name} from {target}: run {original.run_id}, seed {original.seed}, "
            f"clock {original.clock_start.isoformat()}, {recorded} recorded provider response(s); "
            f"originally {original.outcome} ({original.tier}, {original.mode})",
            markup=False,
            highlight=False,
        )
    else:
        _load_scenarios([target], err)
    try:
        outcome = replay(target, runs_dir=runs_dir, record=record, on_step=_step_printer(out))
    except ScenarioUsageError as exc:
        _usage_error(err, str(exc))
    except RunInterrupted as exc:
        out.print(exc.outcome.failure_report(), markup=False, highlight=False)
        raise typer.Exit(130) from exc
    except Exception as exc:
        from harness.scenario.loader import ScenarioError

        if isinstance(exc, ScenarioError | ValueError):
            _usage_error(err, str(exc))
        raise
    _print_outcome(out, outcome)
    if original is not None and original.failure is not None:
        replayed = outcome.failed_step
        same = (
            replayed is not None
            and not replayed.cleanup
            and replayed.index == original.failure.step_index
            and outcome.scrub_text("\n".join(replayed.failures)) == "\n".join(original.failure.messages)
        )
        verdict = "reproduced" if same else "NOT reproduced"
        where = original.failure.step or "?"
        out.print(f"{verdict}: the original run failed at {where}", markup=False, highlight=False)
    if not outcome.ok:
        raise typer.Exit(1)


def _usage_error(err: Console, message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _load_scenarios(paths: list[Path], err: Console) -> list[tuple[Path, object]]:
    """Every file loads, or exit 2 listing every problem (file:line: field: message)."""
    from harness.scenario.loader import ScenarioError
    from harness.scenario.runner import load_scenario_file

    loaded: list[tuple[Path, object]] = []
    problems: list[str] = []
    for path in paths:
        try:
            loaded.append((path, load_scenario_file(path)))
        except ScenarioError as exc:
            problems.extend(str(e) for e in exc.errors)
    if problems:
        for problem in problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
        _usage_error(err, f"{len(problems)} problem(s) in scenario files; nothing was run")
    return loaded


def _preflight_live(err: Console, api_url: str, pipeline_url: str) -> None:
    import httpx

    for name, url in (("api-service", api_url), ("pipeline-service", pipeline_url)):
        try:
            response = httpx.get(f"{url.rstrip('/')}/health", timeout=5.0)
            healthy = response.status_code == 200
            detail = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            healthy, detail = False, f"{type(exc).__name__}: {exc}"
        if not healthy:
            _usage_error(err, f"{name} at {url} does not answer GET /health ({detail})")


def _step_printer(out: Console):  # type: ignore[no-untyped-def]
    from rich.markup import escape

    def show(step) -> None:  # type: ignore[no-untyped-def]
        mark = "[green]ok  [/green]" if step.ok else "[bold red]FAIL[/bold red]"
        number = "   " if step.cleanup else f"{step.index + 1:>3}"
        status = str(step.status) if step.status is not None else "—"
        label = step.label if len(step.label) <= 44 else step.label[:43] + "…"
        out.print(
            f"  {mark} {number} {escape(f'{label:<44}')} {status:>4} {step.elapsed_ms:8.1f} ms  "
            f"[dim]{escape(step.detail)}[/dim]",
            highlight=False,
            soft_wrap=True,
        )

    return show


def _print_outcome(out: Console, outcome) -> None:  # type: ignore[no-untyped-def]
    from harness.scenario.runner import PASSED, SKIPPED

    if outcome.status == SKIPPED:
        out.print(f"  [yellow]skipped[/yellow]: {outcome.reason}", highlight=False)
        return
    colour = "green" if outcome.status == PASSED else "bold red"
    steps = f"{len(outcome.steps)}/{len(outcome.scenario.steps)} steps"
    calls = f", {outcome.provider_calls} provider call(s)" if outcome.provider_calls else ""
    if outcome.provider_responses_replayed:
        calls += f" ({outcome.provider_responses_replayed} served from the record)"
    out.print(
        f"  [{colour}]{outcome.status}[/{colour}] {outcome.scenario.name}: {steps} in "
        f"{outcome.duration_ms:.0f} ms{calls} (run {outcome.run_id}, seed {outcome.seed}, "
        f"{outcome.mode}, {outcome.tier.value} tier)",
        highlight=False,
    )
    if outcome.status != PASSED:
        out.print(outcome.failure_report(), markup=False, highlight=False, soft_wrap=True)
    elif outcome.record_path is not None:
        out.print(f"  [dim]record: {outcome.record_path}[/dim]", highlight=False)


def _run_all(
    loaded: list[tuple[Path, object]],
    *,
    out: Console,
    err: Console,
    tier,  # type: ignore[no-untyped-def]
    api_url: str | None,
    pipeline_url: str | None,
    record: bool,
    seed: int | None,
    runs_dir: Path,
    junit_path: Path | None,
) -> int:
    from rich.markup import escape

    from harness.scenario.reporting import CaseResult, junit_xml
    from harness.scenario.runner import (
        FAILED,
        INTERRUPTED,
        PASSED,
        SKIPPED,
        LiveUnsupported,
        RunInterrupted,
        ScenarioUsageError,
        check_scenario,
        run_scenario,
        skip_reason,
    )

    live = api_url is not None
    usage: list[str] = []
    for path, scenario in loaded:
        if skip_reason(scenario, tier=tier, live=live) is not None:  # type: ignore[arg-type]
            continue
        try:
            check_scenario(scenario, tier=tier, live=live)  # type: ignore[arg-type]
        except ScenarioUsageError as exc:
            usage.append(f"{path}: {exc}")
    if usage:
        for line in usage:
            err.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
        return 2
    if record and live:
        out.print("note: --record keeps provider responses of in-process runs only", highlight=False)

    cases: list[CaseResult] = []
    status = 0
    started = time.perf_counter()
    try:
        for path, scenario in loaded:
            name = scenario.name  # type: ignore[attr-defined]
            out.print(f"[bold]{name}[/bold] [dim]{path}[/dim]", highlight=False)
            case = CaseResult(path, name)
            cases.append(case)
            try:
                case.outcome = run_scenario(
                    scenario,  # type: ignore[arg-type]
                    source=path,
                    tier=tier,
                    api_url=api_url,
                    pipeline_url=pipeline_url,
                    record=record,
                    runs_dir=runs_dir,
                    seed=seed,
                    on_step=_step_printer(out),
                )
            except LiveUnsupported as exc:
                case.skipped = str(exc)
                out.print(f"  [yellow]skipped[/yellow]: {escape(str(exc))}", highlight=False)
                continue
            except ScenarioUsageError as exc:
                case.error = str(exc)
                err.print(f"error: {path}: {exc}", markup=False, highlight=False, soft_wrap=True)
                status = 2
                continue
            _print_outcome(out, case.outcome)
            if case.outcome.status == FAILED and status == 0:
                status = 1
    except RunInterrupted as exc:
        cases[-1].outcome = exc.outcome
        _print_outcome(out, exc.outcome)
        status = 130
    finally:
        if junit_path is not None:
            junit_path.parent.mkdir(parents=True, exist_ok=True)
            junit_path.write_text(junit_xml(cases), encoding="utf-8")
    counts = {
        key: sum(1 for c in cases if c.outcome is not None and c.outcome.status == key)
        for key in (PASSED, FAILED, SKIPPED, INTERRUPTED)
    }
    counts[SKIPPED] += sum(1 for c in cases if c.skipped is not None)
    errors = sum(1 for c in cases if c.outcome is None and c.skipped is None)
    parts = [f"{n} {key}" for key, n in counts.items() if n] + ([f"{errors} error(s)"] if errors else [])
    colour = "green" if status == 0 else "bold red"
    out.print(
        f"[{colour}]{len(cases)} scenario(s): {', '.join(parts) or 'none run'}[/{colour}] "
        f"in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
    if junit_path is not None:
        out.print(f"[dim]JUnit XML: {junit_path}[/dim]", highlight=False)
    return status


emulators_app = typer.Typer(no_args_is_help=True, help="The emulator tier's local emulators.")
app.add_typer(emulators_app, name="emulators")


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
) -> None:
    """Serve the BigQuery, Cloud KMS, OpenAI and Anthropic emulators from one process until Ctrl-C."""
    import shlex
    import signal
    import sys
    import threading

    from harness.emulators import Emulators
    from harness.serve import ServeError

    stop = threading.Event()
    emulators: Emulators | None = None

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set() and emulators is not None:
            emulators.force_exit()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        try:
            emulators = Emulators(port_base=port_base, host=host).start()
        except ServeError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise typer.Exit(2) from exc
        env = emulators.env()
        if print_env:
            for name, value in env.items():
                print(f"export {name}={shlex.quote(value)}", flush=True)
            print(f"# emulators started in {emulators.startup_seconds:.3f} s", file=sys.stderr, flush=True)
        else:
            print(f"CloudAct emulators, started in {emulators.startup_seconds:.3f} s:", flush=True)
            for name in ("bigquery", "kms", "openai", "anthropic"):
                print(f"  {name:<10} {emulators.url(name)}", flush=True)
            for name, value in env.items():
                print(f"export {name}={shlex.quote(value)}", flush=True)
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
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if status:
        raise typer.Exit(status)
