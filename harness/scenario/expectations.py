"""The comparison mini-language of ``expect:`` and how a response is checked against it.

A body expectation maps a dotted path to a value::

    expect:
      status: 201
      body:
        subscription.plan_name: STARTER      # exact (YAML types: 1, true, null, text)
        rows_processed: ">= 1"               # >, >=, <, <=, ==, != with a YAML scalar operand
        error_message: "!= null"
        message: "contains quota"            # substring of a string, member of a list, key of a map
        run_id: "matches ^[0-9a-f-]{36}$"    # re.search
        steps: "len 4"                       # also "len >= 1"
        details: exists                      # or: missing

Paths step into maps by key and into lists by index (``steps.0.status``, ``steps.-1.status``).
A path that does not exist fails every comparison except ``missing``. A string that does not start
with an operator is compared exactly; write ``"== contains x"`` to compare that text literally.
Each failed check is one line ``<where>: expected <x>, got <y>``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
"""What :func:`resolve_path` returns when a path leads nowhere."""

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_OPERATOR = re.compile(r"^\s*(>=|<=|!=|==|>|<)\s*(.*)$", re.DOTALL)
_WORD = re.compile(r"^\s*(contains|matches|len)\s+(.*)$", re.DOTALL)


def resolve_path(data: Any, path: str) -> Any:
    """The value at a dotted path, or :data:`MISSING`."""
    if path in ("", "."):
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return MISSING
            current = current[part]
        elif isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return current


def show(value: Any, limit: int = 200) -> str:
    """A value as it reads in a failure line: JSON-ish, null for None, shortened."""
    if value is MISSING:
        return "<missing>"
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalar(text: str) -> Any:
    """An operand as YAML reads it (``null``, ``1``, ``true``, ``2025-01-01``), else the raw text."""
    text = text.strip()
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    if isinstance(value, dict | list):
        return text
    return _plain(value)


def _plain(value: Any) -> Any:
    """Dates compare as the ISO text a JSON body carries."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _equal(expected: Any, actual: Any) -> bool:
    expected = _plain(expected)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_equal(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _equal(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return expected == actual


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Comparison:
    """One parsed expectation; :meth:`check` answers None when it holds, else why not."""

    text: str
    kind: str
    operand: Any = None

    @classmethod
    def parse(cls, expected: Any) -> Comparison:
        if isinstance(expected, str):
            stripped = expected.strip()
            if stripped in ("exists", "missing"):
                return cls(stripped, stripped)
            match = _OPERATOR.match(expected)
            if match:
                return cls(expected.strip(), match.group(1), _scalar(match.group(2)))
            match = _WORD.match(expected)
            if match:
                word, rest = match.groups()
                if word == "len":
                    inner = _OPERATOR.match(rest)
                    length = (inner.group(1), _scalar(inner.group(2))) if inner else ("==", _scalar(rest))
                    if not _number(length[1]):
                        raise ValueError(f"'len' needs a number: {expected!r}")
                    return cls(expected.strip(), "len", length)
                if word == "matches":
                    try:
                        return cls(expected.strip(), word, re.compile(rest))
                    except re.error as exc:
                        raise ValueError(f"bad regular expression in {expected!r}: {exc}") from exc
                return cls(expected.strip(), word, _scalar(rest) if rest.strip() else rest)
        return cls(show(_plain(expected)), "exact", _plain(expected))

    def check(self, actual: Any) -> str | None:
        if self.kind == "missing":
            return None if actual is MISSING else f"expected missing, got {show(actual)}"
        if actual is MISSING:
            return f"expected {self.text}, got <missing>"
        if self.kind == "exists":
            return None
        holds = self._holds(actual)
        if holds is None:
            return f"expected {self.text}, got {show(actual)} (not comparable)"
        return None if holds else f"expected {self.text}, got {show(actual)}"

    def _holds(self, actual: Any) -> bool | None:
        kind, operand = self.kind, self.operand
        if kind == "exact":
            return _equal(operand, actual)
        if kind in ("==", "!="):
            same = _equal(operand, actual)
            return same if kind == "==" else not same
        if kind in _ORDER:
            both_numbers = _number(operand) and _number(actual)
            if not both_numbers and not (isinstance(operand, str) and isinstance(actual, str)):
                return None
            return _ORDER[kind](actual, operand)
        if kind == "contains":
            if isinstance(actual, str):
                return str(operand) in actual
            if isinstance(actual, list):
                return any(_equal(operand, item) for item in actual)
            if isinstance(actual, dict):
                return str(operand) in actual
            return None
        if kind == "matches":
            return bool(operand.search(actual)) if isinstance(actual, str) else None
        if kind == "len":
            if not isinstance(actual, str | list | dict):
                return None
            op, size = operand
            return _ORDER[op](len(actual), size)
        raise AssertionError(kind)  # pragma: no cover


def compare(expected: Any, actual: Any) -> str | None:
    """None when ``actual`` satisfies ``expected`` (a value or a comparison string), else the reason."""
    try:
        comparison = Comparison.parse(expected)
    except ValueError as exc:
        return str(exc)
    return comparison.check(actual)


def check_response(
    *,
    status: int | None,
    body: Any,
    text: str,
    expected_status: int | list[int] | None,
    expected_error: str | None,
    expected_body: dict[str, Any],
    absent: list[str],
) -> list[str]:
    """Every failed expectation of one HTTP step, one ``expected X, got Y`` line each.

    With neither ``status`` nor ``error`` expected, a 2xx is required."""
    failures: list[str] = []
    if isinstance(expected_status, list):
        if status not in expected_status:
            allowed = " or ".join(str(s) for s in expected_status)
            failures.append(f"status: expected {allowed}, got {status}{_error_hint(body)}")
    elif expected_status is not None:
        if status != expected_status:
            failures.append(f"status: expected {expected_status}, got {status}{_error_hint(body)}")
    elif expected_error is None and (status is None or not 200 <= status < 300):
        failures.append(f"status: expected 2xx, got {status}{_error_hint(body)}")
    if expected_error is not None:
        actual_error = body.get("error") if isinstance(body, dict) else None
        if actual_error != expected_error:
            got = show(actual_error) if actual_error is not None else f"no error (status {status})"
            failures.append(f"error: expected {expected_error}, got {got}")
    failures.extend(check_body(body, expected_body))
    failures.extend(
        f"absent: expected no {show(s)} in the response, got it" for s in absent if s and s in text
    )
    return failures


def check_body(body: Any, expected_body: dict[str, Any]) -> list[str]:
    failures: list[str] = []
    for path, expected in expected_body.items():
        problem = compare(expected, resolve_path(body, path))
        if problem is not None:
            failures.append(f"body.{path}: {problem}")
    return failures


def _error_hint(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f" ({body['error']}: {str(body.get('message', ''))[:200]})"
    return ""
