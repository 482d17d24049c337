"""The load run's handle on the served process: start it, sample its RSS while the load runs, ask
it for allocation snapshots, stop it (the other end is :mod:`harness.load.served`)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import IO, Any

import psutil

START_GUARD = 120.0
"""Seconds the served process may take to answer its first line (a guard, not a measurement)."""


class ProbeError(RuntimeError):
    """The served process did not start or stopped answering."""


class ServedProbe:
    """The served child process; a context manager (stopped and reaped on exit)."""

    def __init__(self, *, seed: int | None = None, frames: int = 1, inject_leak: bool = False) -> None:
        command = [sys.executable, "-m", "harness.load.served", "--frames", str(frames)]
        command += ["--seed", str(seed)] if seed is not None else []
        command += ["--inject-leak"] if inject_leak else []
        self.command = command
        self.process: subprocess.Popen[str] | None = None
        self.samples: list[tuple[float, int]] = []
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> ServedProbe:
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.info = self._read(START_GUARD)
        self._ps = psutil.Process(self.process.pid)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_sampling()
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            self._ask("stop")
            process.wait(timeout=30)
        except (ProbeError, OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    @property
    def pipeline_url(self) -> str:
        return str(self.info["pipeline_url"])

    def rss(self) -> int:
        return int(self._ps.memory_info().rss)

    def mark(self) -> dict[str, Any]:
        return self._ask("mark")

    def compare(self) -> dict[str, Any]:
        return self._ask("compare")

    def reset(self) -> dict[str, Any]:
        return self._ask("reset")

    def start_sampling(self, interval: float = 1.0) -> None:
        """Sample RSS every ``interval`` seconds until :meth:`stop_sampling` (a daemon thread; a
        greenlet under Locust's patched threading)."""
        started = time.monotonic()

        def sample() -> None:
            while not self._sampling.is_set():
                self.samples.append((round(time.monotonic() - started, 2), self.rss()))
                self._sampling.wait(interval)

        self._sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def stop_sampling(self) -> None:
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join()
            self._sampler = None

    def _ask(self, command: str, guard: float = 300.0) -> dict[str, Any]:
        stdin = self._pipe(self.process.stdin if self.process else None)
        try:
            stdin.write(command + "\n")
            stdin.flush()
        except OSError as exc:
            raise ProbeError(f"the served process stopped listening ({exc})") from exc
        return self._read(guard)

    def _read(self, guard: float) -> dict[str, Any]:
        stdout = self._pipe(self.process.stdout if self.process else None)
        result: dict[str, Any] = {}

        def read() -> None:
            line = stdout.readline()
            if line:
                result.update(json.loads(line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(guard)
        if not result:
            code = self.process.poll() if self.process else None
            raise ProbeError(
                "the served process did not answer"
                + (f" (it exited with status {code})" if code is not None else f" in {guard:g} s")
            )
        if "error" in result:
            raise ProbeError(str(result["error"]))
        return result

    @staticmethod
    def _pipe(pipe: IO[str] | None) -> IO[str]:
        if pipe is None:
            raise ProbeError("the served process is not running")
        return pipe


__all__ = ["ProbeError", "ServedProbe"]
