"""``python -m harness``: the ``harness`` command, for a tree that is not installed."""

from harness.cli import app

app()
