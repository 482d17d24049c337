"""Headless Chromium for the report: the DOM after the page's scripts ran, its console, a screenshot.

The report is checked in a real browser, not only as text: the browser test asserts on the DOM
Chromium dumps once the page loaded (scripts run, layout done) and on what the page wrote to the
console, and ``bench/html_report_screenshot.py`` keeps a picture of it. Debian's ``chromium``
package is the browser (``HARNESS_CHROMIUM`` names another binary); each load gets a fresh profile
and every flag that would reach the network or start a background service is off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_VARIABLE = "HARNESS_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
LOAD_TIMEOUT = 120.0
"""Seconds before a hung browser is killed (a guard, not a measurement)."""
_CONSOLE = re.compile(r":CONSOLE[^\]]*\] \"(?P<message>.*)\", source: ")


class BrowserError(RuntimeError):
    """Chromium did not run, or exited with an error; the message carries its stderr's tail."""


@dataclass(frozen=True)
class Rendered:
    dom: str
    """``document.documentElement.outerHTML`` after the load event."""
    console: tuple[str, ...]
    """Everything the page logged, uncaught errors included (``Uncaught ReferenceError: ...``)."""


def find_chromium() -> str | None:
    """The browser to use: ``$HARNESS_CHROMIUM``, else ``chromium`` on PATH; None when absent."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return shutil.which(named)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def render(page: Path, chromium: str) -> Rendered:
    """Load ``page`` and return its DOM and console messages."""
    result = _run(chromium, ["--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()])
    console = tuple(m["message"] for m in _CONSOLE.finditer(result.stderr))
    return Rendered(dom=result.stdout, console=console)


def screenshot(page: Path, png: Path, chromium: str, *, width: int = 1280, height: int = 1600) -> Path:
    """A PNG of the page's first ``width`` x ``height`` pixels."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        chromium,
        [f"--window-size={width},{height}", f"--screenshot={png.resolve()}", page.resolve().as_uri()],
    )
    if not png.is_file():
        raise BrowserError(f"chromium wrote no screenshot at {png}")
    return png


def _run(chromium: str, arguments: list[str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        try:
            result = subprocess.run(
                [chromium, *FLAGS, f"--user-data-dir={profile}", *arguments],
                capture_output=True,
                text=True,
                timeout=LOAD_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrowserError(f"{chromium}: {exc}") from exc
    if result.returncode != 0:
        raise BrowserError(f"{chromium} exited {result.returncode}: {result.stderr[-2000:]}")
    return result
