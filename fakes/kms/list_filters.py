"""``filter`` and ``orderBy`` of the Cloud KMS list methods, over the resources as they are answered.

Cloud KMS documents both as the API-wide list syntax (AIP-160 filtering, AIP-132 ordering; the
"Sorting and filtering list results" page of the KMS docs), with examples such as
``state != DESTROYED AND state != DESTROY_SCHEDULED``, ``labels.env=prod`` and
``orderBy=name desc``. The subset here is what those examples and the client samples use:

* a comparison ``field OP value`` with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` and ``:`` (has:
  the field contains the value, or exists when the value is ``*``); a field is a dotted path in the
  resource's JSON, snake_case or camelCase (``version_template.algorithm``); a value is a bare word
  or a quoted string, compared as text (numbers as numbers) — enums and timestamps read as text;
* ``AND``, ``OR`` (binding tighter than AND, as AIP-160 says), ``NOT`` / ``-``, and parentheses;
* ``orderBy``: comma-separated fields, each optionally ``desc``.

Anything else is refused with a 400 naming the parameter, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fakes.kms.exceptions import InvalidListFilter

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:(?P<op><=|>=|!=|=|<|>|:)|(?P<paren>[()])|(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<word>[^\s()<>=!:"']+))"""
)


def filtered(items: list[dict[str, Any]], text: str | None, order_by: str | None) -> list[dict[str, Any]]:
    """``items`` kept by ``filter`` and sorted by ``orderBy`` (each absent or blank: unchanged)."""
    if text and text.strip():
        keep = _Parser(text).parse()
        items = [item for item in items if keep(item)]
    if order_by and order_by.strip():
        for name, descending in reversed(_ordering(order_by)):
            items = sorted(items, key=lambda item, n=name: _sort_key(_lookup(item, n)), reverse=descending)
    return items


def _ordering(text: str) -> list[tuple[str, bool]]:
    fields = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise InvalidListFilter(parameter="orderBy", text=text)
        fields.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return fields


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _lookup(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part, value.get(_camel(part)))
    return value


class _Parser:
    """Recursive descent over the tokens: expression = term {AND term}; term = factor {OR factor}."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise InvalidListFilter(parameter="filter", text=text)
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.index = 0

    def parse(self) -> Predicate:
        predicate = self._expression()
        if self.index != len(self.tokens):
            raise InvalidListFilter(parameter="filter", text=self.text)
        return predicate

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise InvalidListFilter(parameter="filter", text=self.text)
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1] == word:
            self.index += 1
            return True
        return False

    def _expression(self) -> Predicate:
        terms = [self._term()]
        while True:
            if self._keyword("AND"):
                terms.append(self._term())
                continue
            token = self._peek()
            if token is None or token == ("paren", ")"):  # implicit AND between terms otherwise
                break
            terms.append(self._term())
        return lambda item: all(term(item) for term in terms)

    def _term(self) -> Predicate:
        factors = [self._factor()]
        while self._keyword("OR"):
            factors.append(self._factor())
        return lambda item: any(factor(item) for factor in factors)

    def _factor(self) -> Predicate:
        if self._keyword("NOT"):
            inner = self._factor()
            return lambda item: not inner(item)
        kind, text = self._take()
        if (kind, text) == ("paren", "("):
            inner = self._expression()
            if self._take() != ("paren", ")"):
                raise InvalidListFilter(parameter="filter", text=self.text)
            return inner
        negated = kind == "word" and text.startswith("-") and len(text) > 1
        if kind != "word":
            raise InvalidListFilter(parameter="filter", text=self.text)
        path = text[1:] if negated else text
        op_kind, op = self._take()
        value_kind, value = self._take()
        if op_kind != "op" or value_kind not in ("word", "quoted"):
            raise InvalidListFilter(parameter="filter", text=self.text)
        wanted = value[1:-1] if value_kind == "quoted" else value
        compare = _comparison(path, op, wanted)
        return (lambda item: not compare(item)) if negated else compare


def _comparison(path: str, op: str, wanted: str) -> Predicate:
    def test(item: Mapping[str, Any]) -> bool:
        actual = _lookup(item, path)
        if op == ":":
            if wanted == "*":
                return actual is not None
            if isinstance(actual, Mapping):
                return wanted in actual
            if isinstance(actual, list):
                return any(str(element) == wanted for element in actual)
            return actual is not None and wanted in str(actual)
        if actual is None:
            return op == "!="
        left, right = _comparable(actual, wanted)
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]

    return test


def _comparable(actual: Any, wanted: str) -> tuple[Any, Any]:
    """Numbers as numbers (``totalSize``-like fields, int64 strings), everything else as text."""
    try:
        return float(actual), float(wanted)
    except (TypeError, ValueError):
        return str(actual), wanted
