"""BigQuery's JSON converters, accessors and lax JSONPaths, which sqlglot passes to DuckDB unchanged
(or as names DuckDB lacks: ``bool(json)`` became ``J_S_O_N_BOOL``, ``FLOAT64`` / ``DOUBLE`` and
``JSON_KEYS`` do not exist, ``STRING(json)`` kept the quotes, ``JSON_TYPE`` said ``VARCHAR``).

Two halves: :data:`MACROS`, DuckDB macros registered on the engine's connection (plain SQL over
DuckDB's ``json_type`` and ``json_tree``: the fake has no numpy, so no Python UDFs), and
:func:`apply_json_fixes`, AST rewrites run before :mod:`fakes.bigquery.functions`' fixes that call
them. Errors are BigQuery's "out of range" texts (as Google's reference implementation words them),
raised with DuckDB's ``ERROR``; ``SAFE.`` calls get the macro's ``safe`` flag instead, because DuckDB
refuses ``TRY`` around ``ERROR``.

What is covered: ``BOOL`` / ``INT64`` / ``FLOAT64`` (alias ``DOUBLE``, with ``wide_number_mode``) /
``STRING`` of JSON, ``JSON_TYPE``, ``JSON_KEYS`` (``max_depth``, ``mode``), ``JSON_FLATTEN``,
``JSON_QUERY`` with ``lax`` / ``lax recursive`` paths, JSONPath literals in BigQuery's legacy
bracket form (``$[a]['b.c']``) or with quoted names, which DuckDB's path reader refuses, and the
array extractors (``JSON_QUERY_ARRAY`` & co. keep JSON nulls as elements, are NULL off an array).
The mutators ``JSON_SET``, ``JSON_REMOVE``, ``JSON_ARRAY_APPEND`` and ``JSON_ARRAY_INSERT`` with
literal paths are compiled, level by level, into macros that put, drop or insert one member or
element (rebuilding the JSON text); member access (``json['k']``, ``(json).k``) reads by exact name.
``JSON_STRIP_NULLS`` rebuilds the tree with one macro per nesting level (DuckDB macros cannot
recurse), to :data:`STRIP_DEPTH` levels; a deeper container is refused with an error, not left
unstripped. ``JSON_OBJECT`` keeps a key's first value (DuckDB: its last). Not covered:
``JSON_OBJECT`` of two arrays (sqlglot folds it, dropping NULL keys and unmatched values) and the
``LAX_*`` converters.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from fakes.bigquery.bottom_up import handles, rewrite_bottom_up
from fakes.bigquery.exceptions import QueryFailed
from fakes.bigquery.functions import DType, _done, _duck, _is_done, _type_of

STRIP_DEPTH = 6
"""How deep ``JSON_STRIP_NULLS`` goes: DuckDB macros cannot recurse, so one macro per level is
created; a container nested deeper is refused with an error rather than left unstripped."""


def _strip_levels() -> list[str]:
    levels = [
        f"CREATE OR REPLACE MACRO bq_json_strip_{STRIP_DEPTH}(v, arrays, empty) AS CASE "
        "WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN error('JSON_STRIP_NULLS: the BigQuery fake strips "
        f"nulls to a nesting depth of {STRIP_DEPTH}') WHEN json_type(v) = 'NULL' THEN NULL ELSE v END"
    ]
    levels.extend(
        f"CREATE OR REPLACE MACRO bq_json_strip_{depth}(v, arrays, empty) AS CASE "
        "WHEN json_type(v) = 'NULL' THEN NULL WHEN json_type(v) NOT IN ('OBJECT', 'ARRAY') THEN v "
        "ELSE bq_json_rebuild(v, list_transform(bq_json_children(v), "
        f"lambda c: {{'k': c.k, 'x': bq_json_strip_{depth + 1}(c.x, arrays, empty)}}), arrays, empty) END"
        for depth in range(STRIP_DEPTH - 1, -1, -1)
    )
    return levels


MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO bq_json_fail(safe, message) AS CASE WHEN safe THEN NULL ELSE error(message) END",
    # BOOL(json)
    "CREATE OR REPLACE MACRO bq_json_bool(j, safe) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'BOOLEAN' THEN CAST(j AS BOOLEAN) "
    "ELSE bq_json_fail(safe, 'The provided JSON input is not a boolean') END",
    # STRING(json)
    "CREATE OR REPLACE MACRO bq_json_string(j, safe) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) = 'VARCHAR' THEN json_extract_string(j, '$') "
    "ELSE bq_json_fail(safe, 'The provided JSON input is not a string') END",
    # INT64(json): integral numbers only
    "CREATE OR REPLACE MACRO bq_json_int64(j, safe) AS CASE WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT') AND TRY_CAST(j AS BIGINT) IS NOT NULL THEN CAST(j AS BIGINT) "
    "WHEN json_type(j) = 'DOUBLE' AND CAST(j AS DOUBLE) = floor(CAST(j AS DOUBLE)) "
    "AND abs(CAST(j AS DOUBLE)) < 9.2e18 THEN CAST(CAST(j AS DOUBLE) AS BIGINT) "
    "WHEN json_type(j) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN bq_json_fail(safe, "
    "'The provided JSON number: ' || CAST(j AS VARCHAR) || ' cannot be converted to an int64') "
    "ELSE bq_json_fail(safe, 'The provided JSON input is not an integer') END",
    # the significant digits of a number's text: equal for a JSON number and its FLOAT64 when exact
    "CREATE OR REPLACE MACRO bq_json_digits(t) AS "
    "trim(regexp_replace(split_part(lower(t), 'e', 1), '[^0-9]', '', 'g'), '0')",
    # FLOAT64(json, wide_number_mode)
    "CREATE OR REPLACE MACRO bq_json_float64(j, mode, safe) AS CASE "
    "WHEN mode IS NULL OR mode NOT IN ('exact', 'round') THEN "
    "bq_json_fail(safe, 'Invalid `wide_number_mode` specified: ' || coalesce(mode, 'NULL')) "
    "WHEN j IS NULL THEN NULL "
    "WHEN json_type(j) NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN "
    "bq_json_fail(safe, 'The provided JSON input is not a number') "
    "WHEN mode = 'exact' AND bq_json_digits(CAST(j AS VARCHAR)) <> "
    "bq_json_digits(CAST(CAST(j AS DOUBLE) AS VARCHAR)) THEN bq_json_fail(safe, 'JSON number: ' "
    "|| CAST(j AS VARCHAR) || ' cannot be converted to DOUBLE without loss of precision') "
    "ELSE CAST(j AS DOUBLE) END",
    # JSON_TYPE(json)
    "CREATE OR REPLACE MACRO bq_json_type(j) AS CASE WHEN j IS NULL THEN NULL "
    "ELSE CASE json_type(j) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' "
    "WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' "
    "ELSE 'number' END END",
    # JSON_FLATTEN(json): the non-array values reached through arrays only, in document order
    "CREATE OR REPLACE MACRO bq_json_flatten(j) AS CASE WHEN j IS NULL THEN NULL ELSE "
    "(SELECT coalesce(list(value ORDER BY id), CAST([] AS JSON[])) FROM json_tree(j) "
    "WHERE type <> 'ARRAY' AND regexp_matches(fullkey, '^\\$(\\[[0-9]+\\])*$')) END",
    # JSON_KEYS(json, max_depth, mode): object keys as dotted paths; strict mode does not enter
    # arrays, lax mode one level of array at each step, lax recursive any number
    "CREATE OR REPLACE MACRO bq_json_keys(j, max_depth, mode) AS CASE "
    "WHEN max_depth IS NOT NULL AND max_depth <= 0 THEN error('max_depth must be positive.') "
    "WHEN mode IS NULL OR mode NOT IN ('strict', 'lax', 'lax recursive') "
    "THEN error('Invalid JSON mode specified') "
    "WHEN j IS NULL THEN NULL ELSE "
    "(SELECT coalesce(list(DISTINCT k ORDER BY k), CAST([] AS VARCHAR[])) FROM ("
    "SELECT substr(regexp_replace(fullkey, '\\[[0-9]+\\]', '', 'g'), 3) AS k, fullkey FROM json_tree(j) "
    "WHERE fullkey <> '$' AND NOT ends_with(fullkey, ']')) "
    "WHERE (max_depth IS NULL OR "
    "len(regexp_extract_all('.' || k, '\\.(\"([^\"\\\\]|\\\\.)*\"|[^.\"]+)')) <= max_depth) "
    "AND CASE mode WHEN 'strict' THEN NOT regexp_matches(fullkey, '\\[[0-9]+\\]') "
    "WHEN 'lax' THEN NOT regexp_matches(fullkey, '\\]\\[') ELSE true END) END",
    # JSON_QUERY(json, 'lax ...'): every match of a path pattern (built at translation), as an array
    # JSON_QUERY_ARRAY / JSON_EXTRACT_ARRAY of the value a path reached: its elements (JSON nulls kept)
    "CREATE OR REPLACE MACRO bq_json_elements(v) AS "
    "CASE WHEN json_type(v) = 'ARRAY' THEN CAST(json_extract(v, '$[*]') AS JSON[]) END",
    # JSON_VALUE_ARRAY / JSON_EXTRACT_STRING_ARRAY: scalars as text, NULL if an element is not one
    "CREATE OR REPLACE MACRO bq_json_scalars(v) AS CASE WHEN json_type(v) = 'ARRAY' AND "
    "len(list_filter(CAST(json_extract(v, '$[*]') AS JSON[]), "
    "lambda x: json_type(x) IN ('OBJECT', 'ARRAY'))) = 0 "
    "THEN list_transform(CAST(json_extract(v, '$[*]') AS JSON[]), lambda x: json_extract_string(x, '$')) END",
    "CREATE OR REPLACE MACRO bq_json_texts(l) AS list_transform(l, lambda x: CAST(x AS VARCHAR))",
    # mutators' building blocks: a member or element put, dropped or inserted, JSON text rebuilt
    "CREATE OR REPLACE MACRO bq_json_len(v) AS CAST(json_array_length(v) AS BIGINT)",
    "CREATE OR REPLACE MACRO bq_json_member(v, k) AS json_extract(v, '/' || replace(replace(k, '~', "
    "'~0'), '/', '~1'))",
    "CREATE OR REPLACE MACRO bq_json_elements_of(v) AS CAST(json_extract(v, '$[*]') AS JSON[])",
    "CREATE OR REPLACE MACRO bq_json_array_of(xs) AS CAST('[' || array_to_string(list_transform(xs, "
    "lambda y: coalesce(CAST(y AS VARCHAR), 'null')), ',') || ']' AS JSON)",
    "CREATE OR REPLACE MACRO bq_json_object_of(ks, v, k, x) AS CAST('{' || "
    "array_to_string(list_transform(ks, lambda kk: CAST(to_json(kk) AS VARCHAR) || ':' || "
    "coalesce(CAST(CASE WHEN kk = k THEN x ELSE bq_json_member(v, kk) END AS VARCHAR), 'null')), "
    "',') || '}' AS JSON)",
    "CREATE OR REPLACE MACRO bq_json_put_member(v, k, x) AS bq_json_object_of(CASE WHEN "
    "list_contains(json_keys(v), k) THEN json_keys(v) ELSE list_append(json_keys(v), k) END, v, k, "
    "x)",
    "CREATE OR REPLACE MACRO bq_json_drop_member(v, k) AS "
    "bq_json_object_of(list_filter(json_keys(v), lambda kk: kk <> k), v, NULL, NULL)",
    "CREATE OR REPLACE MACRO bq_json_put_element(v, i, x) AS "
    "bq_json_array_of(list_transform(range(greatest(bq_json_len(v), i + 1)), lambda n: CASE WHEN n = "
    "i THEN x ELSE bq_json_elements_of(v)[n + 1] END))",
    "CREATE OR REPLACE MACRO bq_json_drop_element(v, i) AS "
    "bq_json_array_of(list_filter(bq_json_elements_of(v), lambda y, n: n - 1 <> i))",
    "CREATE OR REPLACE MACRO bq_json_insert_elements(v, i, xs) AS "
    "bq_json_array_of(list_concat(list_slice(bq_json_elements_of(v), 1, i), "
    "list_transform(range(greatest(i - bq_json_len(v), 0)), lambda n: CAST(NULL AS JSON)), xs, "
    "list_slice(bq_json_elements_of(v), i + 1, bq_json_len(v))))",
    "CREATE OR REPLACE MACRO bq_json_append_elements(v, xs) AS "
    "bq_json_array_of(list_concat(bq_json_elements_of(v), xs))",
    # JSON_STRIP_NULLS: a container's children, stripped (SQL NULL = dropped), kept and rebuilt
    "CREATE OR REPLACE MACRO bq_json_children(v) AS CASE WHEN json_type(v) = 'OBJECT' THEN "
    "list_transform(json_keys(v), lambda k: {'k': k, 'x': bq_json_member(v, k)}) ELSE "
    "list_transform(bq_json_elements_of(v), lambda e: {'k': CAST(NULL AS VARCHAR), 'x': e}) END",
    "CREATE OR REPLACE MACRO bq_json_kept(v, cs, arrays) AS list_transform([cs], lambda all_: "
    "CASE WHEN json_type(v) = 'OBJECT' OR arrays THEN list_filter(all_, lambda c: c.x IS NOT NULL) "
    "ELSE list_transform(all_, lambda c: {'k': c.k, 'x': coalesce(c.x, CAST('null' AS JSON))}) END)[1]",
    "CREATE OR REPLACE MACRO bq_json_text_of(v, cs) AS CASE WHEN json_type(v) = 'OBJECT' THEN '{' || "
    "array_to_string(list_transform(cs, lambda c: CAST(to_json(c.k) AS VARCHAR) || ':' || "
    "CAST(c.x AS VARCHAR)), ',') || '}' "
    "ELSE '[' || array_to_string(list_transform(cs, lambda c: CAST(c.x AS VARCHAR)), ',') || ']' END",
    "CREATE OR REPLACE MACRO bq_json_rebuild(v, cs, arrays, empty) AS "
    "list_transform([bq_json_kept(v, cs, arrays)], lambda kept: "
    "CASE WHEN empty AND len(kept) = 0 THEN NULL ELSE CAST(bq_json_text_of(v, kept) AS JSON) END)[1]",
    *_strip_levels(),
    "CREATE OR REPLACE MACRO bq_json_query_lax(j, pattern) AS CASE WHEN j IS NULL THEN NULL ELSE "
    "(SELECT CAST(coalesce(CAST(to_json(list(value ORDER BY id)) AS VARCHAR), '[]') AS JSON) "
    "FROM json_tree(j) WHERE regexp_matches(fullkey, pattern)) END",
)
"""DuckDB macros; :func:`register` creates them on a connection."""


# ------------------------------------------------------------------------------------ JSONPath

_MODIFIERS = re.compile(r"^\s*((?:[A-Za-z]+\s+)*)\$", re.S)
_SEGMENT = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_$@-]+)|\."(?P<quoted>(?:[^"\\]|\\.)*)"|\[(?P<index>\d+)\]"""
    r"""|\[\s*'(?P<single>(?:[^'\\]|\\.)*)'\s*\]|\[\s*"(?P<double>(?:[^"\\]|\\.)*)"\s*\]"""
    r"""|\[(?P<bare>[^\]'"]+)\]""",
    re.S,
)


def path_segments(path: str) -> list[str | int] | None:
    """A JSONPath after ``$`` as member names and array indexes, or ``None`` where the fake's
    reader does not follow it (then DuckDB's own reader is left to judge it)."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None:
            return None
        if match["index"] is not None:
            segments.append(int(match["index"]))
        else:
            name = next(
                match[g] for g in ("name", "quoted", "single", "double", "bare") if match[g] is not None
            )
            segments.append(re.sub(r"\\(.)", r"\1", name))
        position = match.end()
    return segments


def duckdb_path(segments: list[str | int]) -> str:
    """A DuckDB JSONPath for ``segments`` (names double-quoted, so dots and brackets in a name stay)."""
    out = "$"
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += '."' + segment.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return out


def _modifiers(path: str) -> tuple[list[str], str] | None:
    match = _MODIFIERS.match(path)
    if match is None:
        return None
    return [m.lower() for m in match.group(1).split()], path[match.end() :]


def _lax_pattern(segments: list[str | int], recursive: bool) -> str:
    """A regex over ``json_tree``'s ``fullkey`` matching what a lax path reaches: before each
    member name, one array level (any number if recursive) is stepped through."""
    arrays = r"(\[[0-9]+\])*" if recursive else r"(\[[0-9]+\])?"
    pattern = r"^\$"
    for segment in segments:
        if isinstance(segment, int):
            pattern += rf"\[{segment}\]"
        else:
            quoted = '"' + segment.replace("\\", "\\\\").replace('"', '\\"') + '"'
            pattern += arrays + r"\.(" + re.escape(segment) + "|" + re.escape(quoted) + ")"
    return pattern + "$"


# -------------------------------------------------------------------------------------- rewrites


def _safe(node: exp.Expression) -> exp.Expression:
    return exp.true() if isinstance(node.parent, exp.SafeFunc) else exp.false()


def _kwargs(node: exp.Expression) -> tuple[list[exp.Expression], dict[str, exp.Expression]]:
    positional: list[exp.Expression] = []
    named: dict[str, exp.Expression] = {}
    for arg in node.expressions:
        if isinstance(arg, exp.Kwarg):
            named[arg.this.name.lower()] = arg.expression
        elif named:
            name = node.sql_name() if not isinstance(node, exp.Anonymous) else node.name.upper()
            raise QueryFailed(
                detail=f"Call to function {name} must not specify positional arguments after named "
                "arguments; named arguments must be specified last in the argument list"
            )
        else:
            positional.append(arg)
    return positional, named


@handles(exp.JSONBool, exp.Int64, exp.String, exp.JSONType, exp.Float64, exp.Anonymous)
def _converters(node: exp.Expression) -> exp.Expression:
    """``BOOL`` / ``INT64`` / ``FLOAT64`` / ``DOUBLE`` / ``STRING`` of JSON and ``JSON_TYPE``."""
    if _is_done(node):
        return node
    if isinstance(node, exp.JSONBool):
        return _duck("bq_json_bool(_j_, _s_)", DType.BOOLEAN, j=node.this, s=_safe(node))
    if isinstance(node, exp.Int64) and _is_json(node.this):
        return _duck("bq_json_int64(_j_, _s_)", DType.BIGINT, j=node.this, s=_safe(node))
    if isinstance(node, exp.String) and _is_json(node.this) and not node.args.get("zone"):
        return _duck("bq_json_string(_j_, _s_)", DType.TEXT, j=node.this, s=_safe(node))
    if isinstance(node, exp.JSONType):
        return _duck("bq_json_type(_j_)", DType.TEXT, j=node.this)
    float64 = isinstance(node, exp.Float64) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in ("double", "float64")
    )
    if float64:
        if isinstance(node, exp.Float64):
            extra = node.expression
            args = [node.this, *([extra] if extra is not None and not isinstance(extra, exp.Kwarg) else [])]
            named = {extra.this.name.lower(): extra.expression} if isinstance(extra, exp.Kwarg) else {}
        else:
            args, named = _kwargs(node)
        mode = named.get("wide_number_mode", args[1] if len(args) > 1 else exp.Literal.string("round"))
        return _duck("bq_json_float64(_j_, _m_, _s_)", DType.DOUBLE, j=args[0], m=mode, s=_safe(node))
    return node


def _is_json(node: exp.Expression) -> bool:
    """Whether ``node`` is JSON as far as can be told without a schema (BigQuery's ``INT64`` and
    ``STRING`` have other overloads, which :mod:`fakes.bigquery.functions` handles)."""
    return isinstance(node, exp.ParseJSON | exp.JSONExtract | exp.JSONObject | exp.JSONArray) or (
        isinstance(node, exp.Cast) and node.to.is_type(DType.JSON)
    )


@handles(exp.JSONKeysAtDepth, exp.Anonymous)
def _keys_and_flatten(node: exp.Expression) -> exp.Expression:
    """``JSON_KEYS(json[, max_depth][, mode => ...])`` and ``JSON_FLATTEN(json)``."""
    if _is_done(node):
        return node
    if isinstance(node, exp.JSONKeysAtDepth):
        depth, mode = node.expression, node.args.get("mode")
        if isinstance(depth, exp.Kwarg):  # JSON_KEYS(json, mode => ...): no max_depth
            depth, mode = None, depth
        mode = mode.expression if isinstance(mode, exp.Kwarg) else mode or exp.Literal.string("strict")
        depth = depth or exp.null()
        mode = _duck("regexp_replace(lower(trim(_m_)), '\\s+', ' ', 'g')", m=mode)
        return _duck("bq_json_keys(_j_, _d_, _m_)", j=node.this, d=depth, m=mode)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_flatten":
        return _duck("bq_json_flatten(_j_)", j=node.expressions[0])
    return node


@handles(exp.JSONExtract, exp.JSONExtractScalar, exp.JSONExtractArray, exp.JSONValueArray)
def _json_paths(node: exp.Expression) -> exp.Expression:
    """Path literals of the JSON extractors in a form DuckDB reads; ``lax`` paths of ``JSON_QUERY``
    matched over ``json_tree``; BigQuery's errors for bad modifiers."""
    extractors = exp.JSONExtract | exp.JSONExtractScalar | exp.JSONExtractArray | exp.JSONValueArray
    if not isinstance(node, extractors) or _is_done(node) or node.expression is None:
        return node
    path = node.expression
    literal = path.this if isinstance(path, exp.JSONPath) else path
    text = literal.name if isinstance(literal, exp.Literal) and literal.is_string else None
    if text is None and isinstance(path, exp.JSONPath):
        text = path.sql(dialect="bigquery").strip("'")
    if text is None:
        return node
    parsed = _modifiers(text)
    if parsed is None:
        return node
    modifiers, rest = parsed
    if modifiers:
        return _lax_query(node, modifiers, rest)
    segments = path_segments(rest)
    if segments is None:
        return node
    node.set("expression", exp.Literal.string(duckdb_path(segments)))
    return node


def _lax_query(node: exp.Expression, modifiers: list[str], rest: str) -> exp.Expression:
    if len(set(modifiers)) != len(modifiers) or not set(modifiers) <= {"lax", "recursive"}:
        raise QueryFailed(detail="JSONPath must start with zero or more unique modifiers followed by '$'")
    if "lax" not in modifiers:
        raise QueryFailed(
            detail="JSONPath has an invalid combination of modifiers. The 'lax' modifier must be "
            "included if 'recursive' is specified."
        )
    segments = path_segments(rest)
    if segments is None or not isinstance(node, exp.JSONExtract):
        return node
    pattern = exp.Literal.string(_lax_pattern(segments, "recursive" in modifiers))
    return _done(_duck("bq_json_query_lax(_j_, _p_)", DType.JSON, j=node.this, p=pattern))


@handles(exp.JSONExtractArray, exp.JSONValueArray)
def _array_extractors(node: exp.Expression) -> exp.Expression:
    """``JSON_QUERY_ARRAY`` / ``JSON_EXTRACT_ARRAY`` keep JSON nulls as elements and are NULL when
    the path reaches no array (DuckDB's cast to ``JSON[]`` made the nulls NULL, or failed);
    ``JSON_VALUE_ARRAY`` / ``JSON_EXTRACT_STRING_ARRAY`` read scalars only. Of a STRING, the
    elements are JSON-formatted STRINGs."""
    if not isinstance(node, exp.JSONExtractArray | exp.JSONValueArray) or _is_done(node):
        return node
    path = node.expression or exp.Literal.string("$")
    reached = _done(exp.JSONExtract(this=node.this, expression=path))
    if isinstance(node, exp.JSONValueArray):
        return _duck("bq_json_scalars(_v_)", v=reached)
    elements = _duck("bq_json_elements(_v_)", v=reached)
    if _type_of(node.this) in exp.DataType.TEXT_TYPES:
        return _duck("bq_json_texts(_e_)", e=elements)
    return elements


# ------------------------------------------------------------------------------------ mutators

_Op = Callable[[exp.Expression], exp.Expression]


class _Binder:
    """Names for the lambda parameters that bind a value once (``list_transform([v], LAMBDA x :
    ...)[1]``), so a path's levels do not copy their input expression into every use of it."""

    def __init__(self) -> None:
        self.count = 0

    def bind(self, value: exp.Expression, body: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
        self.count += 1
        name = f"bq_v{self.count}"
        inner = body(exp.column(name))
        return _duck(f"list_transform([_v_], LAMBDA {name} : _b_)[1]", DType.JSON, v=value, b=inner)


def _key(segment: str | int) -> exp.Expression:
    return exp.Literal.string(segment) if isinstance(segment, str) else exp.Literal.number(segment)


def _child(value: exp.Expression, segment: str | int) -> exp.Expression:
    """The member or element ``segment`` names (SQL NULL where there is none)."""
    if isinstance(segment, str):
        return _duck("bq_json_member(_v_, _k_)", DType.JSON, v=value, k=_key(segment))
    return _duck("bq_json_elements_of(_v_)[_k_ + 1]", DType.JSON, v=value, k=_key(segment))


def _put(
    value: exp.Expression, segment: str | int, new: exp.Expression, condition: exp.Expression
) -> exp.Expression:
    """``value`` with member / element ``segment`` set to ``new`` if it is an object / array and
    ``condition`` holds, else as it is."""
    kind, put = (
        ("OBJECT", "bq_json_put_member") if isinstance(segment, str) else ("ARRAY", "bq_json_put_element")
    )
    return _duck(
        f"CASE WHEN json_type(_v_) = '{kind}' AND _p_ THEN {put}(_v_, _k_, _n_) ELSE _v_ END",
        DType.JSON,
        v=value,
        p=condition,
        k=_key(segment),
        n=new,
    )


def _at_path(
    binder: _Binder, value: exp.Expression, segments: list[str | int], op: _Op, create: str | int | None
) -> exp.Expression:
    """``value`` with ``op`` applied to what ``segments`` reach. A level of the wrong type leaves
    the value as it is, so does a missing one unless ``create`` is the segment ``op`` will use:
    then missing levels are created, as objects or arrays as the next segment needs."""
    if not segments:
        return op(value)
    segment, rest = segments[0], segments[1:]

    def level(v: exp.Expression) -> exp.Expression:
        child = _child(v, segment)
        if create is None:
            present = _duck("_c_ IS NOT NULL", c=_child(v, segment))
            return _put(v, segment, _at_path(binder, child, rest, op, create), present)
        following = rest[0] if rest else create
        empty = "'{}'" if isinstance(following, str) else "'[]'"
        start = _duck(f"coalesce(_c_, CAST({empty} AS JSON))", DType.JSON, c=child)
        return _put(v, segment, _at_path(binder, start, rest, op, create), exp.true())

    return binder.bind(value, level)


def _as_json(value: exp.Expression) -> exp.Expression:
    """A SQL value as JSON, as ``TO_JSON`` makes it (JSON stays JSON)."""
    return _duck("CAST(to_json(_x_) AS JSON)", DType.JSON, x=value)


def _elements(value: exp.Expression, each: bool) -> exp.Expression:
    """What an append or insert adds: the elements of a SQL ARRAY when ``each`` (BigQuery's
    default), else the value as one element."""
    if each and (
        isinstance(value, exp.Array) or (isinstance(value, exp.Cast) and value.to.is_type(DType.ARRAY))
    ):
        return _duck("bq_json_elements_of(CAST(to_json(_x_) AS JSON))", x=value)
    return _duck("[_x_]", x=_as_json(value))


def _flag(named: dict[str, exp.Expression], name: str, default: bool) -> bool:
    value = named.get(name)
    return default if not isinstance(value, exp.Boolean) else bool(value.this)


@handles(exp.JSONSet, exp.JSONRemove, exp.JSONArrayAppend, exp.JSONArrayInsert)
def _mutators(node: exp.Expression) -> exp.Expression:
    """``JSON_SET``, ``JSON_REMOVE``, ``JSON_ARRAY_APPEND`` and ``JSON_ARRAY_INSERT`` with JSONPath
    literals: each (path, value) pair applied in order, compiled into the macros' member and
    element operations (a NULL path is skipped; a path the fake cannot read is left to DuckDB)."""
    kinds = exp.JSONSet | exp.JSONRemove | exp.JSONArrayAppend | exp.JSONArrayInsert
    if not isinstance(node, kinds) or _is_done(node):
        return node
    positional, named = _kwargs(node)
    paths = positional if isinstance(node, exp.JSONRemove) else positional[0::2]
    values = [exp.null()] * len(paths) if isinstance(node, exp.JSONRemove) else positional[1::2]
    if len(paths) != len(values):
        return node
    binder, result = _Binder(), node.this
    for path, value in zip(paths, values, strict=True):
        if isinstance(path, exp.Null):
            continue
        parsed = _modifiers(path.name) if isinstance(path, exp.Literal) and path.is_string else None
        segments = path_segments(parsed[1]) if parsed is not None and not parsed[0] else None
        if segments is None:
            return node
        result = _mutate(node, binder, result, segments, value, named)
    return _done(_duck("CAST(_r_ AS JSON)", DType.JSON, r=result))


def _op(template: str, **args: exp.Expression) -> _Op:
    """An operation on the value a path reaches (``_t_`` in ``template``)."""
    return lambda target: _duck(template, t=target, **args)


def _mutate(
    node: exp.Expression,
    binder: _Binder,
    target: exp.Expression,
    segments: list[str | int],
    value: exp.Expression,
    named: dict[str, exp.Expression],
) -> exp.Expression:
    """One (path, value) pair of a mutator applied to ``target``."""
    if isinstance(node, exp.JSONArrayAppend):
        added = _elements(value, _flag(named, "append_each_element", True))
        append = _op(
            "CASE WHEN json_type(_t_) = 'ARRAY' THEN bq_json_append_elements(_t_, _x_) ELSE _t_ END", x=added
        )
        return _at_path(binder, target, segments, append, None)
    if not segments:
        return _as_json(value) if isinstance(node, exp.JSONSet) else target
    parent, last = segments[:-1], segments[-1]
    if isinstance(node, exp.JSONSet):
        create = _flag(named, "create_if_missing", True)
        new = _as_json(value)

        def put(p: exp.Expression) -> exp.Expression:
            return _put(p, last, new, exp.true() if create else _duck("_c_ IS NOT NULL", c=_child(p, last)))

        return _at_path(binder, target, parent, put, last if create else None)
    if isinstance(node, exp.JSONRemove):
        kind, drop = (
            ("OBJECT", "bq_json_drop_member") if isinstance(last, str) else ("ARRAY", "bq_json_drop_element")
        )
        remove = _op(f"CASE WHEN json_type(_t_) = '{kind}' THEN {drop}(_t_, _k_) ELSE _t_ END", k=_key(last))
        return _at_path(binder, target, parent, remove, None)
    if not isinstance(last, int):
        return target
    added = _elements(value, _flag(named, "insert_each_element", True))
    template = "CASE WHEN json_type(_t_) = 'ARRAY' THEN bq_json_insert_elements(_t_, _k_, _x_) ELSE _t_ END"
    return _at_path(binder, target, parent, _op(template, k=_key(last), x=added), None)


@handles(exp.JSONStripNulls)
def _strip_nulls(node: exp.Expression) -> exp.Expression:
    """``JSON_STRIP_NULLS(json[, path][, include_arrays => ...][, remove_empty => ...])``: JSON nulls
    removed from objects (and arrays, by default), below ``path``; with ``remove_empty`` the objects
    and arrays left empty too, and an empty result is JSON null."""
    if not isinstance(node, exp.JSONStripNulls) or _is_done(node):
        return node
    options = {
        name: arg.expression if isinstance(arg, exp.Kwarg) else arg
        for name in ("include_arrays", "remove_empty")
        if (arg := node.args.get(name)) is not None
    }
    path = node.expression
    if isinstance(path, exp.Kwarg):
        options[path.this.name.lower()] = path.expression
        path = None
    arrays = options.get("include_arrays", exp.true())
    empty = options.get("remove_empty", exp.false())
    segments: list[str | int] | None = []
    if path is not None:
        parsed = _modifiers(path.name) if _is_string(path) else None
        segments = path_segments(parsed[1]) if parsed is not None and not parsed[0] else None
    if segments is None:
        return node
    strip = _op("coalesce(bq_json_strip_0(_t_, _a_, _e_), CAST('null' AS JSON))", a=arrays, e=empty)
    stripped = _at_path(_Binder(), node.this, segments, strip, None)
    return _done(_duck("CAST(_r_ AS JSON)", DType.JSON, r=stripped))


@handles(exp.Bracket, exp.Dot)
def _member_access(node: exp.Expression) -> exp.Expression:
    """``json['name']`` and ``json_expr.name`` read the member by exact name (a JSON pointer), so an
    empty name or one with quotes, dots or backslashes works; DuckDB's own JSONPath reading of
    them fails. A string subscript is only JSON's in BigQuery; a field path only where the value
    is known to be JSON (a column's type is not known here, and DuckDB reads those well)."""
    if _is_done(node):
        return node
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and _is_string(node.expressions[0]):
        return _duck("bq_json_member(_j_, _k_)", DType.JSON, j=node.this, k=node.expressions[0])
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if isinstance(inner, exp.ParseJSON) or inner.meta.get("bq_type") is DType.JSON:
            return _duck("bq_json_member(_j_, _k_)", DType.JSON, j=inner, k=exp.Literal.string(node.name))
    return node


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


@handles(exp.JSONObject)
def _json_object_keeps_the_first_of_a_key(node: exp.Expression) -> exp.Expression:
    """``JSON_OBJECT('c', 1, 'c', 2)`` is ``{"c": 1}``: BigQuery keeps a key's first value, DuckDB's
    ``json_object`` its last. (Keys given as literals; others are left to DuckDB.)"""
    if not isinstance(node, exp.JSONObject) or _is_done(node):
        return node
    seen: set[str] = set()
    for pair in list(node.expressions):
        key = pair.this if isinstance(pair, exp.JSONKeyValue) else None
        if key is None or not _is_string(key):
            continue
        if key.name in seen:
            pair.pop()
        seen.add(key.name)
    return node


@handles(exp.SafeFunc)
def _safe_call_keeps_its_flag(node: exp.Expression) -> exp.Expression:
    """``SAFE.f(...)`` of a converter already rewritten with ``safe = TRUE``: the call as is."""
    if isinstance(node, exp.SafeFunc) and _is_done(node.this) and "bq_json_" in node.this.sql().lower():
        return node.this
    return node


FIXES = [
    _member_access,
    _json_object_keeps_the_first_of_a_key,
    _converters,
    _keys_and_flatten,
    _json_paths,
    _array_extractors,
    _mutators,
    _strip_nulls,
    _safe_call_keeps_its_flag,
]


def apply_json_fixes(tree: exp.Expression) -> exp.Expression:
    return rewrite_bottom_up(tree, FIXES)
