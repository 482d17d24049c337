"""The README's list of unconfirmed error texts is the code's list: a class that becomes confirmed,
or a new unconfirmed one, fails here until the README says so (the failure prints the lines)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from fakes.errors import unconfirmed

README = Path(__file__).resolve().parent.parent / "README.md"
SERVICES = {
    "bigquery": "BigQuery",
    "kms": "Cloud KMS",
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google_oauth": "Google OAuth",
}
LINE = re.compile(r"^- \*\*(?P<service>[^*]+)\*\* \(`(?P<path>[^`]+)`, \d+\): (?P<names>.+)$")


def readme_lists() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Error texts not yet confirmed", 1)[1].split("\n#", 1)[0]
    found: dict[str, set[str]] = {}
    for line in section.splitlines():
        if match := LINE.match(line):
            found[match["path"]] = set(re.findall(r"`(\w+)`", match["names"]))
    return found


def expected_line(service: str) -> str:
    module = importlib.import_module(f"fakes.{service}.exceptions")
    names = [cls.__name__ for cls in unconfirmed(module)]
    listed = ", ".join(f"`{name}`" for name in names)
    return f"- **{SERVICES[service]}** (`fakes/{service}/exceptions.py`, {len(names)}): {listed}."


@pytest.mark.parametrize("service", SERVICES)
def test_readme_lists_exactly_the_unconfirmed_error_classes(service: str) -> None:
    module = importlib.import_module(f"fakes.{service}.exceptions")
    listed = readme_lists().get(f"fakes/{service}/exceptions.py")
    assert listed == {cls.__name__ for cls in unconfirmed(module)}, (
        f"update README.md's 'Error texts not yet confirmed' line:\n{expected_line(service)}"
    )
