"""Reading GoogleSQL compliance ``.test`` files (the ZetaSQL corpus format) into cases.

A file is a list of sections separated by a line ``==``. A section has option lines
(``[name=...]``, ``[required_features=A,B]``, ``[parameters=... AS p]``, ``[prepare_database]``,
...), comment lines starting with ``#`` before its first option or statement line, the SQL, a line
``--`` and the expected printout (or ``ERROR: ...``). ``[default opt=...]`` lines set an option for
every later section of the file. A ``[prepare_database]`` section creates a table (or a function)
that later sections use; its printout is the table's contents.

Nothing here knows about BigQuery or the fake: this is the corpus as Google wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_ESCAPED_LINE = re.compile(r"(?m)^\\(?=--|==)")
_OPTION = re.compile(
    r"^\[(?P<default>default )?(?P<key>[A-Za-z_][A-Za-z0-9_ ]*?)(?:=(?P<value>.*?))?\]$", re.S
)


@dataclass(frozen=True)
class Section:
    """One ``==``-separated section of a file: a case, or a ``[prepare_database]`` statement."""

    file: str
    line: int
    options: dict[str, str]
    sql: str
    expected: str

    @property
    def name(self) -> str | None:
        return self.options.get("name")

    @property
    def case_id(self) -> str:
        """``<file stem>:<name>`` (``<file stem>@<line>`` for the few sections without a name)."""
        return f"{self.file}:{self.name}" if self.name else f"{self.file}@{self.line}"

    @property
    def prepares(self) -> bool:
        return "prepare_database" in self.options

    @property
    def required_features(self) -> frozenset[str]:
        return _feature_set(self.options.get("required_features", ""))

    @property
    def forbidden_features(self) -> frozenset[str]:
        return _feature_set(self.options.get("forbidden_features", ""))

    @property
    def expects_error(self) -> bool:
        return self.expected.startswith("ERROR:")


@dataclass
class CorpusFile:
    path: Path
    sections: list[Section] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.path.stem


def _feature_set(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def read_file(path: Path) -> CorpusFile:
    """Every section of one file, with the file's ``[default ...]`` options merged in."""
    corpus = CorpusFile(path=path)
    defaults: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    start = 0
    for index in range(len(lines) + 1):
        if index == len(lines) or lines[index].rstrip() == "==":
            section = _section(path.stem, lines[start:index], start + 1, defaults)
            if section is not None:
                corpus.sections.append(section)
            start = index + 1
    return corpus


def _section(stem: str, lines: list[str], first_line: int, defaults: dict[str, str]) -> Section | None:
    options: dict[str, str] = {}
    position = 0
    sql_start: int | None = None
    while position < len(lines):
        line = lines[position]
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and sql_start is None):
            position += 1
            continue
        if stripped.startswith("[") and sql_start is None:
            # An option may run over several lines (long [parameters=...] lists).
            text = stripped
            while not text.endswith("]") and position + 1 < len(lines):
                position += 1
                text += " " + lines[position].strip()
            match = _OPTION.match(text)
            if match is not None:
                key = match["key"].strip()
                value = (match["value"] or "").strip()
                # [default_time_zone=...] applies to every later case (the corpus's own note).
                if match["default"] or key == "default_time_zone":
                    defaults[key] = value
                else:
                    options[key] = value
                position += 1
                continue
        sql_start = position
        break
    if sql_start is None:
        return None
    try:
        separator = next(i for i in range(sql_start, len(lines)) if lines[i].rstrip() == "--")
    except StopIteration:
        if "prepare_database" not in options:
            return None
        separator = len(lines)  # a statement that only prepares (CREATE TABLE FUNCTION) prints nothing
    # file_based_test_driver: a line that would start with ``--`` or ``==`` is written ``\--``.
    sql = _ESCAPED_LINE.sub("", "\n".join(lines[sql_start:separator])).strip()
    expected = "\n".join(lines[separator + 1 :]).strip()
    merged = {**defaults, **options}
    if "required_features" in defaults and "required_features" in options:
        merged["required_features"] = f"{defaults['required_features']},{options['required_features']}"
    return Section(file=stem, line=first_line + sql_start, options=merged, sql=sql, expected=expected)


def read_corpus(directory: Path, names: list[str] | None = None) -> list[CorpusFile]:
    """The ``.test`` files of ``directory`` (only ``names``, file stems, when given), by name."""
    files = sorted(directory.glob("*.test"))
    if names:
        wanted = set(names)
        files = [f for f in files if f.stem in wanted]
    return [read_file(f) for f in files]
