"""Load ``bootstrap.yml`` and its table JSON schemas into :mod:`harness.schema.spec` objects.

A config mistake should be fixable from the error alone, so every problem is reported as one
:class:`SchemaConfigError` naming the file, the dotted location inside it and the line. Only the
*structure* is checked here (keys, types, enums, duplicates): BigQuery's own rules live in
:mod:`harness.schema.rules`, which the fakes and the preflight check share.

Nothing here knows which tables exist: their number, names and order come from the YAML file.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.schema.spec import (
    BootstrapConfig,
    DatasetSpec,
    FieldMode,
    FieldSpec,
    FieldType,
    PartitionType,
    TableSpec,
    TimePartitioning,
)

__all__ = [
    "SchemaConfigError",
    "default_config_path",
    "load_config",
    "load_table_schema",
]

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")

#: A location inside a parsed document, as pydantic reports it: ``("tables", 3, "partitioning")``.
Loc = tuple[str | int, ...]


class SchemaConfigError(Exception):
    """A structural problem in the bootstrap config or a table schema, with where it is."""

    def __init__(self, path: str | Path, field: str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"


# ------------------------------------------------------------------------------------ parsing


@dataclass(frozen=True)
class _Document:
    """Parsed data plus the 1-based line of every location, so errors can point at the source."""

    path: str
    data: Any
    lines: Mapping[Loc, int]

    def line_of(self, loc: Loc) -> int | None:
        """The line of ``loc`` or, for a key that is missing, of the nearest enclosing one."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def error(self, loc: Loc, message: str) -> SchemaConfigError:
        return SchemaConfigError(self.path, _dotted(loc), self.line_of(loc), message)


def _dotted(loc: Loc) -> str:
    """``("tables", 3, "type")`` -> ``tables[3].type``; list indexes are 0-based."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaConfigError(path, "", None, f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SchemaConfigError(path, "", None, f"cannot read file as UTF-8: {exc.reason}") from None


def _parse_yaml(path: Path) -> _Document:
    text = _read_text(path)
    try:
        data, lines = _compose(text, str(path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SchemaConfigError(path, "", line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SchemaConfigError(path, "", None, f"invalid YAML: {exc}") from None
    return _Document(str(path), data, lines)


def _parse_json(path: Path) -> _Document:
    """Strict JSON for the data; JSON is YAML syntax, so the YAML composer supplies the lines.

    Tabs are whitespace in JSON but not in YAML, and cannot occur raw inside a JSON string, so
    turning them into spaces keeps every line number. If the composer still disagrees, the errors
    simply carry no line.
    """
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaConfigError(path, "", exc.lineno, f"invalid JSON: {exc.msg}") from None
    try:
        _, lines = _compose(text.replace("\t", " "), str(path))
    except yaml.YAMLError:
        lines = {}
    return _Document(str(path), data, lines)


def _compose(text: str, path: str) -> tuple[Any, dict[Loc, int]]:
    """Build plain data from YAML nodes, recording each location's line and refusing duplicate keys
    (PyYAML would silently keep the last one)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        if node is None:
            return None, lines
        return _build(loader, node, (), lines, path), lines
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: Node, loc: Loc, lines: dict[Loc, int], path: str) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*loc, i), lines, path) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        return _build_mapping(loader, node, loc, lines, path)
    return loader.construct_object(node, deep=True)


def _build_mapping(
    loader: yaml.SafeLoader, node: MappingNode, loc: Loc, lines: dict[Loc, int], path: str
) -> dict[Any, Any]:
    loader.flatten_mapping(node)  # resolve `<<: *anchor` merge keys like safe_load does
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            raise SchemaConfigError(path, _dotted(loc), line, "mapping keys must be plain scalars")
        key = loader.construct_object(key_node)
        if key in result:
            raise SchemaConfigError(path, _dotted((*loc, key)), line, f"duplicate key {key!r}")
        lines[(*loc, key)] = line
        result[key] = _build(loader, value_node, (*loc, key), lines, path)
    return result


# ------------------------------------------------------------------------------------- models


def _one_of(members: type[_E], parse: Callable[[str], _E]) -> BeforeValidator:
    """Enum check whose message lists the accepted values, instead of pydantic's generic wording."""
    choices = ", ".join(m.value for m in members)

    def check(value: object) -> _E:
        if isinstance(value, str):
            try:
                return parse(value)
            except ValueError:
                pass
        raise PydanticCustomError(
            "not_one_of", "{given} is not one of {choices}", {"given": repr(value), "choices": choices}
        )

    return BeforeValidator(check)


_PartitionTypeName = Annotated[PartitionType, _one_of(PartitionType, lambda v: PartitionType(v.upper()))]
_FieldTypeName = Annotated[FieldType, _one_of(FieldType, FieldType.parse)]
_FieldModeName = Annotated[FieldMode, _one_of(FieldMode, lambda v: FieldMode(v.upper()))]


class _Model(BaseModel):
    """Strict: unknown keys are errors and YAML scalars are never coerced (``2025`` is no string)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _DatasetModel(_Model):
    id: str = Field(min_length=1)
    location: str = "US"
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class _PartitioningModel(_Model):
    type: _PartitionTypeName
    field: str | None = None
    expiration_ms: int | None = None  # positivity is a BigQuery rule (rules.py)


class _TableModel(_Model):
    name: str = Field(min_length=1)
    description: str | None = None
    schema_file: str = Field(alias="schema", min_length=1)
    partitioning: _PartitioningModel | None = None
    clustering: list[str] = Field(default_factory=list)
    require_partition_filter: bool = False
    labels: dict[str, str] = Field(default_factory=dict)


class _BootstrapModel(_Model):
    dataset: _DatasetModel
    tables: list[_TableModel]


class _FieldModel(_Model):
    """One column in BigQuery's JSON schema format (``bq show --schema``)."""

    name: str = Field(min_length=1)
    type: _FieldTypeName
    mode: _FieldModeName = FieldMode.NULLABLE
    description: str | None = None
    fields: list[_FieldModel] = Field(default_factory=list)


_BOOTSTRAP = TypeAdapter(_BootstrapModel)
_SCHEMA = TypeAdapter(list[_FieldModel])


# --------------------------------------------------------------------------------- validation

_EXPECTED: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}


def _validate(adapter: TypeAdapter[_T], root: type[BaseModel], doc: _Document) -> _T:
    """Validate and turn the first problem in file order into a :class:`SchemaConfigError`."""
    try:
        return adapter.validate_python(doc.data, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    first = min(errors, key=lambda e: doc.line_of(tuple(e["loc"])) or 0)
    loc = tuple(first["loc"])
    raise doc.error(loc, _describe(first, root)) from None


def _describe(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(loc[-1], _keys_at(root, loc[:-1]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_kind_of(error['input'])}"
    return error["msg"]


def _unknown_key(key: object, allowed: Sequence[str]) -> str:
    message = f"unknown key {key!r}; expected one of {', '.join(allowed)}"
    close = difflib.get_close_matches(str(key), allowed, n=1)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _keys_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model at ``loc`` accepts, by following field annotations from ``root``."""
    model = root
    for part in loc:
        if isinstance(part, str):
            field = next(f for name, f in model.model_fields.items() if (f.alias or name) == part)
            model = _model_in(field.annotation)
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel]:
    """The model class inside ``list[M]`` / ``M | None``; errors only arise below model fields."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(_model_in(arg) for arg in typing.get_args(annotation) if _has_model(arg))


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_has_model(arg) for arg in typing.get_args(annotation))


def _kind_of(value: object) -> str:
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
        (date, "a date"),
    )
    return next((name for cls, name in kinds if isinstance(value, cls)), type(value).__name__)


def _check_unique_columns(doc: _Document, fields: Sequence[_FieldModel], loc: Loc = ()) -> None:
    """BigQuery column names are case-insensitive, so ``Id`` and ``id`` collide at one level."""
    seen: dict[str, int] = {}
    for i, column in enumerate(fields):
        lowered = column.name.lower()
        if lowered in seen:
            first = _dotted((*loc, seen[lowered], "name"))
            raise doc.error((*loc, i, "name"), f"duplicate column name {column.name!r} (also {first})")
        seen[lowered] = i
        _check_unique_columns(doc, column.fields, (*loc, i, "fields"))


def _check_unique_tables(doc: _Document, tables: Sequence[_TableModel]) -> None:
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        if table.name in seen:
            first = _dotted(("tables", seen[table.name], "name"))
            raise doc.error(("tables", i, "name"), f"duplicate table name {table.name!r} (also {first})")
        seen[table.name] = i


# ------------------------------------------------------------------------------- conversion


def _field_spec(model: _FieldModel) -> FieldSpec:
    return FieldSpec(
        name=model.name,
        type=model.type,
        mode=model.mode,
        description=model.description,
        fields=tuple(_field_spec(f) for f in model.fields),
    )


def _table_spec(model: _TableModel, schema: tuple[FieldSpec, ...]) -> TableSpec:
    partitioning = model.partitioning
    return TableSpec(
        table_id=model.name,
        schema=schema,
        description=model.description,
        time_partitioning=(
            TimePartitioning(partitioning.type, partitioning.field, partitioning.expiration_ms)
            if partitioning is not None
            else None
        ),
        clustering_fields=tuple(model.clustering),
        require_partition_filter=model.require_partition_filter,
        labels=dict(model.labels),
    )


def _dataset_spec(model: _DatasetModel) -> DatasetSpec:
    return DatasetSpec(
        dataset_id=model.id,
        location=model.location,
        description=model.description,
        labels=dict(model.labels),
    )


# ----------------------------------------------------------------------------------- public


def default_config_path() -> Path:
    """The ``bootstrap.yml`` packaged next to this module."""
    return Path(__file__).parent / "bootstrap.yml"


def load_table_schema(path: str | Path) -> tuple[FieldSpec, ...]:
    """One table's columns from a BigQuery JSON schema file (a list of ``TableFieldSchema``)."""
    doc = _parse_json(Path(path))
    fields = _validate(_SCHEMA, _FieldModel, doc)
    _check_unique_columns(doc, fields)
    return tuple(_field_spec(f) for f in fields)


def load_config(path: str | Path | None = None) -> BootstrapConfig:
    """The meta dataset and its tables in file order; schema paths are relative to the YAML file."""
    config_path = Path(path) if path is not None else default_config_path()
    doc = _parse_yaml(config_path)
    model = _validate(_BOOTSTRAP, _BootstrapModel, doc)
    _check_unique_tables(doc, model.tables)
    tables = tuple(
        _table_spec(table, _load_referenced_schema(doc, config_path.parent, i, table))
        for i, table in enumerate(model.tables)
    )
    return BootstrapConfig(dataset=_dataset_spec(model.dataset), tables=tables, source=str(config_path))


def _load_referenced_schema(
    doc: _Document, base: Path, index: int, table: _TableModel
) -> tuple[FieldSpec, ...]:
    """A schema file that is not there is the YAML's mistake, so it is reported at the YAML line."""
    schema_path = base / table.schema_file
    if not schema_path.is_file():
        raise doc.error(("tables", index, "schema"), f"schema file not found: {schema_path}")
    return load_table_schema(schema_path)
