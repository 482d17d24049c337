"""Regression (issue 14): scenario-file mistakes that crashed the CLI or lost their line number.

An unquoted impossible date (``date: 2026-13-45``) made PyYAML raise a bare ``ValueError`` that
``harness run`` and ``harness scenario lint`` printed as a Python traceback; an unknown table in
``count_rows`` was only found when the run started, without a line. Both must be
``path:line: field: message``. Run through the real ``harness`` entry point in a subprocess, so
what is asserted is what a user sees.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.scenario.loader import lint_scenario

HARNESS = [sys.executable, "-c", "from harness.cli import app; app()"]

BAD_DATE = """\
name: bad_date
tiers: [fake]
steps:
  - bootstrap: {}
  - run_pipeline: {provider: openai, date: 2026-13-45}
"""

BAD_TABLE = """\
name: bad_table
tiers: [fake]
org: {slug: "t_{run_id}", company_name: X, admin_email: x@example.com}
steps:
  - bootstrap: {}
  - onboard: {}
  - count_rows: {table: org_api_key}
    expect: {rows: 0}
"""

ROWS_OFF_COUNT_ROWS = """\
name: rows_off_count_rows
tiers: [fake]
steps:
  - bootstrap: {}
    expect: {rows: 1}
"""


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("command", [["scenario", "lint"], ["run"]])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BAD_DATE,
            ":5: steps[1].run_pipeline.date: '2026-13-45' is not a valid date or time "
            "(month must be in 1..12); quote it to keep it a string",
        ),
        (BAD_TABLE, ":7: steps[2].count_rows.table: unknown table 'org_api_key'"),
        (ROWS_OFF_COUNT_ROWS, ":5: steps[0].expect.rows: expect.rows applies to count_rows only"),
    ],
    ids=["invalid date", "unknown table", "rows off count_rows"],
)
def test_scenario_mistake_is_file_line_field_not_a_traceback(
    tmp_path: Path, command: list[str], text: str, expected: str
) -> None:
    path = tmp_path / "scenario.yml"
    path.write_text(text)
    result = _harness(*command, str(path))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output and "ValueError" not in output, output
    assert f"{path}{expected}" in output, output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "clock: 2026-02-30T10:00:00Z",
            ":3: clock: '2026-02-30T10:00:00Z' is not a valid date or time (day is out of range for month)",
        ),
        ("variables: {2026-99-01: x}", ":3: variables.2026-99-01: '2026-99-01' is not a valid date or time"),
    ],
    ids=["date-time value", "mapping key"],
)
def test_impossible_date_time_and_key_are_located_too(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "scenario.yml"
    path.write_text(f"name: bad_times\ntiers: [fake]\n{line}\nsteps:\n  - bootstrap: {{}}\n")
    errors = lint_scenario(path)
    assert len(errors) == 1 and str(errors[0]).startswith(f"{path}{expected}"), errors
