"""The ``harness`` command as a whole: the package assembles every command group, and
``--version`` answers without running anything."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from harness.cli import DISTRIBUTION, app

cli = CliRunner()


def test_version_prints_the_installed_version() -> None:
    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"harness {version(DISTRIBUTION)}\n"


def test_every_command_group_is_registered() -> None:
    result = cli.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for command in ("check-schema", "bootstrap", "serve", "run", "replay", "scenario", "emulators"):
        assert f" {command} " in result.output, command
    for group, sub in (("scenario", "schema"), ("scenario", "lint"), ("emulators", "up")):
        assert cli.invoke(app, [group, sub, "--help"]).exit_code == 0, (group, sub)
