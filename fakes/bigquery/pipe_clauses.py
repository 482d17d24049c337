"""``|> WITH``, ``|> RENAME`` and ``|> WINDOW``, written as SQL sqlglot and DuckDB read.

* ``q |> WITH a AS (...), ... rest`` defines names for the rest of the pipe only, after ``q``:
  it becomes ``WITH a AS (...), ... SELECT * FROM (SELECT * FROM (q) rest)``, so a later
  ``|> WITH`` nests inside it (it sees the earlier names and may shadow them, as in BigQuery).
* ``|> RENAME a AS b, c d`` keeps every column in its place: DuckDB's ``SELECT * RENAME``.
* ``|> WINDOW f() OVER (...)`` is the older spelling of ``|> EXTEND`` with window functions.
* ``|> WHERE`` may filter on window functions (a pipe ``WHERE`` is also ``HAVING`` and
  ``QUALIFY``): ``|> EXTEND (cond) AS k |> WHERE k |> DROP k``, as DuckDB's ``WHERE`` refuses them.
* ``|> LIMIT ALL [OFFSET n]`` (sqlglot's pipe reader fails on ``ALL``) is a limit no table
  reaches: the largest INT64.
* ``|> SELECT`` / ``|> EXTEND`` may end with ``WINDOW w AS (spec), ...`` (sqlglot reads that
  ``WINDOW`` as an alias): each ``OVER w`` / ``OVER (w ...)`` gets its spec written in place.

Textual, on the query's tokens (strings and comments are left alone), before parsing.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.script_syntax import Token, tokens


def rewrite_pipe_clauses(sql: str) -> str:
    """``sql`` with the pipe operators above rewritten (unchanged when it has none)."""
    if "|>" not in sql:
        return sql
    sql = _rewrite_simple(sql)
    while True:
        rewritten = _rewrite_first_with(sql)
        if rewritten is None:
            return sql
        sql = rewritten


def _rewrite_simple(sql: str) -> str:
    toks = tokens(sql)
    edits: list[tuple[int, int, str]] = []
    for index in range(len(toks) - 2):
        if not _is_pipe(toks, index):
            continue
        operator = toks[index + 2]
        if operator.upper == "WINDOW":
            edits.append((operator.start, operator.end, "EXTEND"))
        elif operator.upper == "LIMIT" and index + 3 < len(toks) and toks[index + 3].upper == "ALL":
            edits.append((toks[index + 3].start, toks[index + 3].end, _NO_LIMIT))
        elif operator.upper in ("SELECT", "EXTEND"):
            end = _clause_end(toks, index + 3)
            inlined = _inline_named_windows(sql, toks, index + 3, end)
            if inlined is not None:
                edits.append((toks[index + 3].start, toks[end - 1].end, inlined))
        elif operator.upper == "WHERE":
            end = _clause_end(toks, index + 3)
            if not any(token.upper == "OVER" for token in toks[index + 3 : end]):
                continue
            body = sql[toks[index + 3].start : toks[end - 1].end]
            text = f"EXTEND ({body}) AS {_KEEP} |> WHERE {_KEEP} |> DROP {_KEEP}"
            edits.append((operator.start, toks[end - 1].end, text))
        elif operator.upper == "RENAME":
            end = _clause_end(toks, index + 3)
            if end == index + 3:
                continue
            body = sql[toks[index + 3].start : toks[end - 1].end]
            pairs = [_rename_pair(item) for item in split_commas(body)]
            text = f"SELECT * RENAME ({', '.join(pairs)})"
            edits.append((operator.start, toks[end - 1].end, text))
    for start, stop, text in reversed(edits):
        sql = sql[:start] + text + sql[stop:]
    return sql


_KEEP = "__pipe_window_filter"
_NO_LIMIT = "9223372036854775807"


def _inline_named_windows(sql: str, toks: tuple[Token, ...], start: int, end: int) -> str | None:
    """The clause ``toks[start:end]`` with its trailing ``WINDOW`` list written into each
    ``OVER``, or None when it has none."""
    depth = 0
    for position in range(start, end):
        text = toks[position].text
        if text in "([":
            depth += 1
        elif text in ")]":
            depth -= 1
        elif depth == 0 and toks[position].upper == "WINDOW":
            break
    else:
        return None
    specs: dict[str, str] = {}
    for item in split_commas(sql[toks[position + 1].start : toks[end - 1].end]):
        name, _, spec = item.partition(" ")
        spec = spec.strip()
        if spec.upper().startswith("AS"):
            spec = spec[2:].strip()
        if not (spec.startswith("(") and spec.endswith(")")):
            return None
        specs[name.strip().upper()] = spec[1:-1].strip()
    base = toks[start].start
    body = sql[base : toks[position].start]
    edits: list[tuple[int, int, str]] = []
    inner = tokens(body)
    for at in range(len(inner) - 1):
        if inner[at].upper != "OVER":
            continue
        following = inner[at + 1]
        if following.upper in specs:
            edits.append((following.start, following.end, f"({specs[following.upper]})"))
        elif following.text == "(" and at + 2 < len(inner) and inner[at + 2].upper in specs:
            named = inner[at + 2]
            edits.append((named.start, named.end, specs[named.upper]))
    for begin, stop, text in reversed(edits):
        body = body[:begin] + text + body[stop:]
    return body.rstrip()


def _rename_pair(item: str) -> str:
    """``old AS new`` or ``old new`` as ``old AS new``."""
    words = item.split()
    if len(words) == 3 and words[1].upper() == "AS":
        return f"{words[0]} AS {words[2]}"
    if len(words) == 2:
        return f"{words[0]} AS {words[1]}"
    return item


def _rewrite_first_with(sql: str) -> str | None:
    toks = tokens(sql)
    for index in range(len(toks) - 2):
        if _is_pipe(toks, index) and toks[index + 2].upper == "WITH":
            break
    else:
        return None
    start = _query_start(toks, index)
    defs_end = _clause_end(toks, index + 3)
    stop = _query_stop(toks, defs_end)
    begin = toks[start].start if start < index else toks[index].start
    source = sql[begin : toks[index].start].strip()
    defs = sql[toks[index + 3].start : toks[defs_end - 1].end] if defs_end > index + 3 else ""
    rest_end = toks[stop - 1].end if stop > defs_end else (toks[defs_end - 1].end)
    rest = sql[toks[defs_end].start : rest_end] if stop > defs_end else ""
    text = f"WITH {defs} SELECT * FROM (SELECT * FROM ({source}) {rest})"
    return sql[:begin] + text + sql[rest_end:]


def _query_start(toks: tuple[Token, ...], index: int) -> int:
    """The first token of the query a pipe at ``index`` belongs to: after an unmatched ``(``,
    a ``;`` or the start of the text."""
    depth = 0
    position = index - 1
    while position >= 0:
        text = toks[position].text
        if text in ")]":
            depth += 1
        elif text in "([":
            if depth == 0:
                return position + 1
            depth -= 1
        elif depth == 0 and text == ";":
            return position + 1
        position -= 1
    return 0


def _query_stop(toks: tuple[Token, ...], start: int) -> int:
    """The index after the query's last token: an unmatched closing bracket or ``;``."""
    return _clause_end(toks, start, at_pipes=False)


def _clause_end(toks: tuple[Token, ...], start: int, *, at_pipes: bool = True) -> int:
    """The index after an operator's last token: the next pipe at this depth (``at_pipes``), an
    unmatched closing bracket or ``;``."""
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
        elif depth == 0 and (text == ";" or (at_pipes and _is_pipe(toks, index))):
            return index
        index += 1
    return index


def _is_pipe(toks: tuple[Token, ...], index: int) -> bool:
    return (
        toks[index].text == "|"
        and index + 1 < len(toks)
        and toks[index + 1].text == ">"
        and toks[index + 1].start == toks[index].end
    )


def split_commas(text: str) -> list[str]:
    """A pipe operator's comma-separated list, split outside brackets and quotes."""
    items: list[str] = []
    depth = 0
    current = ""
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        items.append(current.strip())
    return items


def hoist_from_joins(tree: exp.Expression) -> exp.Expression:
    """A query that starts with ``FROM a JOIN b`` (pipe syntax) is read by sqlglot with the
    joins hung on table ``a``, where the table mapping loses them: they go on the SELECT."""
    for select in tree.find_all(exp.Select):
        source = select.args.get("from_")
        table = source.this if source else None
        if isinstance(table, exp.Table) and table.args.get("joins") and not select.args.get("joins"):
            select.set("joins", table.args["joins"])
            table.set("joins", None)
    return tree
