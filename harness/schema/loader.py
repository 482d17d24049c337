"""Load ``bootstrap.yml`` and its table JSON schemas into :mod:`harness.schema.spec` objects.

A config mistake should be fixable from the error alone, so every problem is reported as one
:class:`SchemaConfigError` naming the file, the dotted location inside it and the line. Only the
*structure* is checked here (keys, types, enums, duplicates): BigQuery's own rules live in
:mod:`harness.schema.rules`, which the fakes and the preflight check share.

Nothing here knows which tables exist: their number, names and order come from the YAML file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

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
from harness.yamlsource import Document, Loc, SourceError, describe_error, dotted, parse_json, parse_yaml

__all__ = [
    "SchemaConfigError",
    "default_config_path",
    "load_config",
    "load_table_schema",
]

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


class SchemaConfigError(SourceError):
    """A structural problem in the bootstrap config or a table schema, with where it is."""

    def __init__(self, path: str | Path, field: str, line: int | None, message: str) -> None:
        super().__init__(path, line, field, message)


def _make_error(path: str, line: int | None, field: str, message: str) -> SchemaConfigError:
    return SchemaConfigError(path, field, line, message)


def _parse_yaml(path: Path) -> Document:
    return parse_yaml(path, _make_error)


def _parse_json(path: Path) -> Document:
    return parse_json(path, _make_error)


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


#: BigQuery's enum names as a config file writes them (case-insensitive, legacy and standard-SQL type
#: names), with an error listing the accepted values; seed files read partitioning and columns
#: (:class:`ColumnModel`) through the same ones.
PartitionTypeName = Annotated[PartitionType, _one_of(PartitionType, lambda v: PartitionType(v.upper()))]
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
    type: PartitionTypeName
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


class ColumnModel(_Model):
    """One column in BigQuery's JSON schema format (``bq show --schema``); seed files use it too."""

    name: str = Field(min_length=1)
    type: _FieldTypeName
    mode: _FieldModeName = FieldMode.NULLABLE
    description: str | None = None
    fields: list[ColumnModel] = Field(default_factory=list)

    def spec(self) -> FieldSpec:
        return FieldSpec(
            name=self.name,
            type=self.type,
            mode=self.mode,
            description=self.description,
            fields=tuple(f.spec() for f in self.fields),
        )


_BOOTSTRAP = TypeAdapter(_BootstrapModel)
_SCHEMA = TypeAdapter(list[ColumnModel])


# --------------------------------------------------------------------------------- validation


def _validate(adapter: TypeAdapter[_T], root: type[BaseModel], doc: Document) -> _T:
    """Validate and turn the first problem in file order into a :class:`SchemaConfigError`."""
    try:
        return adapter.validate_python(doc.data, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    first = min(errors, key=lambda e: doc.line_of(tuple(e["loc"])) or 0)
    raise doc.error(tuple(first["loc"]), describe_error(first, root)) from None


def _check_unique_columns(doc: Document, fields: Sequence[ColumnModel], loc: Loc = ()) -> None:
    """BigQuery column names are case-insensitive, so ``Id`` and ``id`` collide at one level."""
    seen: dict[str, int] = {}
    for i, column in enumerate(fields):
        lowered = column.name.lower()
        if lowered in seen:
            first = dotted((*loc, seen[lowered], "name"))
            raise doc.error((*loc, i, "name"), f"duplicate column name {column.name!r} (also {first})")
        seen[lowered] = i
        _check_unique_columns(doc, column.fields, (*loc, i, "fields"))


def _check_unique_tables(doc: Document, tables: Sequence[_TableModel]) -> None:
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        if table.name in seen:
            first = dotted(("tables", seen[table.name], "name"))
            raise doc.error(("tables", i, "name"), f"duplicate table name {table.name!r} (also {first})")
        seen[table.name] = i


# ------------------------------------------------------------------------------- conversion


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
    fields = _validate(_SCHEMA, ColumnModel, doc)
    _check_unique_columns(doc, fields)
    return tuple(f.spec() for f in fields)


def load_config(path: str | Path | None = None) -> BootstrapConfig:
    """The meta dataset and its tables in file order; schema paths are relative to the YAML file.
    Without ``path``, the packaged config, parsed once per process (it is immutable, and parsing
    its 16 files is the slowest part of building a platform)."""
    if path is None:
        return _packaged_config()
    return _load_config(Path(path))


@cache
def _packaged_config() -> BootstrapConfig:
    return _load_config(default_config_path())


def _load_config(config_path: Path) -> BootstrapConfig:
    doc = _parse_yaml(config_path)
    model = _validate(_BOOTSTRAP, _BootstrapModel, doc)
    _check_unique_tables(doc, model.tables)
    tables = tuple(
        _table_spec(table, _load_referenced_schema(doc, config_path.parent, i, table))
        for i, table in enumerate(model.tables)
    )
    return BootstrapConfig(dataset=_dataset_spec(model.dataset), tables=tables, source=str(config_path))


def _load_referenced_schema(
    doc: Document, base: Path, index: int, table: _TableModel
) -> tuple[FieldSpec, ...]:
    """A schema file that is not there is the YAML's mistake, so it is reported at the YAML line."""
    schema_path = base / table.schema_file
    if not schema_path.is_file():
        raise doc.error(("tables", index, "schema"), f"schema file not found: {schema_path}")
    return load_table_schema(schema_path)
