"""BigQuery multi-statement scripts read into a tree of statements (no SQL meaning yet).

A script is statements separated by ``;``. Procedural statements (``DECLARE``, ``SET``, ``IF``,
``LOOP``, ``WHILE``, ``REPEAT``, ``FOR ... IN``, ``BEGIN ... [EXCEPTION WHEN ERROR THEN] END``,
``BREAK`` / ``LEAVE``, ``CONTINUE`` / ``ITERATE``, ``RETURN``, ``RAISE``) are read here; every
other statement is kept as its SQL text for the engine. Expressions (conditions, ``DEFAULT`` and
``SET`` values) stay text too: :mod:`fakes.bigquery.scripts` evaluates them with ``SELECT``.

The reader works on tokens (strings, quoted names and comments skipped), so a ``;`` or ``END`` in
a string, or the ``END`` of a ``CASE``, does not end a statement.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from fakes.bigquery.exceptions import QuerySyntaxError

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"))
  | (?P<quoted>`(?:\\.|[^`\\])*`)
  | (?P<word>[A-Za-z_@][A-Za-z0-9_@.]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_BLOCK_ENDS = {"LOOP", "WHILE", "REPEAT", "FOR", "IF"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass
class Statement:
    """One script statement: ``kind`` is ``SQL`` for a statement the engine runs, or the
    procedural keyword; ``text`` is the SQL, ``parts`` the pieces a procedural one has."""

    kind: str
    text: str = ""
    parts: dict[str, object] = field(default_factory=dict)


@functools.lru_cache(maxsize=512)
def tokens(sql: str) -> tuple[Token, ...]:
    out = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        out.append(Token(kind, match.group(), match.start(), match.end()))
    return tuple(out)


_PROCEDURAL = {
    "DECLARE", "SET", "IF", "LOOP", "WHILE", "REPEAT", "FOR", "BEGIN", "BREAK", "LEAVE",
    "CONTINUE", "ITERATE", "RETURN", "RAISE",
}  # fmt: skip


_FIRST_WORDS = ("DECLARE", "SET", "IF", "LOOP", "WHILE", "REPEAT", "FOR", "BEGIN", "CREATE", "RAISE")


def is_script(sql: str) -> bool:
    """Whether ``sql`` is more than one plain statement (the engine's single-statement path is
    kept for everything else). Cheap for the common case: no ``;`` and a plain first word."""
    first = sql.lstrip()[:8].upper()
    if ";" not in sql and not first.startswith(_FIRST_WORDS):
        return False
    statements = _split_cached(sql)
    return len(statements) > 1 or (len(statements) == 1 and statements[0].kind != "SQL") or _creates_temp(sql)


def _creates_temp(sql: str) -> bool:
    words = [t.upper for t in tokens(sql)[:5]]
    return words[:1] == ["CREATE"] and any(w in ("TEMP", "TEMPORARY") for w in words[1:4])


@functools.lru_cache(maxsize=512)
def _split_cached(sql: str) -> tuple[Statement, ...]:
    try:
        return tuple(parse_script(sql))
    except QuerySyntaxError:
        return (Statement("SQL", sql),)


def parse_script(sql: str) -> list[Statement]:
    reader = _Reader(sql, list(tokens(sql)))
    statements = reader.block(stop=())
    if reader.pos < len(reader.toks):
        raise reader.error("Unexpected keyword")
    return statements


class _Reader:
    def __init__(self, sql: str, toks: list[Token]) -> None:
        self.sql = sql
        self.toks = toks
        self.pos = 0

    # ------------------------------------------------------------------ helpers

    def error(self, what: str) -> QuerySyntaxError:
        if self.pos < len(self.toks):
            offset = self.toks[self.pos].start
            line = self.sql.count("\n", 0, offset) + 1
            col = offset - (self.sql.rfind("\n", 0, offset) + 1) + 1
            return QuerySyntaxError(detail=f"{what} {self.toks[self.pos].text} at [{line}:{col}]")
        return QuerySyntaxError(detail="Unexpected end of script")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.toks[index].upper if index < len(self.toks) else ""

    def at(self, *words: str) -> bool:
        return all(self.peek(i) == w for i, w in enumerate(words))

    def expect(self, *words: str) -> None:
        for word in words:
            if self.peek() != word:
                raise self.error(f"Expected keyword {word} but got")
            self.pos += 1

    def semicolon(self) -> None:
        if self.pos < len(self.toks) and self.toks[self.pos].text == ";":
            self.pos += 1

    def text_until(self, stops: tuple[str, ...], *, semicolon: bool) -> str:
        """The source text from here to the first top-level stop word (or ``;``), which is not
        consumed. ``CASE ... END`` and brackets nest."""
        start = self.pos
        depth = 0
        cases = 0
        while self.pos < len(self.toks):
            token = self.toks[self.pos]
            if token.text in "([":
                depth += 1
            elif token.text in ")]":
                depth -= 1
            elif depth == 0 and token.upper == "CASE":
                cases += 1
            elif depth == 0 and cases and token.upper == "END":
                cases -= 1
            elif depth == 0 and not cases and (token.upper in stops or (semicolon and token.text == ";")):
                break
            self.pos += 1
        if start == self.pos:
            raise self.error("Syntax error: Unexpected")
        return self.sql[self.toks[start].start : self.toks[self.pos - 1].end]

    # ---------------------------------------------------------------- statements

    def block(self, stop: tuple[str, ...]) -> list[Statement]:
        statements: list[Statement] = []
        while self.pos < len(self.toks):
            if self.peek() in stop:
                return statements
            if self.toks[self.pos].text == ";":
                self.pos += 1
                continue
            statements.append(self.statement())
        if stop:
            raise self.error("Unexpected end of script")
        return statements

    def statement(self) -> Statement:
        word = self.peek()
        label = None
        if (
            self.pos + 1 < len(self.toks)
            and self.toks[self.pos + 1].text == ":"
            and self.peek(2) in _BLOCK_ENDS | {"BEGIN"}
        ):
            label = self.toks[self.pos].text
            self.pos += 2
            word = self.peek()
        if word == "BEGIN" and self.peek(1) not in ("TRANSACTION", ";", ""):
            statement = self.begin()
        elif word == "BEGIN":
            statement = Statement("SQL", self.text_until((), semicolon=True))
        elif word == "CREATE" and "PROCEDURE" in (self.peek(1), self.peek(3)):
            statement = self.create_procedure()
        elif word == "DECLARE":
            statement = self.declare()
        elif word == "SET":
            self.pos += 1
            statement = Statement("SET", parts={"assignment": self.text_until((), semicolon=True)})
        elif word == "IF":
            statement = self.if_()
        elif word == "LOOP":
            self.pos += 1
            body = self.block(("END",))
            self.expect("END", "LOOP")
            statement = Statement("LOOP", parts={"body": body})
        elif word == "WHILE":
            self.pos += 1
            condition = self.text_until(("DO",), semicolon=False)
            self.expect("DO")
            body = self.block(("END",))
            self.expect("END", "WHILE")
            statement = Statement("WHILE", parts={"condition": condition, "body": body})
        elif word == "REPEAT":
            self.pos += 1
            body = self.block(("UNTIL",))
            self.expect("UNTIL")
            condition = self.text_until(("END",), semicolon=False)
            self.expect("END", "REPEAT")
            statement = Statement("REPEAT", parts={"condition": condition, "body": body})
        elif word == "FOR":
            self.pos += 1
            variable = self.toks[self.pos].text
            self.pos += 1
            self.expect("IN")
            query = self.text_until(("DO",), semicolon=False)
            self.expect("DO")
            body = self.block(("END",))
            self.expect("END", "FOR")
            statement = Statement("FOR", parts={"variable": variable, "query": query, "body": body})
        elif word in ("BREAK", "LEAVE", "CONTINUE", "ITERATE", "RETURN"):
            self.pos += 1
            target = None
            if self.pos < len(self.toks) and self.toks[self.pos].text != ";" and self.peek() not in ("END",):
                target = self.toks[self.pos].text
                self.pos += 1
            kind = {"LEAVE": "BREAK", "ITERATE": "CONTINUE"}.get(word, word)
            statement = Statement(kind, parts={"label": target})
        elif word == "RAISE":
            self.pos += 1
            message = None
            if self.at("USING", "MESSAGE"):
                self.pos += 2
                self.expect_text("=")
                message = self.text_until((), semicolon=True)
            statement = Statement("RAISE", parts={"message": message})
        else:
            statement = Statement("SQL", self.text_until((), semicolon=True))
        statement.parts["label"] = (
            statement.parts.get("label") if statement.kind in ("BREAK", "CONTINUE") else label
        )
        self.semicolon()
        return statement

    def create_procedure(self) -> Statement:
        """``CREATE PROCEDURE p(...) BEGIN ... END``: one statement, its body read to its END."""
        start = self.pos
        self.text_until(("BEGIN",), semicolon=False)
        self.begin()
        return Statement("SQL", self.sql[self.toks[start].start : self.toks[self.pos - 1].end])

    def expect_text(self, text: str) -> None:
        if self.pos >= len(self.toks) or self.toks[self.pos].text != text:
            raise self.error(f"Expected {text!r} but got")
        self.pos += 1

    def begin(self) -> Statement:
        self.expect("BEGIN")
        body = self.block(("END", "EXCEPTION"))
        handler: list[Statement] | None = None
        if self.peek() == "EXCEPTION":
            self.expect("EXCEPTION", "WHEN", "ERROR", "THEN")
            handler = self.block(("END",))
        self.expect("END")
        return Statement("BEGIN", parts={"body": body, "handler": handler})

    def declare(self) -> Statement:
        self.expect("DECLARE")
        names = [self.toks[self.pos].text]
        self.pos += 1
        while self.pos < len(self.toks) and self.toks[self.pos].text == ",":
            names.append(self.toks[self.pos + 1].text)
            self.pos += 2
        type_text = None
        if self.peek() != "DEFAULT" and self.pos < len(self.toks) and self.toks[self.pos].text != ";":
            type_text = self.text_until(("DEFAULT",), semicolon=True)
        default = None
        if self.peek() == "DEFAULT":
            self.pos += 1
            default = self.text_until((), semicolon=True)
        return Statement("DECLARE", parts={"names": names, "type": type_text, "default": default})

    def if_(self) -> Statement:
        self.expect("IF")
        branches: list[tuple[str, list[Statement]]] = []
        condition = self.text_until(("THEN",), semicolon=False)
        self.expect("THEN")
        branches.append((condition, self.block(("ELSEIF", "ELSE", "END"))))
        otherwise: list[Statement] = []
        while self.peek() == "ELSEIF":
            self.pos += 1
            condition = self.text_until(("THEN",), semicolon=False)
            self.expect("THEN")
            branches.append((condition, self.block(("ELSEIF", "ELSE", "END"))))
        if self.peek() == "ELSE":
            self.pos += 1
            otherwise = self.block(("END",))
        self.expect("END", "IF")
        return Statement("IF", parts={"branches": branches, "else": otherwise})
