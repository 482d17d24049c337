"""``harness run`` and ``harness replay``: the human front end for one or a few scenarios.

One line per step, a summary, and on failure the runner's report with a replay command; every run
leaves its run record. CI runs scenarios through pytest instead (each scenario file is a test item
there, made by the same runner): ``pytest scenarios --junit-xml=report.xml``, sharded with
pytest-split's ``--splits N --group I``.

Exit codes: 0 every scenario passed (or was skipped: not for this tier), 1 a scenario failed,
2 usage or preflight error (bad path, a file that does not load, tier not available, services not
answering /health, an action live mode cannot do), 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM: what ``timeout``, CI cancellation and ``docker stop`` send). SIGTERM is handled exactly
like Ctrl-C: the running scenario stops, its orgs are cleaned up and its record is written; a
second signal stops the cleanup and names the orgs it kept.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.cli.console import stderr_console, stdout_console, usage_error

if TYPE_CHECKING:
    from harness.recording.options import RecordingOptions
    from harness.scenario.model import Scenario, Tier
    from harness.scenario.outcome import RunOutcome
    from harness.scenario.selection import Selection

INTERRUPTED_EXIT = 128 + signal.SIGINT
TRANSLATIONS_DIR = ".translations"
"""Under the runs directory: the fake BigQuery's translations, kept for the next run."""


class _Signals:
    """While a command runs, SIGTERM raises ``KeyboardInterrupt`` like Ctrl-C does, so one path
    (the runner's) cleans up and records for both; remembers which signal came, for the exit code.

    Python's default for SIGTERM is to die at once: no cleanup, no record, the org stays."""

    def __init__(self) -> None:
        self.exit_code = INTERRUPTED_EXIT
        self._previous: signal.Handlers | object = None

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():  # signal() works there only
            self._previous = signal.signal(signal.SIGTERM, self._terminate)
        return self

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        self.exit_code = 128 + signum
        raise KeyboardInterrupt

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]


_RUNS_DIR_OPTION = typer.Option("--runs-dir", help="Where run records go (<runs-dir>/<run_id>/record.json).")


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
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for the fakes (overrides the file's).")
    ] = None,
    runs_dir: Annotated[Path, _RUNS_DIR_OPTION] = Path(".harness/runs"),
    record_mode: Annotated[
        str | None,
        typer.Option(
            "--record-mode",
            envvar="HARNESS_RECORD_MODE",
            help="none | once | new_episodes | all: record the real clients' HTTP exchanges "
            "(emulator, gcp) into cassette.json beside the run record. Default: all on gcp, off "
            "elsewhere; on the fake tier anything but none is --record.",
        ),
    ] = None,
    match_on: Annotated[
        str,
        typer.Option(
            "--match-on",
            envvar="HARNESS_MATCH_ON",
            help="What makes a request match a recording: a subset of method,path,query,body.",
        ),
    ] = "method,path",
    cassette: Annotated[
        Path | None,
        typer.Option("--cassette", help="A cassette to replay from (modes none, once, new_episodes)."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Write one self-contained HTML report of the batch here: each scenario's step "
            "timeline, faults, retries and exchanges, failures first.",
        ),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Run only scenarios carrying this tag (repeat for any of several)."),
    ] = None,
    keyword: Annotated[
        str | None,
        typer.Option(
            "-k",
            help="Run only scenarios whose name, path or tags match: substrings joined by and, or, "
            "not and parentheses, as pytest's -k.",
        ),
    ] = None,
    last_failed: Annotated[
        bool,
        typer.Option(
            "--last-failed",
            help="Run only scenarios whose latest run record (in --runs-dir) failed; all when none did.",
        ),
    ] = False,
) -> None:
    """Run scenario files: one line per step, a summary, a failure report with a replay command.

    Over several scenarios each is numbered [n/N] with the elapsed time and an ETA (a progress bar
    on a terminal, plain lines in logs or with NO_COLOR).

    For CI (JUnit XML, shards, parallel workers) run them through pytest:
    pytest scenarios --junit-xml=report.xml --splits N --group I.
    """
    out, err = stdout_console(), stderr_console()
    recording = _recording_options(err, record_mode, match_on, cassette)
    selection = _selection(out, tags or [], keyword, runs_dir if last_failed else None)
    with _Signals() as signals:
        try:
            status = _run_command(
                scenarios,
                out,
                err,
                backend,
                (api_url, pipeline_url),
                record=record,
                seed=seed,
                runs_dir=runs_dir,
                recording=recording,
                selection=selection,
                html=html,
            )
        except KeyboardInterrupt:  # before a scenario started (loading, preflight): nothing to undo
            err.print("interrupted before any scenario started; nothing to clean up", highlight=False)
            status = INTERRUPTED_EXIT
        if status == INTERRUPTED_EXIT:
            status = signals.exit_code
    if status:
        raise typer.Exit(status)


def _run_command(
    scenarios: list[Path],
    out: Console,
    err: Console,
    backend: str,
    urls: tuple[str | None, str | None],
    *,
    record: bool,
    seed: int | None,
    runs_dir: Path,
    recording: RecordingOptions | None = None,
    selection: Selection | None = None,
    html: Path | None = None,
) -> int:
    """``harness run`` without its signal handling: the exit status. ``urls`` are the live
    api-service and pipeline-service (both or neither); ``selection`` picks among the files;
    ``html`` is where the batch's report goes."""
    api_url, pipeline_url = urls
    from harness.scenario.loader import scenario_files
    from harness.scenario.model import Tier
    from harness.scenario.problems import ScenarioError

    try:
        tier = Tier(backend)
    except ValueError:
        usage_error(err, f"--backend {backend!r}: expected one of {', '.join(t.value for t in Tier)}")
    if (api_url is None) != (pipeline_url is None):
        usage_error(err, "--api-url and --pipeline-url go together")
    _check_settings(err)
    try:
        paths = sorted(set(scenario_files(scenarios)), key=lambda p: p.as_posix())
    except ScenarioError as exc:
        usage_error(err, str(exc))
    if not paths:
        usage_error(err, "no scenario files found in " + ", ".join(str(p) for p in scenarios))
    loaded = _load_scenarios(paths, err)
    if selection:
        loaded = _select(err, loaded, selection)
    if api_url is not None and pipeline_url is not None:
        _preflight_live(err, api_url, pipeline_url)
    # In-process services log a known upstream failure (a structured 5xx) as a warning; here that
    # is the step's own result, already on its line. Unexpected errors (tracebacks) still print.
    services_log = logging.getLogger("harness.services")
    level = services_log.level
    services_log.setLevel(max(level, logging.ERROR))
    records: list[Path] = []
    try:
        return _run_all(
            loaded,
            out=out,
            err=err,
            tier=tier,
            api_url=api_url,
            pipeline_url=pipeline_url,
            record=record,
            seed=seed,
            runs_dir=runs_dir,
            recording=recording,
            written=records,
        )
    finally:
        services_log.setLevel(level)
        if html is not None:
            _write_html(out, err, html, records, runs_dir)


def _selection(out: Console, tags: list[str], keyword: str | None, failed_in: Path | None) -> Selection:
    """The ``--tag``, ``-k`` and ``--last-failed`` options as one :class:`Selection` (the last
    read from the run records in ``failed_in``), or exit 2 on a ``-k`` that does not parse."""
    from harness.scenario.selection import Selection, SelectionError, compile_expression, last_failed

    if keyword is not None:
        try:
            compile_expression(keyword)
        except SelectionError as exc:
            usage_error(stderr_console(), str(exc))
    failed = None
    if failed_in is not None:
        failed = last_failed(failed_in)
        if not failed:
            out.print(f"--last-failed: no failed run in {failed_in}; running every scenario", highlight=False)
            failed = None
    return Selection(tags=tuple(tags), expression=keyword, failed_names=failed)


def _select(
    err: Console, loaded: list[tuple[Path, Scenario]], selection: Selection
) -> list[tuple[Path, Scenario]]:
    from harness.scenario.selection import select

    kept = select(loaded, selection)
    if not kept:
        known = ", ".join(sorted(scenario.name for _, scenario in loaded))
        usage_error(err, f"{selection.describe()}: no scenario matches (scenarios: {known})")
    return kept


def _write_html(out: Console, err: Console, path: Path, records: list[Path], runs_dir: Path) -> None:
    """The batch's HTML report, from the records as written (scrubbed), whatever the outcome."""
    from harness.report import write_report
    from harness.scenario.records import read_record

    try:
        write_report(path, [read_record(record) for record in records], runs_dir=runs_dir)
    except (OSError, ValueError) as exc:
        err.print(f"error: --html {path}: {exc}", markup=False, highlight=False, soft_wrap=True)
        return
    out.print(f"html report: {path}", markup=False, highlight=False)


def _recording_options(
    err: Console, mode: str | None, match_on: str, cassette: Path | None
) -> RecordingOptions:
    """The run's record mode, match rule and cassette, or exit 2 naming the bad option."""
    from harness.recording import CassetteError, RecordingOptions, parse_match_on, parse_mode

    try:
        options = RecordingOptions(
            mode=parse_mode(mode) if mode else None, match_on=parse_match_on(match_on), cassette=cassette
        )
    except CassetteError as exc:
        usage_error(err, str(exc))
    if cassette is not None and not cassette.is_file() and options.mode_for("emulator").value == "none":
        usage_error(err, f"--cassette {cassette}: no such file (record mode none replays only)")
    return options


def replay_command(
    target: Annotated[
        Path, typer.Argument(help="A run record (record.json or its directory), or a scenario file.")
    ],
    record: Annotated[
        bool, typer.Option("--record", help="Keep provider responses in the replay's own record.")
    ] = False,
    runs_dir: Annotated[Path, _RUNS_DIR_OPTION] = Path(".harness/runs"),
) -> None:
    """Re-run a run record offline: same run id, seed, clock and recorded responses (an emulator or
    gcp record with a cassette replays on the real clients, answered from it, mode none)."""
    from harness.scenario.outcome import RunInterrupted, ScenarioUsageError
    from harness.scenario.problems import ScenarioError
    from harness.scenario.progress import step_printer
    from harness.scenario.records import is_record, read_record
    from harness.scenario.replay import replay

    out, err = stdout_console(), stderr_console()
    if not target.exists():
        usage_error(err, f"{target}: no such file or directory")
    original = None
    if is_record(target):
        try:
            original = read_record(target)
        except ValueError as exc:
            usage_error(err, f"{target}: not a readable run record: {exc}")
        recorded = sum(1 for call in original.provider_calls if call.recorded)
        if original.recording is not None and original.recording.cassette is not None:
            recorded = original.recording.interactions
        out.print(
            f"replaying {original.scenario_name} from {target}: run {original.run_id}, seed {original.seed}, "
            f"clock {original.clock_start.isoformat()}, {recorded} recorded response(s); "
            f"originally {original.outcome} ({original.tier}, {original.mode})",
            markup=False,
            highlight=False,
        )
    else:
        _load_scenarios([target], err)
    with _Signals() as signals:
        try:
            outcome = replay(target, runs_dir=runs_dir, record=record, on_step=step_printer(out))
        except ScenarioUsageError as exc:
            usage_error(err, str(exc))
        except RunInterrupted as exc:
            out.print(exc.outcome.failure_report(), markup=False, highlight=False)
            raise typer.Exit(signals.exit_code) from exc
        except (ScenarioError, ValueError) as exc:
            usage_error(err, str(exc))
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


def _load_scenarios(paths: list[Path], err: Console) -> list[tuple[Path, Scenario]]:
    """Every file loads, or exit 2 listing every problem (file:line: field: message)."""
    from harness.scenario.loader import load_scenario
    from harness.scenario.problems import ScenarioError

    loaded: list[tuple[Path, Scenario]] = []
    problems: list[str] = []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as exc:
            problems.extend(str(e) for e in exc.errors)
    if problems:
        for problem in problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
        usage_error(err, f"{len(problems)} problem(s) in scenario files; nothing was run")
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
            usage_error(err, f"{name} at {url} does not answer GET /health ({detail})")


def _check_settings(err: Console) -> None:
    """Settings the environment gives that cannot be used (``HARNESS_BACKEND=gcp`` with the local
    root key...): every problem on its own line, then exit 2, before any file is read."""
    from harness.services.settings import SettingsError, settings_from_environment

    try:
        settings_from_environment()
    except SettingsError as exc:
        for problem in exc.problems[:-1]:
            err.print(f"error: {problem}", markup=False, highlight=False, soft_wrap=True)
        usage_error(err, exc.problems[-1])


def _gcp_preflight(scenarios: Iterable[Scenario]) -> list[str]:
    """The gcp tier's settings, credentials, project, KMS key and provider keys, before anything is
    created (:mod:`harness.scenario.gcp_preflight`): one line per problem."""
    from harness.scenario.gcp_preflight import gcp_preflight, providers_used
    from harness.services.settings import SettingsError, settings_from_environment

    try:
        settings = settings_from_environment()
    except SettingsError as exc:
        return exc.problems
    return [f"gcp preflight: {problem}" for problem in gcp_preflight(settings, providers_used(scenarios))]


def _print_outcome(out: Console, outcome: RunOutcome) -> None:
    from harness.scenario.outcome import PASSED, SKIPPED

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
    if outcome.record_path is not None and (outcome.record_path.parent / "cassette.json").is_file():
        out.print(f"  [dim]cassette: {outcome.record_path.parent / 'cassette.json'}[/dim]", highlight=False)


@contextmanager
def _translations_kept(runs_dir: Path | None) -> Iterator[None]:
    """On the fake tier, the fake BigQuery's translations are kept under ``runs_dir`` (in
    ``.translations/``) while the batch runs, so the next ``harness run`` skips translating the
    statements this one translated (:mod:`fakes.bigquery.translation_store`)."""
    if runs_dir is None:
        yield
        return
    from fakes.bigquery.translation_store import CACHE

    CACHE.open(runs_dir / TRANSLATIONS_DIR)
    try:
        yield
    finally:
        CACHE.close()


def _run_all(
    loaded: list[tuple[Path, Scenario]],
    *,
    out: Console,
    err: Console,
    tier: Tier,
    api_url: str | None,
    pipeline_url: str | None,
    record: bool,
    seed: int | None,
    runs_dir: Path,
    recording: RecordingOptions | None = None,
    written: list[Path] | None = None,
) -> int:
    """Run ``loaded`` one after the other; ``written`` collects the run records' paths."""
    from harness.scenario.model import Tier
    from harness.scenario.outcome import (
        FAILED,
        INTERRUPTED,
        PASSED,
        SKIPPED,
        LiveUnsupported,
        RunInterrupted,
        ScenarioUsageError,
    )
    from harness.scenario.preflight import check_scenario, skip_reason
    from harness.scenario.progress import BatchProgress, step_printer
    from harness.scenario.runner import run_scenario

    live = api_url is not None
    usage: list[str] = []
    for path, scenario in loaded:
        if skip_reason(scenario, tier=tier, live=live) is not None:
            continue
        try:
            check_scenario(scenario, tier=tier, live=live)
        except ScenarioUsageError as exc:
            usage.append(f"{path}: {exc}")
    if tier is Tier.GCP and not live:
        usage.extend(_gcp_preflight(scenario for _, scenario in loaded))
    if usage:
        for line in usage:
            err.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
        return 2
    if (record or (recording is not None and recording.mode is not None)) and live:
        out.print("note: recording (--record, --record-mode) covers in-process runs only", highlight=False)

    tally: Counter[str] = Counter()  # scenarios by outcome status; "error" for those that could not run
    status = 0
    written = written if written is not None else []
    started = time.perf_counter()
    progress = BatchProgress(out, len(loaded))
    try:
        with progress, _translations_kept(runs_dir if tier is Tier.FAKE and not live else None):
            for path, scenario in loaded:
                progress.start(scenario.name, str(path))
                try:
                    outcome = run_scenario(
                        scenario,
                        source=path,
                        tier=tier,
                        api_url=api_url,
                        pipeline_url=pipeline_url,
                        record=record,
                        runs_dir=runs_dir,
                        seed=seed,
                        on_step=step_printer(out),
                        recording=recording,
                    )
                except LiveUnsupported as exc:
                    tally[SKIPPED] += 1
                    out.print(f"  [yellow]skipped[/yellow]: {escape(str(exc))}", highlight=False)
                    continue
                except ScenarioUsageError as exc:
                    tally["error"] += 1
                    err.print(f"error: {path}: {exc}", markup=False, highlight=False, soft_wrap=True)
                    status = 2
                    continue
                finally:
                    progress.finish()
                _print_outcome(out, outcome)
                written.extend([outcome.record_path] if outcome.record_path is not None else [])
                tally[outcome.status] += 1
                if outcome.status == FAILED and status == 0:
                    status = 1
    except RunInterrupted as exc:
        _print_outcome(out, exc.outcome)
        written.extend([exc.outcome.record_path] if exc.outcome.record_path is not None else [])
        tally[exc.outcome.status] += 1
        status = INTERRUPTED_EXIT
    except KeyboardInterrupt:  # while a scenario was being set up, before its first step
        out.print("  [yellow]interrupted[/yellow] before its first step, nothing to undo", highlight=False)
        tally[INTERRUPTED] += 1
        status = INTERRUPTED_EXIT
    parts = [f"{tally[key]} {key}" for key in (PASSED, FAILED, SKIPPED, INTERRUPTED) if tally[key]]
    if tally["error"]:
        parts.append(f"{tally['error']} error(s)")
    colour = "green" if status == 0 else "bold red"
    out.print(
        f"[{colour}]{sum(tally.values())} scenario(s): {', '.join(parts) or 'none run'}[/{colour}] "
        f"in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
    return status


__all__ = ["replay_command", "run_command"]
