"""Running one corpus file's cases on the faces, inside one worker process.

For each file: a dataset named after it, its tables built from the printouts, its
``CREATE TEMP FUNCTION`` sections kept to run ahead of every later case (as a script, the way a
BigQuery temporary function lives), its ``CREATE [AGGREGATE|TABLE] FUNCTION`` sections run once in
its dataset, then each case in file order. A case's ``[parameters=...]``
are evaluated by the engine (``SELECT <expr>``) into typed query parameters. A DML case runs on
each face from the table as built, and the table is put back afterwards. Every case runs in the
reference's default time zone (:func:`time_zone_of`), set the way a BigQuery user sets one.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from harness.conformance.compare import Outcome, result_difference
from harness.conformance.corpus import CorpusFile, Section
from harness.conformance.faces import PROJECT, Face, drop_dataset, load_table, new_dataset, reload_table
from harness.conformance.printout import ArrayValue, PrintoutError, read_printout
from harness.conformance.scope import Scope
from harness.conformance.tables import CorpusTable, build_table, table_name
from harness.ports import QueryParam, WarehouseError

_DML = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|MERGE)\s+(?:INTO\s+)?`?([A-Za-z_][A-Za-z0-9_]*)`?", re.I)
REFERENCE_TIME_ZONE = "America/Los_Angeles"
_FUNCTION = re.compile(r"^\s*CREATE\s+(?:TEMP|TEMPORARY)\s+(?:AGGREGATE\s+)?FUNCTION\b", re.I)
_ROUTINE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:AGGREGATE\s+|TABLE\s+)?FUNCTION\b", re.I)


@dataclass
class FileContext:
    """What earlier sections of a file left for later ones."""

    dataset: str
    tables: dict[str, CorpusTable] = field(default_factory=dict)
    broken_tables: dict[str, str] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)


def dataset_for(stem: str) -> str:
    return "f_" + re.sub(r"[^A-Za-z0-9_]", "_", stem)


def run_file(
    corpus: CorpusFile,
    scope: Scope,
    engine: Any,
    faces: list[Face],
    *,
    start: int = 0,
    announce: Callable[[int], None] = lambda index: None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(section index, record)`` for each case of the file from ``start`` on. The sections
    before ``start`` are only replayed for what they prepare (after a worker was replaced)."""
    context = FileContext(dataset=dataset_for(corpus.stem))
    drop_dataset(engine, context.dataset)
    new_dataset(engine, context.dataset)
    try:
        for index, section in enumerate(corpus.sections):
            if section.prepares:
                _prepare(section, scope, engine, context)
                continue
            if index < start:
                continue
            announce(index)
            yield index, run_case(section, scope, engine, faces, context)
    finally:
        drop_dataset(engine, context.dataset)


def _prepare(section: Section, scope: Scope, engine: Any, context: FileContext) -> None:
    if _ROUTINE.match(section.sql):
        # A dataset's function or table function: created once, as a BigQuery user would.
        if scope.out_of_scope(section, None, context.tables) is None:
            with contextlib.suppress(WarehouseError):  # the cases calling it fail and say why
                engine.query(PROJECT, section.sql, default_dataset=context.dataset)
        return
    name = table_name(section)
    if name is not None:
        try:
            table = build_table(section)
            load_table(engine, context.dataset, table.name, table.schema, table.rows)
            context.tables[name.lower()] = table
        except Exception as exc:
            context.broken_tables[name.lower()] = f"{type(exc).__name__}: {exc}"
        return
    if _FUNCTION.match(section.sql) and scope.out_of_scope(section, None, context.tables) is None:
        context.functions.append(section.sql.rstrip().rstrip(";"))


def run_case(
    section: Section, scope: Scope, engine: Any, faces: list[Face], context: FileContext
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": section.case_id, "file": section.file, "line": section.line}
    expected = None
    if not section.expects_error:
        try:
            expected = read_printout(section.expected)
        except PrintoutError as exc:
            return {**record, "status": "unreadable", "detail": str(exc)}
    reason = scope.out_of_scope(section, expected, context.tables)
    if reason is not None:
        return {**record, "status": "out_of_scope", "reason": reason}
    began = time.perf_counter()
    try:
        params = evaluate_parameters(engine, section.options.get("parameters", ""), time_zone_of(section))
    except (ValueError, WarehouseError) as exc:
        return {**record, "status": "error", "detail": f"parameters: {exc}", "faces": {}}
    sql = section.sql
    if context.functions:
        sql = ";\n".join([*context.functions, sql])
    dml = _DML.match(section.sql)
    target = dml.group(1) if dml else None
    verdicts: dict[str, dict[str, str]] = {}
    for face in faces:
        outcome = face.run(sql, params, context.dataset, target, time_zone=time_zone_of(section))
        if target is not None and target.lower() in context.tables:
            reload_table(engine, context.dataset, target, context.tables[target.lower()].rows)
        verdicts[face.name] = judge(section, expected, outcome, dml=target is not None)
    first = verdicts[faces[0].name]
    record.update(first)
    record["faces"] = {name: verdict["status"] for name, verdict in verdicts.items()}
    disagreeing = {n: v for n, v in verdicts.items() if v["status"] != first["status"]}
    if disagreeing:
        record["disagreement"] = {n: v.get("detail", v["status"]) for n, v in verdicts.items()}
    record["seconds"] = round(time.perf_counter() - began, 4)
    return record


def time_zone_of(section: Section) -> str:
    """The reference's default time zone for a case: the file's ``[default_time_zone=...]``, else
    America/Los_Angeles (the corpus README)."""
    return section.options.get("default_time_zone") or REFERENCE_TIME_ZONE


def judge(section: Section, expected: Any, outcome: Outcome, *, dml: bool) -> dict[str, str]:
    if outcome.internal:
        return {"status": "crash", "detail": str(outcome.error)[:500]}
    if section.expects_error:
        if outcome.error is not None:
            return {"status": "pass"}
        return {"status": "no_error", "detail": f"expected {section.expected.splitlines()[0][:200]}"}
    if has_null_element(expected.value):
        # BigQuery refuses to return an array holding NULL (the reference returns it).
        if outcome.error is not None and "null element" in outcome.error:
            return {"status": "pass"}
        return {"status": "no_error", "detail": "BigQuery refuses an array with a NULL element in a result"}
    if outcome.error is not None:
        return {"status": "error", "detail": outcome.error[:500]}
    difference = result_difference(expected, outcome, dml=dml)
    if difference is None:
        return {"status": "pass"}
    return {"status": "fail", "detail": difference[:500]}


def has_null_element(value: Any) -> bool:
    """Whether a result value (the rows, not the rows' own array) holds an array with a NULL."""
    rows = value.items if isinstance(value, ArrayValue) else ()
    stack: list[Any] = [cell for row in rows for cell in (row if isinstance(row, tuple) else (row,))]
    while stack:
        item = stack.pop()
        if isinstance(item, ArrayValue):
            if any(element is None for element in item.items):
                return True
            stack.extend(item.items)
        elif isinstance(item, tuple):
            stack.extend(item)
    return False


def evaluate_parameters(engine: Any, text: str, time_zone: str = "UTC") -> dict[str, Any]:
    """``expr [AS] name, ...`` as typed query parameters, each expression evaluated by the engine in
    the case's default time zone (the corpus also writes ``-1 param``, without ``AS``)."""
    params: dict[str, Any] = {}
    for item in _split_top_level(text):
        match = re.match(r"(?s)(.*?)\s+(?:as\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$", item.strip(), re.I)
        if match is None:
            raise ValueError(f"cannot read parameter {item!r}")
        result = engine.query(PROJECT, f"SELECT {match.group(1)}", time_zone=time_zone)
        spec = result.schema[0]
        value = next(iter(result.rows[0].values()))
        if spec.is_repeated and not value and _is_null(engine, match.group(1)):
            value = None  # a result shows a NULL ARRAY as [], but the parameter is NULL
        type_name = _type_text(spec)
        params[match.group(2)] = QueryParam(type_name, value)
    return params


def _is_null(engine: Any, expression: str) -> bool:
    return bool(next(iter(engine.query(PROJECT, f"SELECT ({expression}) IS NULL").rows[0].values())))


def _type_text(spec: Any) -> str:
    names = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}
    scalar = names.get(spec.type.value, spec.type.value)
    return f"ARRAY<{scalar}>" if spec.is_repeated else scalar


def _split_top_level(text: str) -> list[str]:
    items: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                current += text[index : index + 2]
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "([<":
            depth += 1
        elif char in ")]>":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current)
            current = ""
            index += 1
            continue
        current += char
        index += 1
    if current.strip():
        items.append(current)
    return items
