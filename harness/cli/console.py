"""The consoles every command prints to, and the one way a command reports a usage error."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console


def stdout_console() -> Console:
    """Logs are not terminals: give them room so summary rows never fold (rich assumes 80)."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def usage_error(err: Console, message: str) -> NoReturn:
    """``error: message`` on stderr and exit 2, the status every command gives a usage error."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


__all__ = ["stderr_console", "stdout_console", "usage_error"]
