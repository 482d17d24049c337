"""Which of the scenario files given to ``harness run`` actually run: ``--tag``, ``-k``, ``--last-failed``.

``-k`` reads like pytest's: words joined by ``and``, ``or``, ``not`` and parentheses, each word
matching (case-insensitively, as a substring) the scenario's name, its file's path or one of its
tags. ``--last-failed`` keeps the scenarios whose latest run record (in the runs directory) failed
or was interrupted; with none, every scenario runs, as pytest's ``--last-failed`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.scenario.model import Scenario
from harness.scenario.records import RECORD_FILE, read_record

FAILED_OUTCOMES = frozenset({"failed", "interrupted"})
_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")

Matcher = Callable[[frozenset[str]], bool]
"""A compiled ``-k`` expression: given a scenario's lower-cased haystacks (name, path, tags)."""


class SelectionError(ValueError):
    """A ``-k`` expression that does not parse; the message says where."""


@dataclass(frozen=True)
class Selection:
    tags: tuple[str, ...] = ()
    expression: str | None = None
    failed_names: frozenset[str] | None = None
    """Scenario names to keep for ``--last-failed`` (None: not asked, or nothing had failed)."""

    def __bool__(self) -> bool:
        return bool(self.tags or self.expression or self.failed_names is not None)

    def describe(self) -> str:
        parts = [f"--tag {tag}" for tag in self.tags]
        if self.expression:
            parts.append(f"-k {self.expression!r}")
        if self.failed_names is not None:
            parts.append("--last-failed")
        return " ".join(parts)


def select(loaded: Iterable[tuple[Path, Scenario]], selection: Selection) -> list[tuple[Path, Scenario]]:
    """The scenarios ``selection`` keeps, in the order given."""
    matcher = compile_expression(selection.expression) if selection.expression else None
    kept = []
    for path, scenario in loaded:
        if selection.tags and not set(selection.tags) & set(scenario.tags):
            continue
        if selection.failed_names is not None and scenario.name not in selection.failed_names:
            continue
        if matcher is not None and not matcher(_haystacks(path, scenario)):
            continue
        kept.append((path, scenario))
    return kept


def _haystacks(path: Path, scenario: Scenario) -> frozenset[str]:
    return frozenset(text.lower() for text in (scenario.name, path.as_posix(), *scenario.tags))


def last_failed(runs_dir: Path) -> frozenset[str]:
    """Names of the scenarios whose most recent record under ``runs_dir`` failed or was
    interrupted. Unreadable records are passed over: they say nothing about a scenario."""
    latest: dict[str, tuple[str, str]] = {}
    if not runs_dir.is_dir():
        return frozenset()
    for record_file in runs_dir.glob(f"*/{RECORD_FILE}"):
        try:
            record = read_record(record_file)
        except (OSError, ValueError):
            continue
        when = record.started_at.isoformat()
        if record.scenario_name not in latest or when > latest[record.scenario_name][0]:
            latest[record.scenario_name] = (when, record.outcome)
    return frozenset(name for name, (_, outcome) in latest.items() if outcome in FAILED_OUTCOMES)


def compile_expression(expression: str) -> Matcher:
    """A ``-k`` expression as a function of a scenario's haystacks; :class:`SelectionError`
    when it does not parse."""
    tokens = _TOKEN.findall(expression)
    if not tokens:
        raise SelectionError("-k: an empty expression")
    parser = _Parser(tokens, expression)
    matcher = parser.disjunction()
    if parser.position != len(tokens):
        raise SelectionError(f"-k {expression!r}: unexpected {tokens[parser.position]!r}")
    return matcher


class _Parser:
    """``or`` binds loosest, then ``and``, then ``not``; a word is anything else."""

    def __init__(self, tokens: list[str], expression: str) -> None:
        self.tokens = tokens
        self.expression = expression
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise SelectionError(f"-k {self.expression!r}: ends where a word or '(' was expected")
        self.position += 1
        return token

    def disjunction(self) -> Matcher:
        terms = [self.conjunction()]
        while self._peek() == "or":
            self._take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda hay: any(term(hay) for term in terms))

    def conjunction(self) -> Matcher:
        terms = [self.negation()]
        while self._peek() == "and":
            self._take()
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else (lambda hay: all(term(hay) for term in terms))

    def negation(self) -> Matcher:
        if self._peek() == "not":
            self._take()
            inner = self.negation()
            return lambda hay: not inner(hay)
        return self.atom()

    def atom(self) -> Matcher:
        token = self._take()
        if token == "(":
            inner = self.disjunction()
            if self._peek() != ")":
                raise SelectionError(f"-k {self.expression!r}: a '(' is not closed")
            self._take()
            return inner
        if token in (")", "and", "or"):
            raise SelectionError(f"-k {self.expression!r}: unexpected {token!r}")
        word = token.lower()
        return lambda hay: any(word in text for text in hay)
