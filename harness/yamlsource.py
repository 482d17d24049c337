"""YAML (and JSON) documents that remember where every value came from.

Both hand-written formats of the project, the bootstrap config (:mod:`harness.schema.loader`) and
the scenario files (:mod:`harness.scenario.loader`), report mistakes as ``path:line: field:
message``. This module holds what they share: parsing into plain data plus the line of every
location, and turning pydantic's validation errors into words for someone editing the file.

A *location* is the path pydantic reports, ``("tables", 3, "partitioning")``; it is shown dotted,
``tables[3].partitioning``, with 0-based list indexes.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Document",
    "ErrorFactory",
    "Loc",
    "SourceError",
    "describe_error",
    "dotted",
    "keys_at",
    "kind_of",
    "parse_json",
    "parse_yaml",
    "parse_yaml_text",
    "resolve_loc",
    "unknown_key",
]

#: A location inside a parsed document, as pydantic reports it: ``("tables", 3, "partitioning")``.
Loc = tuple[Any, ...]


class SourceError(Exception):
    """A problem in a source file: ``path:line: field: message`` (line and field when known)."""

    def __init__(self, path: str | Path, line: int | None, field: str, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"


#: Builds the caller's error type from ``(path, line, field, message)``.
ErrorFactory = Callable[[str, int | None, str, str], Exception]


@dataclass(frozen=True)
class Document:
    """Parsed data plus the 1-based line of every location, so errors can point at the source.

    A mapping entry's line is its key's line; a list item's is where the item starts.
    """

    path: str
    data: Any
    lines: Mapping[Loc, int]
    make_error: ErrorFactory = SourceError

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or, for a key that is missing, of the nearest enclosing one."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def error(self, loc: Loc, message: str) -> Exception:
        return self.make_error(self.path, self.line_of(loc), dotted(loc), message)


def dotted(loc: Loc) -> str:
    """``("tables", 3, "type")`` -> ``tables[3].type``; list indexes are 0-based."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# ------------------------------------------------------------------------------------ parsing


def read_text(path: Path, make_error: ErrorFactory = SourceError) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise make_error(str(path), None, "", f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise make_error(str(path), None, "", f"cannot read file as UTF-8: {exc.reason}") from None


def parse_yaml(path: Path, make_error: ErrorFactory = SourceError) -> Document:
    return parse_yaml_text(read_text(path, make_error), str(path), make_error)


def parse_yaml_text(text: str, path: str, make_error: ErrorFactory = SourceError) -> Document:
    """Parse one YAML document; syntax errors, duplicate keys and non-scalar keys are errors."""
    try:
        data, lines = _compose(text, path, make_error)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise make_error(path, line, "", f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise make_error(path, None, "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise make_error(path, None, "", "invalid YAML: nested too deeply (a recursive alias?)") from None
    return Document(path, data, lines, make_error)


def parse_json(path: Path, make_error: ErrorFactory = SourceError) -> Document:
    """Strict JSON for the data; JSON is YAML syntax, so the YAML composer supplies the lines.

    Tabs are whitespace in JSON but not in YAML, and cannot occur raw inside a JSON string, so
    turning them into spaces keeps every line number. If the composer still disagrees, the errors
    simply carry no line. Composing is slow next to ``json.loads`` and the lines serve only error
    messages, so they are worked out when first asked for; a duplicate key (an error here, which
    ``json.loads`` would hide by keeping the last) is reported at once, with its line.
    """
    text = read_text(path, make_error)
    duplicated = False

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        result = dict(pairs)
        duplicated = duplicated or len(result) != len(pairs)
        return result

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise make_error(str(path), exc.lineno, "", f"invalid JSON: {exc.msg}") from None
    lines = _LazyLines(lambda: _json_lines(text, str(path), make_error))
    if duplicated:
        lines.resolve()  # raises the duplicate-key error naming the line
    return Document(str(path), data, lines, make_error)


def _json_lines(text: str, path: str, make_error: ErrorFactory) -> Mapping[Loc, int]:
    try:
        _, lines = _compose(text.replace("\t", " "), path, make_error)
    except (yaml.YAMLError, RecursionError):
        return {}
    return lines


class _LazyLines(Mapping[Loc, int]):
    """A document's line table, computed by ``compute`` on first use."""

    def __init__(self, compute: Callable[[], Mapping[Loc, int]]) -> None:
        self._compute = compute
        self._lines: Mapping[Loc, int] | None = None

    def resolve(self) -> Mapping[Loc, int]:
        if self._lines is None:
            self._lines = self._compute()
        return self._lines

    def __getitem__(self, loc: Loc) -> int:
        return self.resolve()[loc]

    def __iter__(self) -> Iterator[Loc]:
        return iter(self.resolve())

    def __len__(self) -> int:
        return len(self.resolve())


def _compose(text: str, path: str, make_error: ErrorFactory) -> tuple[Any, dict[Loc, int]]:
    """Build plain data from YAML nodes, recording each location's line and refusing duplicate keys
    (PyYAML would silently keep the last one)."""
    try:
        return _compose_with(_FAST_LOADER, text, path, make_error)
    except yaml.YAMLError:  # the pure-Python parser words (and places) syntax errors as always
        return _compose_with(yaml.SafeLoader, text, path, make_error)


#: libyaml's parser when PyYAML was built with it: the same nodes and marks, several times faster.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_with(
    loader_class: Any, text: str, path: str, make_error: ErrorFactory
) -> tuple[Any, dict[Loc, int]]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        if node is None:
            return None, lines
        return _Builder(loader, path, lines, make_error).build(node, ()), lines
    finally:
        loader.dispose()


@dataclass
class _Builder:
    loader: Any  # yaml.SafeLoader or its libyaml twin, CSafeLoader
    path: str
    lines: dict[Loc, int]
    make_error: ErrorFactory

    def build(self, node: Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self.mapping(node, loc)
        return self.scalar(node, loc)

    def scalar(self, node: Node, loc: Loc) -> Any:
        """Construct one scalar; PyYAML raises a bare ValueError for an unquoted impossible date
        or time (``2026-13-45``), which must become an error naming file, line and field."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            kind = {"timestamp": "date or time"}.get(tag := node.tag.rsplit(":", 1)[-1], tag)
            message = f"{node.value!r} is not a valid {kind} ({exc}); quote it to keep it a string"
            raise self.make_error(self.path, node.start_mark.line + 1, dotted(loc), message) from None

    def mapping(self, node: MappingNode, loc: Loc) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolve `<<: *anchor` merge keys like safe_load does
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise self.make_error(self.path, line, dotted(loc), "mapping keys must be plain scalars")
            key = self.scalar(key_node, (*loc, key_node.value))
            if key in result:
                raise self.make_error(self.path, line, dotted((*loc, key)), f"duplicate key {key!r}")
            self.lines[(*loc, key)] = line
            result[key] = self.build(value_node, (*loc, key))
        return result


# ------------------------------------------------------------------------ pydantic error words

#: pydantic error types that mean "this is the wrong kind of value", and what was expected.
EXPECTED: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "datetime_type": "a date-time (YYYY-MM-DDTHH:MM:SSZ)",
    "datetime_parsing": "a date-time (YYYY-MM-DDTHH:MM:SSZ)",
    "datetime_from_date_parsing": "a date-time (YYYY-MM-DDTHH:MM:SSZ)",
}


def kind_of(value: object) -> str:
    """How a YAML/JSON author would name the value they wrote."""
    if value is None:
        return "null"
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
        (datetime, "a date-time"),
        (date, "a date"),
    )
    return next((name for cls, name in kinds if isinstance(value, cls)), type(value).__name__)


def unknown_key(key: object, allowed: Sequence[str]) -> str:
    message = f"unknown key {key!r}; expected one of {', '.join(allowed)}"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def describe_error(error: ErrorDetails, root: type[BaseModel]) -> str:
    """A pydantic error in the words of the file's author: missing keys, unknown keys (with the
    accepted ones and the closest), wrong kinds of value; other errors keep pydantic's message."""
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return unknown_key(loc[-1], keys_at(root, loc[:-1]))
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {kind_of(error['input'])}"
    message = error["msg"]
    return message.removeprefix("Value error, ")


# ------------------------------------------------------------------- locations in the models


def resolve_loc(root: Any, loc: Loc) -> tuple[Loc, Any]:
    """Follow ``loc`` through the annotations from ``root``: pydantic puts the member of a union it
    tried into the location (``auth.str``, ``auth.str-enum[KeyChoice]``), which is no place in the
    file, so those parts are dropped. Returns the location in the file and the annotation there
    (``None`` when it cannot be followed, e.g. below ``Any``)."""
    clean: list[Any] = []
    annotation = root
    for part in loc:
        annotation = _unwrap(annotation)
        if annotation is None:
            clean.append(part)
        elif _is_union(annotation):  # a member tag: not in the file
            annotation = _member_tagged(annotation, part)
        elif _is_model(annotation):
            clean.append(part)
            field = _field(annotation, part)
            annotation = field.annotation if field is not None else None
        else:
            origin, args = get_origin(annotation), get_args(annotation)
            if origin in (dict, Mapping, typing.Mapping) and len(args) == 2:
                if part == "[key]":
                    annotation = args[0]
                else:
                    clean.append(part)
                    annotation = args[1]
            elif origin in (list, tuple, set, frozenset, Sequence, typing.Sequence) and args:
                clean.append(part)
                annotation = args[0]
            else:
                clean.append(part)
                annotation = None
    return tuple(clean), _unwrap(annotation)


def keys_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model at ``loc`` (a location in the file) accepts, as written in the file."""
    _, annotation = resolve_loc(root, loc)
    model = _model_in(annotation)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def choices_of(annotation: Any) -> list[str] | None:
    """The accepted values of an enum or ``Literal`` annotation, as they are written in a file."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to what a value must be."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif _is_union(annotation):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: object) -> Any:
    return next((f for name, f in model.model_fields.items() if (f.alias or name) == key), None)


def _member_tagged(union: Any, tag: object) -> Any:
    """The union member pydantic names ``tag``: a model by class name or discriminator value."""
    for member in map(_unwrap, get_args(union)):
        if not _is_model(member):
            continue
        if member.__name__ == tag:
            return member
        for field in member.model_fields.values():
            if get_origin(field.annotation) is Literal and tag in get_args(field.annotation):
                return member
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``list[M]`` / ``M | None``; errors only arise below model fields."""
    annotation = _unwrap(annotation)
    if _is_model(annotation):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
