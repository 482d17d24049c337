"""Which corpus cases are in scope: the decisions of ``scope.yml``, applied to one case.

The decisions are data (``scope.yml`` beside this module, each with its reason and, where one
exists, the BigQuery page that shows it); this module only applies them, in a fixed order, and
names the first that puts a case out. A feature the file does not list is an error, not a guess:
a new corpus must be judged before it is run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.conformance.corpus import Section
from harness.conformance.printout import ArrayValue, Printout
from harness.conformance.tables import CorpusTable

SCOPE_FILE = Path(__file__).with_name("scope.yml")

# The corpus's own spelling of a malformed feature name.
_ALIASES = {"GROUP_BY_ARRAYinordertopassthecompliacetest": "GROUP_BY_ARRAY"}


class ScopeError(ValueError):
    """The scope file cannot decide a case (an unknown feature)."""


@dataclass
class Scope:
    features: dict[str, dict[str, Any]]
    types: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]]
    cases: dict[str, dict[str, Any]]
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SCOPE_FILE) -> Scope:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            features=data.get("features") or {},
            types=data.get("types") or {},
            files=data.get("files") or {},
            cases=data.get("cases") or {},
            options=data.get("options") or {},
            rules=data.get("rules") or {},
        )

    def _sql_type_pattern(self) -> re.Pattern[str]:
        names = "|".join(sorted(self.types, key=len, reverse=True))
        return re.compile(rf"(?<![\w.])(?:{names})(?![\w])|\bzetasql_test__\.", re.I)

    def file_reason(self, stem: str) -> str | None:
        entry = self.files.get(f"{stem}.test")
        return f"file: {entry['reason']}" if entry else None

    def out_of_scope(
        self, section: Section, expected: Printout | None, tables: Mapping[str, CorpusTable]
    ) -> str | None:
        """The reason the case is out of scope, or None when the fake must pass it."""
        reason = self.file_reason(section.file)
        if reason:
            return reason
        entry = self.cases.get(section.case_id)
        if entry:
            return f"case: {entry['reason']}"
        for key, value in section.options.items():
            for name in (f"{key}={value}", key):
                if name in self.options:
                    return f"option {name}: {self.options[name]['reason']}"
        for name in sorted(section.required_features):
            feature = self._feature(name)
            if not feature.get("bigquery"):
                return f"feature {name}: {feature.get('reason', '')}"
        for name in sorted(section.forbidden_features):
            if self._feature(name).get("bigquery"):
                return f"feature {name} must be off, and BigQuery has it"
        if expected is not None:
            if expected.nondeterministic:
                return f"nondeterministic: {self.rules['nondeterministic']['reason']}"
            lacking = sorted(_type_names(expected) & self.types.keys())
            if lacking:
                return f"type {lacking[0]}: {self.types[lacking[0]]['reason']}"
        sql_text = section.sql + " " + section.options.get("parameters", "")
        match = self._sql_type_pattern().search(_without_strings(sql_text))
        if match:
            return f"sql names {match.group(0)}: {self.rules['sql_types']['reason']}"
        if tables:
            words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", section.sql)}
            for table in tables.values():
                hit = sorted(name for name in table.dropped if name.lower() in words)
                if hit and table.name.lower() in words:
                    return f"column {table.name}.{hit[0]} ({table.dropped[hit[0]]}): " + str(
                        self.rules["dropped_columns"]["reason"]
                    )
        return None

    def _feature(self, name: str) -> dict[str, Any]:
        feature = self.features.get(_ALIASES.get(name, name)) or self.features.get(name)
        if feature is None:
            raise ScopeError(f"scope.yml does not decide feature {name}: add it with its reason")
        return feature


def _type_names(printout: Printout) -> set[str]:
    names = printout.type.names()
    stack: list[Any] = [printout.value]
    while stack:
        value = stack.pop()
        if isinstance(value, ArrayValue):
            if value.element is not None:
                names |= value.element.names()
            stack.extend(value.items)
        elif isinstance(value, tuple):
            stack.extend(value)
    return names


def _without_strings(sql: str) -> str:
    """SQL with its string literals blanked, so ``'a float'`` names no type."""
    return re.sub(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", sql, flags=re.S)
