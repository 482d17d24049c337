"""Running the corpus: files spread over worker processes, each case under a time limit.

A case that hangs (DuckDB spinning on ``REPEAT('x', 1e12)``, a client retrying) cannot be stopped
from inside its own process, so the cases run in workers and this process only waits: each worker
says which case it starts, and one that does not answer within the limit is killed, the case is
recorded as ``timeout`` and a fresh worker takes the file up again at the next case. The workers
are spawned (not forked), so the parent's threads and open engines never leak into them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 20.0
FACES = ("engine", "rest")


@dataclass
class RunOptions:
    directory: Path
    files: list[str] | None = None
    cases: set[str] | None = None
    """Only these case ids (the ratchet runs its list); None runs every case."""
    faces: tuple[str, ...] = FACES
    timeout: float = DEFAULT_TIMEOUT
    workers: int = 2


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: tuple[str, int] | None = None
    current: int | None = None
    resume_at: int = 0
    deadline: float = 0.0
    died: bool = False


def run_corpus(
    options: RunOptions, progress: Callable[[dict[str, Any]], None] = lambda r: None
) -> list[dict[str, Any]]:
    """Every case record of the selected files, in file and case order."""
    from harness.conformance.corpus import read_corpus

    stems = [f.stem for f in read_corpus(options.directory, options.files)]
    tasks: deque[tuple[str, int]] = deque((stem, 0) for stem in stems)
    records: dict[tuple[str, int], dict[str, Any]] = {}
    failures: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    workers: list[_Worker] = []
    try:
        while tasks or any(w.task for w in workers):
            while (
                tasks and len([w for w in workers if w.task is None]) == 0 and len(workers) < options.workers
            ):
                workers.append(_start(context, options))
            for worker in workers:
                if worker.task is None and tasks:
                    worker.task = tasks.popleft()
                    worker.resume_at = worker.task[1]
                    worker.conn.send(("file", *worker.task))
                    worker.deadline = time.monotonic() + options.timeout + 30.0  # file set-up
            busy = [w for w in workers if w.task is not None]
            if not busy:
                continue
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=timeout)
            for worker in busy:
                if worker.conn in ready:
                    _receive(worker, records, options, progress)
            now = time.monotonic()
            for index, worker in enumerate(workers):
                if worker.task is not None and now > worker.deadline:
                    stem, _ = worker.task
                    if worker.current is None:  # died or hung setting the file up
                        failures[stem] = failures.get(stem, 0) + 1
                        if failures[stem] < 2:
                            tasks.appendleft((stem, worker.resume_at))
                    else:
                        record = {
                            "id": f"{stem}#{worker.current}",
                            "file": stem,
                            "status": "crash" if worker.died else "timeout",
                            "detail": "the worker process died"
                            if worker.died
                            else f"no answer within {options.timeout:g} s (the worker was killed)",
                        }
                        records[(stem, worker.current)] = record
                        progress(record)
                        tasks.appendleft((stem, worker.current + 1))
                    _kill(worker)
                    workers[index] = _start(context, options)
    finally:
        for worker in workers:
            _stop(worker)
    return [records[key] for key in sorted(records, key=lambda k: (stems.index(k[0]), k[1]))]


def _receive(
    worker: _Worker,
    records: dict[tuple[str, int], dict[str, Any]],
    options: RunOptions,
    progress: Callable[[dict[str, Any]], None],
) -> None:
    try:
        message = worker.conn.recv()
    except (EOFError, OSError):
        message = ("died",)
    assert worker.task is not None
    stem = worker.task[0]
    kind = message[0]
    if kind == "start":
        worker.current = message[1]
        worker.deadline = time.monotonic() + options.timeout
    elif kind == "result":
        records[(stem, message[1])] = message[2]
        progress(message[2])
        worker.current = None
        worker.resume_at = message[1] + 1
        worker.deadline = time.monotonic() + options.timeout
    elif kind == "done":
        worker.task = None
        worker.current = None
    elif kind == "died":
        worker.died = True
        worker.deadline = 0.0  # handled with the other workers that stopped answering


def _start(context: Any, options: RunOptions) -> _Worker:
    parent, child = context.Pipe()
    process = context.Process(
        target=_worker_main,
        args=(child, str(options.directory), options.faces, options.cases),
        daemon=True,
    )
    process.start()
    child.close()
    return _Worker(process=process, conn=parent)


def _kill(worker: _Worker) -> None:
    worker.process.kill()
    worker.process.join(5)
    worker.conn.close()


def _stop(worker: _Worker) -> None:
    with contextlib.suppress(BrokenPipeError, OSError):
        worker.conn.send(("stop",))
    worker.process.join(10)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(5)
    worker.conn.close()


def _worker_main(conn: Connection, directory: str, faces: Iterable[str], cases: set[str] | None) -> None:
    """One worker: an emulator (and its engine) on a manual clock, then files as they come. Its
    engine runs DuckDB on one thread: the corpus's statements are tiny, and scheduling them on
    more threads only costs (the workers themselves run side by side)."""
    os.environ.setdefault("HARNESS_BIGQUERY_THREADS", "1")

    from harness.clock import ManualClock
    from harness.conformance.cases import run_file
    from harness.conformance.corpus import read_file
    from harness.conformance.faces import EPOCH, EngineFace, RestFace
    from harness.conformance.scope import Scope
    from harness.emulators import Emulators

    scope = Scope.load()
    with Emulators(clock=ManualClock(EPOCH)) as emulators:
        engine = emulators.engine
        chosen = [
            EngineFace(engine) if name == "engine" else RestFace(emulators.bigquery_url) for name in faces
        ]
        while True:
            message = conn.recv()
            if message[0] == "stop":
                return
            _, stem, start = message
            corpus = read_file(Path(directory) / f"{stem}.test")
            if cases is not None:
                corpus.sections = [s for s in corpus.sections if s.prepares or s.case_id in cases]
            for index, record in run_file(
                corpus,
                scope,
                emulators.engine,
                chosen,
                start=start,
                announce=lambda index: conn.send(("start", index)),
            ):
                conn.send(("result", index, record))
            conn.send(("done",))
