"""Pipe operators sqlglot does not read, written as ones it does (before parsing).

``|> SET a = e, ...`` is ``|> SELECT * REPLACE (e AS a, ...)`` and ``|> DROP a, b`` is
``|> SELECT * EXCEPT (a, b)``: the same columns in the same places, as BigQuery defines them.
The rewrite is textual on the query's tokens (strings and comments are left alone), at any
depth (a pipe inside a subquery too).
"""

from __future__ import annotations

import re

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.pipe_clauses import rewrite_pipe_clauses, split_commas
from fakes.bigquery.script_syntax import Token, tokens


def rewrite_pipes(sql: str) -> str:
    """``sql`` with ``|> SET``, ``|> DROP`` and ``|> CALL`` rewritten (unchanged when it has none)."""
    if "|>" not in sql:
        return sql
    sql = _rewrite_calls(rewrite_pipe_clauses(sql))
    toks = tokens(sql)
    edits: list[tuple[int, int, str]] = []
    for index in range(len(toks)):
        if not _is_pipe(toks, index) or index + 2 >= len(toks):
            continue
        operator = toks[index + 2]
        if operator.upper not in ("SET", "DROP"):
            continue
        end = _segment_end(toks, index + 3)
        body = sql[toks[index + 3].start : toks[end - 1].end] if end > index + 3 else ""
        items = split_commas(body)
        if operator.upper == "DROP":
            text = f"SELECT * EXCEPT ({', '.join(items)})"
        else:
            replaced = []
            for item in items:
                name, _, value = item.partition("=")
                replaced.append(f"{value.strip()} AS {name.strip()}")
            text = f"SELECT * REPLACE ({', '.join(replaced)})"
        edits.append((operator.start, toks[end - 1].end if end > index + 3 else operator.end, text))
    for start, stop, text in reversed(edits):
        sql = sql[:start] + text + sql[stop:]
    return sql


def _rewrite_calls(sql: str) -> str:
    """``q |> CALL f(args) ...`` as ``FROM f((SELECT * FROM (q)), args) ...``: the input table is
    the first argument, or where ``INPUT TABLE`` stands. Only a pipe at the top level."""
    while True:
        toks = tokens(sql)
        depth = 0
        for index, token in enumerate(toks):
            if token.text in "([":
                depth += 1
            elif token.text in ")]":
                depth -= 1
            elif (
                depth == 0
                and _is_pipe(toks, index)
                and index + 4 < len(toks)
                and toks[index + 2].upper == "CALL"
            ):
                break
        else:
            return sql
        name = toks[index + 3]
        opening = index + 4
        if toks[opening].text != "(":
            return sql
        closing = _segment_end(toks, opening + 1)
        if closing >= len(toks):
            return sql
        source = f"(SELECT * FROM ({sql[: toks[index].start].strip()}))"
        args = split_commas(sql[toks[opening].end : toks[closing].start])
        marked = [source if re.fullmatch(r"(?i)INPUT\s+TABLE", arg) else arg for arg in args]
        if marked == args:
            marked = [source, *args]
        sql = f"FROM {sql[name.start : name.end]}({', '.join(marked)}){sql[toks[closing].end :]}"


def _is_pipe(toks: tuple[Token, ...], index: int) -> bool:
    return (
        toks[index].text == "|"
        and index + 1 < len(toks)
        and toks[index + 1].text == ">"
        and toks[index + 1].start == toks[index].end
    )


def _segment_end(toks: tuple[Token, ...], start: int) -> int:
    """The index after an operator's last token: the next pipe at this depth, the closing
    bracket of an enclosing one, or ``;``."""
    depth = 0
    index = start
    while index < len(toks):
        text = toks[index].text
        if text in "([":
            depth += 1
        elif text in ")]":
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and (text == ";" or _is_pipe(toks, index)):
            return index
        index += 1
    return index


@handles(exp.SetOperation)
def parenthesize_nested_set_operand(node: exp.Expression) -> exp.Expression:
    """``x |> INTERSECT DISTINCT (a UNION ALL b)``: sqlglot keeps the right operand as a set
    operation but prints it without its brackets, so ``INTERSECT`` would bind to ``a`` alone."""
    if isinstance(node, exp.SetOperation) and isinstance(node.expression, exp.SetOperation):
        node.set("expression", exp.Subquery(this=node.expression))
    return node
