"""Read a seed file (YAML or JSON) and say precisely what is wrong with one that does not load.

Seed files are written by hand, so every mistake is one :class:`SeedError`, ``path:line: field:
message``, never a traceback: syntax (via :mod:`harness.yamlsource`, which also refuses duplicate
keys, so a dataset or table named twice is caught with its line), structure (the pydantic model
of :mod:`harness.seeding.model`, explained in the file's words) and everything that can be known
without the emulators (BigQuery's table rules, row values, KMS names: :mod:`harness.seeding.checks`).
What depends on the emulators' state (a table that already exists) is :func:`apply_seed`'s check.

:func:`load_seed_text` is the entry point for text that did not come from a file (the control
plane's ``POST /_harness/seed`` body); ``source`` names it in errors and picks strict JSON when
it ends in ``.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from harness.seeding.checks import check_seed
from harness.seeding.document import SeedDocument, SeedError
from harness.seeding.model import SeedFile
from harness.yamlsource import (
    Document,
    describe_error,
    dotted,
    parse_yaml_text,
    read_text,
    resolve_loc,
)

__all__ = ["SeedDocument", "SeedError", "load_seed_file", "load_seed_files", "load_seed_text"]

SECTIONS = ", ".join(SeedFile.model_fields)


def load_seed_text(text: str, source: str = "<seed>") -> SeedDocument:
    """A checked seed document from YAML (or, when ``source`` ends in ``.json``, JSON) text.

    Raises :class:`SeedError` for the first problem in file order.
    """
    document = _parse(text, source)
    if document.data is None:
        raise SeedError(source, None, "", f"the file is empty; a seed file has one or more of {SECTIONS}")
    try:
        seed = SeedFile.model_validate(document.data)
    except ValidationError as exc:
        raise _first_error(document, exc) from None
    loaded = SeedDocument(source, seed, document)
    check_seed(loaded)
    return loaded


def load_seed_file(path: str | Path) -> SeedDocument:
    """A checked seed document from a ``.yml``/``.yaml``/``.json`` file."""
    path = Path(path)
    return load_seed_text(read_text(path, SeedError), str(path))


def load_seed_files(paths: Iterable[str | Path]) -> list[SeedDocument]:
    """Every file checked, in order; the first problem found is raised."""
    return [load_seed_file(path) for path in paths]


def _parse(text: str, source: str) -> Document:
    if not source.endswith(".json"):
        return parse_yaml_text(text, source, SeedError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(source, exc.lineno, "", f"invalid JSON: {exc.msg}") from None
    try:  # JSON is YAML syntax: the YAML reader supplies the lines (tabs are spaces to JSON)
        lines = parse_yaml_text(text.replace("\t", " "), source, SeedError).lines
    except (SeedError, yaml.YAMLError, RecursionError):
        lines = {}
    return Document(source, data, lines, SeedError)


def _first_error(document: Document, exc: ValidationError) -> SeedError:
    """pydantic's first error in file order, located in the file and worded for its author."""
    found = []
    for detail in exc.errors(include_url=False):
        loc, _ = resolve_loc(SeedFile, tuple(detail["loc"]))
        found.append((document.line_of(loc) or 0, loc, detail))
    # On one line, an unknown key comes first: it is usually the missing one misspelt.
    _, loc, detail = min(found, key=lambda item: (item[0], item[2]["type"] != "extra_forbidden"))
    return SeedError(document.path, document.line_of(loc), dotted(loc), describe_error(detail, SeedFile))
