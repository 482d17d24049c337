"""The corpus's expected-result printouts, read into types and Python values.

A printout is a typed value: ``ARRAY<STRUCT<a INT64, DOUBLE>>[unknown order:{1, nan}, {2, 0.5}]``
for a query, ``STRUCT<num_rows_modified INT64, all_rows ARRAY<>>{1, ARRAY<STRUCT<...>>[...]}`` for
DML. Values are read by their type, because the text alone is ambiguous (a JSON object and a STRUCT
both print with braces). ``ARRAY<>`` in a type means the element type is printed with each value.

Types GoogleSQL has and BigQuery lacks (PROTO, ENUM, UINT64, MAP, ...) are read as :class:`Opaque`
text: whether a case using them is in scope is for :mod:`harness.conformance.scope` to say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any


class PrintoutError(ValueError):
    """A printout this reader cannot read (a reader bug or a format it does not know)."""


@dataclass(frozen=True)
class SqlType:
    """A GoogleSQL type as printed: a scalar name, ``ARRAY`` (``element`` None when printed as
    ``ARRAY<>``), ``STRUCT`` (``fields``: name or None, type) or ``RANGE`` (``element``)."""

    name: str
    element: SqlType | None = None
    fields: tuple[tuple[str | None, SqlType], ...] = ()
    text: str = ""

    def __str__(self) -> str:
        if self.name == "ARRAY":
            return f"ARRAY<{self.element or ''}>"
        if self.name == "RANGE":
            return f"RANGE<{self.element}>"
        if self.name == "STRUCT":
            inner = ", ".join(f"{n} {t}" if n else str(t) for n, t in self.fields)
            return f"STRUCT<{inner}>"
        return self.text or self.name

    def names(self) -> set[str]:
        """Every type name used, nested ones included (for scope decisions)."""
        found = {self.name}
        if self.element is not None:
            found |= self.element.names()
        for _, sub in self.fields:
            found |= sub.names()
        return found


@dataclass(frozen=True)
class ArrayValue:
    """An array value; ``ordered`` is False for ``[unknown order: ...]`` (compared as a multiset)."""

    items: tuple[Any, ...]
    ordered: bool
    element: SqlType | None = None


@dataclass(frozen=True)
class RangeValue:
    start: Any
    end: Any


@dataclass(frozen=True)
class IntervalValue:
    """An INTERVAL as its canonical text (``Y-M D H:M:S[.f]``), parsed into its three parts."""

    months: int
    days: int
    micros: int


@dataclass(frozen=True)
class JsonValue:
    value: Any


@dataclass(frozen=True)
class Opaque:
    """A value of a type the reader does not interpret (out-of-scope types)."""

    text: str


@dataclass(frozen=True)
class Printout:
    type: SqlType
    value: Any
    nondeterministic: bool = False
    """The reference marked its result as one of several it allows (``NOTE: ... non-determinism``)."""


_NONDETERMINISM = "NOTE: Reference implementation reports non-determinism."


_SCALARS_WITH_PARAMETERS = {"RANGE", "PROTO", "ENUM", "MAP", "GRAPH_ELEMENT", "GRAPH_PATH", "MEASURE"}


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # ------------------------------------------------------------------ lexing helpers

    def skip_space(self) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char == "#" and (self.pos == 0 or self.text[self.pos - 1] == "\n"):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            else:
                break

    def peek(self, token: str) -> bool:
        self.skip_space()
        return self.text.startswith(token, self.pos)

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.take(token):
            raise PrintoutError(
                f"expected {token!r} at offset {self.pos}: {self.text[self.pos : self.pos + 40]!r}"
            )

    def word(self) -> str:
        self.skip_space()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]*|`[^`]*`").match(self.text, self.pos)
        if match is None:
            raise PrintoutError(
                f"expected a name at offset {self.pos}: {self.text[self.pos : self.pos + 40]!r}"
            )
        self.pos = match.end()
        return match.group(0).strip("`")

    # ------------------------------------------------------------------ types

    def type(self) -> SqlType:
        start = self.pos
        name = self.word()
        upper = name.upper()
        if upper == "ARRAY":
            self.expect("<")
            if self.take(">"):
                return SqlType("ARRAY", None)
            element = self.type()
            self.expect(">")
            return SqlType("ARRAY", element)
        if upper == "STRUCT":
            self.expect("<")
            fields: list[tuple[str | None, SqlType]] = []
            while not self.take(">"):
                fields.append(self.field())
                self.take(",")
            return SqlType("STRUCT", fields=tuple(fields))
        if upper in _SCALARS_WITH_PARAMETERS and self.peek("<"):
            self.skip_balanced("<", ">")
            text = self.text[start : self.pos].strip()
            if upper == "RANGE":
                inner = _Reader(text[text.index("<") + 1 : -1]).type()
                return SqlType("RANGE", inner, text=text)
            return SqlType(upper, text=text)
        if upper in ("NUMERIC", "BIGNUMERIC", "STRING", "BYTES") and self.peek("("):
            self.skip_balanced("(", ")")  # parameterised types print their parameters
        return SqlType(upper, text=name)

    def field(self) -> tuple[str | None, SqlType]:
        """``name TYPE`` or ``TYPE``: a name is followed by another word, a type by ``<``, ``,``
        or ``>``. A name may itself be several words (```GROUPING SETS``` prints as
        ``GROUPING SETS INT64``): the type is the last word."""
        starts: list[int] = []
        words: list[str] = []
        while True:
            starts.append(self.pos)
            words.append(self.word())
            self.skip_space()
            following = self.text[self.pos : self.pos + 1]
            if not (following and (following.isalpha() or following in "_`")):
                break
        self.pos = starts[-1]
        return (" ".join(words[:-1]) or None), self.type()

    def skip_balanced(self, opening: str, closing: str) -> None:
        self.expect(opening)
        depth = 1
        while depth and self.pos < len(self.text):
            char = self.text[self.pos]
            if char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
            self.pos += 1

    # ------------------------------------------------------------------ values

    def value(self, kind: SqlType) -> Any:
        self.skip_space()
        if self.text.startswith("NULL", self.pos) and not self.text[self.pos + 4 : self.pos + 5].isalnum():
            self.pos += 4
            return None
        reader = getattr(self, f"_value_{kind.name.lower()}", None)
        if reader is None:
            return Opaque(self.raw())
        return reader(kind)

    def _value_array(self, kind: SqlType) -> ArrayValue | None:
        element = kind.element
        if self.peek("ARRAY<"):
            element = self.type().element
            if self.take("(NULL)"):
                return None
        self.expect("[")
        ordered = True
        if self.take("unknown order:"):
            ordered = False
        else:
            self.take("known order:")
        items: list[Any] = []
        while not self.take("]"):
            if element is None:
                raise PrintoutError(f"array element type unknown at offset {self.pos}")
            items.append(self.value(element))
            self.take(",")
        return ArrayValue(tuple(items), ordered or len(items) < 2, element)

    def _value_struct(self, kind: SqlType) -> tuple[Any, ...]:
        self.expect("{")
        values = []
        for _, sub in kind.fields:
            values.append(self.value(sub))
            self.take(",")
        self.expect("}")
        return tuple(values)

    def _token(self, pattern: str) -> str:
        self.skip_space()
        match = re.compile(pattern).match(self.text, self.pos)
        if match is None:
            raise PrintoutError(
                f"expected {pattern} at offset {self.pos}: {self.text[self.pos : self.pos + 40]!r}"
            )
        self.pos = match.end()
        return match.group(0)

    def _value_int64(self, kind: SqlType) -> int:
        return int(self._token(r"-?\d+"))

    def _value_double(self, kind: SqlType) -> float:
        return float(self._token(r"-?(?:inf|nan|\d+(?:\.\d*)?(?:e[+-]?\d+)?)"))

    def _value_numeric(self, kind: SqlType) -> Decimal:
        return Decimal(self._token(r"-?\d+(?:\.\d*)?(?:e[+-]?\d+)?"))

    _value_bignumeric = _value_numeric

    def _value_bool(self, kind: SqlType) -> bool:
        return self._token(r"true|false") == "true"

    def _value_string(self, kind: SqlType) -> str:
        return _unescape(self._token(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')[1:-1]).decode(
            "utf-8", errors="surrogateescape"
        )

    def _value_bytes(self, kind: SqlType) -> bytes:
        return _unescape(self._token(r'b"(?:[^"\\]|\\.)*"|b\'(?:[^\'\\]|\\.)*\'')[2:-1])

    def _value_date(self, kind: SqlType) -> date:
        return date.fromisoformat(self._token(r"\d{4}-\d\d-\d\d"))

    def _value_datetime(self, kind: SqlType) -> datetime:
        return datetime.fromisoformat(
            _pad_fraction(self._token(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?"))
        )

    def _value_timestamp(self, kind: SqlType) -> datetime:
        text = self._token(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d(?::?\d\d)?|Z| UTC)?")
        moment = datetime.fromisoformat(_pad_fraction(text.replace(" UTC", "+00:00").replace("Z", "+00:00")))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def _value_time(self, kind: SqlType) -> time:
        return time.fromisoformat(_pad_fraction(self._token(r"\d\d:\d\d:\d\d(?:\.\d+)?")))

    def _value_interval(self, kind: SqlType) -> IntervalValue:
        text = self._token(r"-?\d+-\d+ -?\d+ -?\d+:\d+:\d+(?:\.\d+)?")
        return parse_interval(text)

    def _value_json(self, kind: SqlType) -> JsonValue:
        self.skip_space()
        decoded, end = json.JSONDecoder(parse_float=Decimal, parse_int=int).raw_decode(self.text, self.pos)
        self.pos = end
        return JsonValue(decoded)

    def _value_range(self, kind: SqlType) -> RangeValue:
        assert kind.element is not None
        self.expect("[")
        start = self.value(kind.element)
        self.expect(",")
        end = self.value(kind.element)
        self.expect(")")
        return RangeValue(start, end)

    def _value_geography(self, kind: SqlType) -> Opaque:
        return Opaque(self.raw())

    def raw(self) -> str:
        """Text up to the next ``,``, ``}`` or ``]`` outside brackets and quotes."""
        self.skip_space()
        start = self.pos
        depth = 0
        quote: str | None = None
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = None
            elif char in "\"'":
                quote = char
            elif char in "([{<":
                depth += 1
            elif char in ")]}>":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        return self.text[start : self.pos].strip()


def _pad_fraction(text: str) -> str:
    """Python reads 3 or 6 fractional digits only; the corpus prints 1 to 9 (nanos cut to micros)."""
    match = re.search(r"\.(\d+)", text)
    if match is None:
        return text
    digits = (match.group(1) + "000000")[:6]
    return text[: match.start()] + "." + digits + text[match.end() :]


_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def _unescape(text: str) -> bytes:
    """C-style escapes, as the corpus prints strings and bytes."""

    def replace(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1] == b"x":
            return bytes([int(code[1:], 16)])
        if code[:1] in (b"u", b"U"):
            return chr(int(code[1:], 16)).encode("utf-8")
        if len(code) == 3 and code.isdigit():
            return bytes([int(code, 8)])
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(replace, text.encode("utf-8", errors="surrogateescape"))


def parse_interval(text: str) -> IntervalValue:
    """``Y-M D H:M:S[.f]`` (each part signed) into months, days and microseconds."""
    match = re.fullmatch(r"(-?)(\d+)-(\d+) (-?\d+) (-?)(\d+):(\d+):(\d+)(?:\.(\d+))?", text.strip())
    if match is None:
        raise PrintoutError(f"not an interval: {text!r}")
    sign = -1 if match[1] else 1
    months = sign * (int(match[2]) * 12 + int(match[3]))
    time_sign = -1 if match[5] else 1
    fraction = int(((match[9] or "") + "000000")[:6])
    micros = time_sign * (((int(match[6]) * 60 + int(match[7])) * 60 + int(match[8])) * 1_000_000 + fraction)
    return IntervalValue(months, int(match[4]), micros)


def read_type(text: str) -> SqlType:
    reader = _Reader(text)
    kind = reader.type()
    reader.skip_space()
    if reader.pos != len(text):
        raise PrintoutError(f"trailing text after type: {text[reader.pos :]!r}")
    return kind


def read_printout(text: str) -> Printout:
    """A whole printout: its type and its value."""
    nondeterministic = _NONDETERMINISM in text
    text = text.replace(_NONDETERMINISM, "").strip()
    reader = _Reader(text)
    reader.skip_space()
    kind = reader.type()
    value = reader.value(kind)
    reader.skip_space()
    if reader.pos != len(text):
        raise PrintoutError(f"trailing text after printout: {text[reader.pos : reader.pos + 60]!r}")
    return Printout(kind, value, nondeterministic)
