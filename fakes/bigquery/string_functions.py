"""BigQuery's STRING and BYTES functions where DuckDB's differ: BYTES arguments, bounds and errors.

DuckDB's string functions take VARCHAR only (``LOWER(BLOB)`` does not bind), and the engine cannot
use Python UDFs (they need numpy, which the project does not depend on). So a BYTES argument is
read as a *byte string*: each byte becomes the character with that code point (``bq_b2s``, the
Latin-1 reading), the ordinary string function runs on it, where one character is one byte, as
BigQuery's BYTES functions count, and a BYTES result is turned back (``bq_s2b``). ``LOWER`` and
``UPPER`` of BYTES touch ASCII letters only, as BigQuery's do.

For both types, BigQuery's bounds: ``SUBSTR`` counts a negative position from the end and starts
at 1 when the position is 0 or before the start; ``INSTR`` takes a position and an occurrence;
``SPLIT`` of an empty value is ``['']`` and of a NULL delimiter NULL; and BigQuery's errors for a
negative ``LEFT`` / ``RIGHT`` / ``SUBSTR`` length, a negative or over-1MB ``LPAD`` / ``RPAD`` /
``REPEAT`` output (DuckDB would try to build a gigabyte string). ``FORMAT`` with a format that is
not a literal is printf-style too (DuckDB's ``format`` is ``{}``-style).

Limit: the rewrites see no table schema, so a BYTES value is recognised from literals, casts and
typed expressions only; a BYTES column or query parameter passed straight to a string function
still fails to bind in DuckDB ("No function matches ... BLOB").

Errors are raised without DuckDB's ``error()`` (volatile, which ``TRY`` — the ``SAFE.`` prefix —
refuses): ``bq_raise(message)`` fails a cast of the tagged message, which
:func:`raised_error` turns back into BigQuery's error.
"""

from __future__ import annotations

import re

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import FunctionOutOfRange
from fakes.bigquery.functions import DType, _done, _duck, _is_done, _type_of

_TAG = "[bq-error] "
_RAISED = re.compile(r"Could not convert string '\[bq-error\] (?P<message>.*)' to INT")
_ONE_MB = 1 << 20

MACROS = f"""
CREATE OR REPLACE MACRO bq_raise(message) AS CAST('{_TAG}' || message AS INTEGER);
CREATE OR REPLACE MACRO bq_b2s(b) AS array_to_string(
    list_transform(regexp_extract_all(hex(b), '..'), lambda h: chr(('0x' || h)::INTEGER)), '');
CREATE OR REPLACE MACRO bq_s2b(s) AS unhex(
    array_to_string(list_transform(string_split(s, ''), lambda ch: printf('%02X', unicode(ch))), ''));
CREATE OR REPLACE MACRO bq_text(v) AS
    CASE WHEN typeof(v) = 'BLOB' THEN bq_b2s(v) ELSE CAST(v AS VARCHAR) END;
CREATE OR REPLACE MACRO bq_substr_start(s, p) AS
    CASE WHEN p > 0 THEN p WHEN p = 0 OR -p > length(s) THEN 1 ELSE length(s) + p + 1 END;
CREATE OR REPLACE MACRO bq_substr(s, p) AS substring(s, bq_substr_start(s, p)),
    (s, p, l) AS CASE WHEN l < 0
        THEN CAST(bq_raise('Third argument in SUBSTR() cannot be negative') AS VARCHAR)
        ELSE substring(s, bq_substr_start(s, p), l) END;
CREATE OR REPLACE MACRO bq_left(s, n) AS CASE WHEN n < 0
    THEN CAST(bq_raise('Second argument in LEFT() cannot be negative') AS VARCHAR) ELSE left(s, n) END;
CREATE OR REPLACE MACRO bq_right(s, n) AS CASE WHEN n < 0
    THEN CAST(bq_raise('Second argument in RIGHT() cannot be negative') AS VARCHAR) ELSE right(s, n) END;
CREATE OR REPLACE MACRO bq_pad_size(n) AS CASE
    WHEN n < 0 THEN bq_raise('Second argument (output size) for LPAD/RPAD cannot be negative')
    WHEN n > {_ONE_MB} THEN bq_raise('Output of LPAD/RPAD exceeds max allowed output size of 1MB')
    ELSE CAST(n AS INTEGER) END;
CREATE OR REPLACE MACRO bq_lpad(s, n, f) AS lpad(s, bq_pad_size(n), f);
CREATE OR REPLACE MACRO bq_rpad(s, n, f) AS rpad(s, bq_pad_size(n), f);
CREATE OR REPLACE MACRO bq_repeat(s, n) AS CASE
    WHEN n < 0 THEN bq_raise('Second argument (repeat count) for REPEAT cannot be negative')
    WHEN n * length(s) > {_ONE_MB} THEN bq_raise('Output of REPEAT exceeds max allowed output size of 1MB')
    ELSE n END;
CREATE OR REPLACE MACRO bq_split(s, d) AS CASE
    WHEN s IS NULL OR d IS NULL THEN NULL WHEN s = '' THEN [''] ELSE str_split(s, d) END;
CREATE OR REPLACE MACRO bq_instr_at(s, sub) AS
    list_filter(range(1, length(s) + 2), lambda i: substring(s, i, length(sub)) = sub);
CREATE OR REPLACE MACRO bq_instr(s, sub, p, o) AS CASE
    WHEN p = 0 THEN bq_raise('Position 0 is invalid')
    WHEN o <= 0 THEN bq_raise('Occurrence must be positive')
    WHEN p > 0 THEN coalesce(list_filter(bq_instr_at(s, sub), lambda i: i >= p)[o], 0)
    ELSE coalesce(list_reverse(list_filter(bq_instr_at(s, sub),
        lambda i: i <= length(s) + p + 1))[o], 0) END;
CREATE OR REPLACE MACRO bq_split_from(parts, p) AS
    CASE WHEN p > 0 THEN p WHEN p = 0 THEN 1 ELSE greatest(len(parts) + p + 1, 1) END;
CREATE OR REPLACE MACRO bq_split_slice(parts, d, p, n) AS CASE
    WHEN p IS NULL OR n IS NULL THEN NULL
    WHEN n < 0 THEN CAST(bq_raise('Length of SPLIT_SUBSTR must be non-negative') AS VARCHAR)
    ELSE array_to_string(list_slice(parts, bq_split_from(parts, p), bq_split_from(parts, p) + n - 1), d) END;
CREATE OR REPLACE MACRO split_substr(s, d, p) AS bq_split_slice(bq_split(s, d), d, p, length(s) + 1),
    (s, d, p, n) AS bq_split_slice(bq_split(s, d), d, p, n);
CREATE OR REPLACE MACRO bq_translate(s, f, t) AS CASE
    WHEN len(list_distinct(string_split(f, ''))) < length(f)
        THEN CAST(bq_raise('Duplicate character in TRANSLATE source characters') AS VARCHAR)
    ELSE translate(s, f, t) END;
CREATE OR REPLACE MACRO bq_code_points(a) AS CASE
    WHEN list_bool_or(list_transform(a, lambda c: c IS NULL)) THEN NULL
    ELSE array_to_string(list_transform(a, lambda c: chr(c)), '') END;
CREATE OR REPLACE MACRO code_points_to_string(a) AS bq_code_points(a);
CREATE OR REPLACE MACRO code_points_to_bytes(a) AS bq_s2b(bq_code_points(a));
"""
"""The DuckDB macros the rewrites call (created by :mod:`fakes.bigquery.function_passes`)."""

_RETURNS_BYTES = (
    exp.Lower,
    exp.Upper,
    exp.Substring,
    exp.Trim,
    exp.Left,
    exp.Right,
    exp.Replace,
    exp.Translate,
    exp.Pad,
    exp.Repeat,
    exp.RegexpExtract,
    exp.RegexpReplace,
    exp.Reverse,
)
_RETURNS_BYTES_ARRAY = (exp.Split, exp.RegexpExtractAll)
_READS_BYTES = (
    *_RETURNS_BYTES,
    *_RETURNS_BYTES_ARRAY,
    exp.StrPosition,
    exp.StartsWith,
    exp.EndsWith,
    exp.RegexpLike,
    exp.RegexpInstr,
    exp.Ascii,
    exp.Unicode,
    exp.Like,
)
_STRING_ARGS = ("this", "expression", "substr", "from_", "to", "replacement", "fill_pattern")


def raised_error(text: str) -> FunctionOutOfRange | None:
    """BigQuery's error for a DuckDB failure that ``bq_raise`` caused, else ``None``."""
    match = _RAISED.search(text)
    return FunctionOutOfRange(message=match.group("message")) if match else None


def _is_bytes(node: exp.Expression | None) -> bool:
    return node is not None and _type_of(node) in (DType.BINARY, DType.VARBINARY)


@handles(exp.Cast, exp.Format, *_READS_BYTES)
def string_functions_like_bigquery(node: exp.Expression) -> exp.Expression:
    """The fix (see the module docstring): BYTES arguments read as byte strings, then bounds."""
    if (
        isinstance(node, exp.Cast)
        and node.to.this in exp.DataType.TEXT_TYPES  # is_type(*TEXT_TYPES), without building each
        and node.args.get("format") is None
        and _is_bytes(node.this)
    ):
        return _duck("decode(_b_)", DType.TEXT, b=node.this)  # BYTES -> STRING reads UTF-8
    if isinstance(node, exp.Format) and not _is_done(node):
        # A format that is not a literal (functions' FORMAT fix reads literals only): printf-style.
        return _done(exp.Anonymous(this="PRINTF", expressions=[node.this, *node.expressions]), DType.TEXT)
    if not isinstance(node, _READS_BYTES) or _is_done(node):
        return node
    on_bytes = any(_is_bytes(node.args.get(key)) for key in _STRING_ARGS)
    if on_bytes:
        for key in _STRING_ARGS:
            arg = node.args.get(key)
            numeric = key == "expression" and isinstance(node, exp.Pad | exp.Left | exp.Right)
            if arg is not None and not numeric and not isinstance(arg, exp.Null):
                node.set(key, _duck("bq_b2s(_b_)", DType.TEXT, b=arg))
    result = _bounded(node, on_bytes)
    if not on_bytes:
        return result
    if isinstance(node, _RETURNS_BYTES):
        return _duck("bq_s2b(_s_)", DType.BINARY, s=result)
    if isinstance(node, _RETURNS_BYTES_ARRAY):
        return _duck("list_transform(_l_, lambda e: bq_s2b(e))", l=result)
    return result


def _bounded(node: exp.Expression, on_bytes: bool) -> exp.Expression:
    """``node`` with BigQuery's bounds and errors (its arguments already rewritten)."""
    this = node.this
    if isinstance(node, exp.Lower | exp.Upper) and on_bytes:
        upper, lower = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
        pair = (upper, lower) if isinstance(node, exp.Lower) else (lower, upper)
        return _duck(f"translate(_s_, '{pair[0]}', '{pair[1]}')", DType.TEXT, s=this)
    if isinstance(node, exp.Substring):
        start, length = node.args.get("start"), node.args.get("length")
        if length is None:
            return _duck("bq_substr(_s_, _p_)", DType.TEXT, s=this, p=start)
        return _duck("bq_substr(_s_, _p_, _l_)", DType.TEXT, s=this, p=start, l=length)
    if isinstance(node, exp.Left | exp.Right):
        name = "bq_left" if isinstance(node, exp.Left) else "bq_right"
        return _duck(f"{name}(_s_, _n_)", DType.TEXT, s=this, n=node.expression)
    if isinstance(node, exp.Pad):
        name = "bq_lpad" if node.args.get("is_left") else "bq_rpad"
        fill = node.args.get("fill_pattern") or exp.Literal.string(" ")
        return _duck(f"{name}(_s_, _n_, _f_)", DType.TEXT, s=this, n=node.expression, f=fill)
    if isinstance(node, exp.Repeat):
        times = node.args["times"]
        return _duck("repeat(CAST(_s_ AS VARCHAR), bq_repeat(_s_, _n_))", DType.TEXT, s=this, n=times)
    if isinstance(node, exp.Translate):
        args = {"s": this, "f": node.args["from_"], "t": node.args["to"]}
        return _duck("bq_translate(_s_, _f_, _t_)", DType.TEXT, **args)
    if isinstance(node, exp.Unicode):
        return _duck("CASE WHEN _s_ = '' THEN 0 ELSE unicode(_s_) END", DType.BIGINT, s=this)
    if isinstance(node, exp.Split):
        delimiter = node.expression or exp.Literal.string(",")
        return _duck("bq_split(_s_, _d_)", s=this, d=delimiter)
    if isinstance(node, exp.StrPosition) and (node.args.get("position") or node.args.get("occurrence")):
        position = node.args.get("position") or exp.Literal.number(1)
        occurrence = node.args.get("occurrence") or exp.Literal.number(1)
        found = node.args["substr"]
        return _duck("bq_instr(_s_, _t_, _p_, _o_)", DType.BIGINT, s=this, t=found, p=position, o=occurrence)
    return _done(node)
