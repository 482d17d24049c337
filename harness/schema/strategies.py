"""Hypothesis strategies derived from the same spec objects that create the tables.

``rows(spec)`` makes rows any BigQuery table with that schema accepts, so property tests of the
fakes and the domain code exercise every column type, NULL and REPEATED values and nested
RECORDs. ``table_specs(valid=...)`` makes whole tables that BigQuery would accept or refuse: the
valid/invalid split is built into the construction (an oracle independent of
:mod:`harness.schema.rules`), so a property test can check that the rules agree with it.

INTERVAL and RANGE have no value strategy: no meta table uses them and their Python forms are
client-specific (``dateutil.relativedelta``, a ``{start, end}`` dict in google-cloud-bigquery), so
:func:`value_for` refuses them rather than guess, and :func:`table_specs` never generates them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from harness.schema.spec import FieldMode, FieldSpec, FieldType, PartitionType, TableSpec, TimePartitioning

__all__ = [
    "COLUMN_NAME_PATTERN",
    "PYTHON_TYPES",
    "RESERVED_COLUMN_PREFIXES",
    "column_names",
    "rows",
    "table_specs",
    "value_for",
]

# ------------------------------------------------------------------------------------- values

#: Calendar values stay in 1970..2100: well inside BigQuery's ranges and its DAY-partition window
#: (1960..2159), so generated rows land in real partitions and survive epoch-based conversions.
_MIN_DATETIME = datetime(1970, 1, 1)
_MAX_DATETIME = datetime(2100, 12, 31, 23, 59, 59, 999_999)
_MAX_STRING = 20
_MAX_REPEATED = 3

#: Printable text (``str.isprintable``): letters, marks, digits, punctuation, symbols and the ASCII
#: space; no control characters, odd separators or surrogates, which transports treat specially.
_TEXT = st.text(
    st.characters(categories=("L", "M", "N", "P", "S"), include_characters=" "), max_size=_MAX_STRING
)

_NUMERIC_MAX = Decimal("99999999999999999999999999999.999999999")  # precision 38, scale 9
_BIGNUMERIC_MAX = Decimal("99999999999999999999999999999999999999." + "9" * 38)  # < 1e38, scale 38


def _decimals(bound: Decimal, places: int) -> SearchStrategy[Decimal]:
    # copy_negate, not unary minus: minus rounds to the default 28-digit context (-> -1E+29).
    return st.decimals(bound.copy_negate(), bound, places=places, allow_nan=False, allow_infinity=False)


def _json_values() -> SearchStrategy[Any]:
    """A JSON value: object, array, string, integer or boolean, with nulls only inside containers
    (a top-level JSON ``null`` would be indistinguishable from SQL NULL).

    A Python ``str`` is a JSON *string* value, as google-cloud-bigquery treats it (it
    ``json.dumps`` every JSON cell), not JSON text to be parsed.
    """
    scalars = st.booleans() | st.integers(-(2**53), 2**53) | _TEXT
    nested = st.recursive(st.none() | scalars, _json_containers, max_leaves=6)
    return scalars | _json_containers(nested)


def _json_containers(children: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.lists(children, max_size=_MAX_REPEATED) | st.dictionaries(
        _TEXT, children, max_size=_MAX_REPEATED
    )


def _points() -> SearchStrategy[str]:
    """WKT points; integer degrees keep the text exactly as BigQuery would echo it back."""
    return st.builds("POINT({} {})".format, st.integers(-180, 180), st.integers(-90, 90))


_SCALARS: dict[FieldType, SearchStrategy[Any]] = {
    FieldType.STRING: _TEXT,
    FieldType.BYTES: st.binary(max_size=_MAX_STRING),
    FieldType.INTEGER: st.integers(-(2**63), 2**63 - 1),
    # +0.0 folds -0.0 into 0.0: they compare equal but round-trip through text differently.
    FieldType.FLOAT: st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x + 0.0),
    FieldType.NUMERIC: _decimals(_NUMERIC_MAX, 9),
    FieldType.BIGNUMERIC: _decimals(_BIGNUMERIC_MAX, 38),
    FieldType.BOOLEAN: st.booleans(),
    FieldType.TIMESTAMP: st.datetimes(_MIN_DATETIME, _MAX_DATETIME, timezones=st.just(UTC)),
    FieldType.DATE: st.dates(_MIN_DATETIME.date(), _MAX_DATETIME.date()),
    FieldType.DATETIME: st.datetimes(_MIN_DATETIME, _MAX_DATETIME),
    FieldType.TIME: st.times(),
    FieldType.JSON: _json_values(),
    FieldType.GEOGRAPHY: _points(),
}

#: The Python type each column type's values have; tests use it to check the strategies.
PYTHON_TYPES: dict[FieldType, type | tuple[type, ...]] = {
    FieldType.STRING: str,
    FieldType.BYTES: bytes,
    FieldType.INTEGER: int,
    FieldType.FLOAT: float,
    FieldType.NUMERIC: Decimal,
    FieldType.BIGNUMERIC: Decimal,
    FieldType.BOOLEAN: bool,
    FieldType.TIMESTAMP: datetime,
    FieldType.DATE: date,
    FieldType.DATETIME: datetime,
    FieldType.TIME: time,
    FieldType.JSON: (dict, list, str, int, bool),
    FieldType.GEOGRAPHY: str,
    FieldType.RECORD: dict,
}


def value_for(field: FieldSpec) -> SearchStrategy[Any]:
    """Values one column accepts: REQUIRED never None, NULLABLE sometimes None, REPEATED a list
    (possibly empty) of non-None values, RECORD a dict of its sub-fields."""
    single = _single_value(field)
    if field.mode is FieldMode.REPEATED:
        return st.lists(single, max_size=_MAX_REPEATED)
    if field.mode is FieldMode.REQUIRED:
        return single
    return st.none() | single


def _single_value(field: FieldSpec) -> SearchStrategy[Any]:
    if field.type is FieldType.RECORD:
        return _record(field.fields)
    if field.type not in _SCALARS:
        raise ValueError(f"no value strategy for {field.type.value} column {field.name!r}")
    return _SCALARS[field.type]


def _record(fields: tuple[FieldSpec, ...]) -> SearchStrategy[dict[str, Any]]:
    """Keys in schema order (``fixed_dictionaries`` does not keep it), as BigQuery returns them."""
    names = tuple(f.name for f in fields)
    return st.tuples(*(value_for(f) for f in fields)).map(
        lambda values: dict(zip(names, values, strict=True))
    )


def rows(spec: TableSpec) -> SearchStrategy[dict[str, Any]]:
    """Rows for ``spec``: every column present as a key, NULLs as ``None``."""
    return _record(spec.schema)


# ------------------------------------------------------------------------------- column names

#: Classic BigQuery column names (the project does not use "flexible" column names).
COLUMN_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,29}"

#: Prefixes BigQuery reserves for pseudo-columns, compared case-insensitively.
RESERVED_COLUMN_PREFIXES: tuple[str, ...] = (
    "_TABLE_",
    "_FILE_",
    "_PARTITION",
    "_ROW_TIMESTAMP",
    "__ROOT__",
    "_COLIDENTIFIER",
)


_NAME_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_COLUMN_NAMES = st.builds(
    str.__add__, st.sampled_from(_NAME_START), st.text(_NAME_START + "0123456789", max_size=29)
).filter(lambda name: not name.upper().startswith(RESERVED_COLUMN_PREFIXES))


def column_names() -> SearchStrategy[str]:
    """Valid column names (``COLUMN_NAME_PATTERN``), not starting with a reserved prefix."""
    return _COLUMN_NAMES


# -------------------------------------------------------------------------------- table specs

_MAX_COLUMNS = 6
_MAX_DEPTH = 3
_MAX_CLUSTERING = 4
_UNGENERATED = (FieldType.RECORD, FieldType.INTERVAL, FieldType.RANGE)
_COLUMN_TYPES = tuple(t for t in FieldType if t not in _UNGENERATED)
_PARTITIONABLE = (FieldType.DATE, FieldType.TIMESTAMP, FieldType.DATETIME)
_CLUSTERABLE = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.NUMERIC,
    FieldType.BIGNUMERIC,
    FieldType.BOOLEAN,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.TIMESTAMP,
    FieldType.GEOGRAPHY,
    FieldType.RANGE,
)
_CLUSTERABLE_GENERATED = tuple(t for t in _CLUSTERABLE if t not in _UNGENERATED)
"""The clusterable types a defect may add a column of (RANGE is clusterable, but never generated)."""
_UNCLUSTERABLE = tuple(t for t in (*_COLUMN_TYPES, FieldType.RECORD) if t not in _CLUSTERABLE)
_NOT_PARTITIONABLE = tuple(t for t in (*_COLUMN_TYPES, FieldType.RECORD) if t not in _PARTITIONABLE)
_ALL_PARTITION_TYPES = tuple(PartitionType)
_SINGLE_MODES = (FieldMode.NULLABLE, FieldMode.REQUIRED)
_DESCRIPTIONS = st.none() | _TEXT


@st.composite
def _columns(draw: st.DrawFn, depth: int = 1) -> tuple[FieldSpec, ...]:
    """A valid schema level: 1..n uniquely named (case-insensitively) columns, records nested."""
    names = draw(st.lists(_COLUMN_NAMES, min_size=1, max_size=_MAX_COLUMNS, unique_by=str.lower))
    return tuple(draw(_column(name, depth)) for name in names)


@st.composite
def _column(draw: st.DrawFn, name: str, depth: int) -> FieldSpec:
    mode = draw(st.sampled_from(tuple(FieldMode)))
    description = draw(_DESCRIPTIONS)
    # Records are the exception, as in real schemas, and stop well before BigQuery's depth limit.
    if depth < _MAX_DEPTH and draw(st.integers(0, 3)) == 0:
        return FieldSpec(name, FieldType.RECORD, mode, description, draw(_columns(depth + 1)))
    return FieldSpec(name, draw(st.sampled_from(_COLUMN_TYPES)), mode, description)


def _partition_types(column: FieldSpec | None) -> SearchStrategy[PartitionType]:
    """DATE columns cannot be partitioned by HOUR; TIMESTAMP, DATETIME and ingestion time can."""
    if column is not None and column.type is FieldType.DATE:
        return st.sampled_from((PartitionType.DAY, PartitionType.MONTH, PartitionType.YEAR))
    return st.sampled_from(_ALL_PARTITION_TYPES)


@st.composite
def _valid_partitioning(draw: st.DrawFn, schema: tuple[FieldSpec, ...]) -> TimePartitioning | None:
    candidates = [f for f in schema if f.type in _PARTITIONABLE and not f.is_repeated]
    column = draw(st.none() | st.sampled_from(candidates)) if candidates else None
    if column is None and draw(st.booleans()):
        return None
    return TimePartitioning(
        type=draw(_partition_types(column)),
        field=column.name if column is not None else None,
        expiration_ms=draw(st.none() | st.integers(1, 10**11)),
    )


@st.composite
def _valid_clustering(draw: st.DrawFn, schema: tuple[FieldSpec, ...]) -> tuple[str, ...]:
    candidates = [f.name for f in schema if f.type in _CLUSTERABLE and not f.is_repeated]
    if not candidates:
        return ()
    return tuple(draw(st.lists(st.sampled_from(candidates), max_size=_MAX_CLUSTERING, unique=True)))


@st.composite
def _fresh_name(draw: st.DrawFn, schema: tuple[FieldSpec, ...]) -> str:
    taken = {f.name.lower() for f in schema}
    return draw(_COLUMN_NAMES.filter(lambda name: name.lower() not in taken))


@st.composite
def _added_column(
    draw: st.DrawFn, schema: tuple[FieldSpec, ...], types: tuple[FieldType, ...], modes: tuple[FieldMode, ...]
) -> FieldSpec:
    """A new top-level column of one of ``types``, so a defect never depends on luck."""
    field_type = draw(st.sampled_from(types))
    subfields = draw(_columns(2)) if field_type is FieldType.RECORD else ()
    return FieldSpec(draw(_fresh_name(schema)), field_type, draw(st.sampled_from(modes)), None, subfields)


@st.composite
def _nested_path(
    draw: st.DrawFn, schema: tuple[FieldSpec, ...], leaf_types: tuple[FieldType, ...]
) -> tuple[tuple[FieldSpec, ...], str]:
    """A new RECORD column holding a ``leaf_types`` sub-field, and the dotted path to that field."""
    leaf = FieldSpec(
        draw(_COLUMN_NAMES), draw(st.sampled_from(leaf_types)), draw(st.sampled_from(_SINGLE_MODES))
    )
    record = FieldSpec(draw(_fresh_name(schema)), FieldType.RECORD, FieldMode.NULLABLE, None, (leaf,))
    return (*schema, record), f"{record.name}.{leaf.name}"


#: A defect takes a valid (schema, partitioning, clustering) and breaks exactly one BigQuery rule.
_Draft = tuple[tuple[FieldSpec, ...], TimePartitioning | None, tuple[str, ...]]
_Defect = Callable[[st.DrawFn, _Draft], _Draft]


def _partition_on(
    draw: st.DrawFn,
    schema: tuple[FieldSpec, ...],
    field: str,
    types: tuple[PartitionType, ...],
    draft: _Draft,
) -> _Draft:
    """Keep the draft's (valid) clustering; partition on ``field``, which breaks a rule."""
    return schema, TimePartitioning(draw(st.sampled_from(types)), field), draft[2]


def _partition_missing(draw: st.DrawFn, draft: _Draft) -> _Draft:
    return _partition_on(draw, draft[0], draw(_fresh_name(draft[0])), _ALL_PARTITION_TYPES, draft)


def _partition_nested(draw: st.DrawFn, draft: _Draft) -> _Draft:
    schema, path = draw(_nested_path(draft[0], _PARTITIONABLE))
    return _partition_on(draw, schema, path, _ALL_PARTITION_TYPES, draft)


def _partition_repeated(draw: st.DrawFn, draft: _Draft) -> _Draft:
    column = draw(_added_column(draft[0], _PARTITIONABLE, (FieldMode.REPEATED,)))
    return _partition_on(draw, (*draft[0], column), column.name, _ALL_PARTITION_TYPES, draft)


def _partition_wrong_type(draw: st.DrawFn, draft: _Draft) -> _Draft:
    column = draw(_added_column(draft[0], _NOT_PARTITIONABLE, _SINGLE_MODES))
    return _partition_on(draw, (*draft[0], column), column.name, _ALL_PARTITION_TYPES, draft)


def _partition_date_by_hour(draw: st.DrawFn, draft: _Draft) -> _Draft:
    column = draw(_added_column(draft[0], (FieldType.DATE,), _SINGLE_MODES))
    return _partition_on(draw, (*draft[0], column), column.name, (PartitionType.HOUR,), draft)


def _cluster_with(draft: _Draft, schema: tuple[FieldSpec, ...], bad: str, position: int) -> _Draft:
    """Insert ``bad`` into a clustering list trimmed so that the count stays within 4."""
    clustering = list(draft[2][: _MAX_CLUSTERING - 1])
    clustering.insert(min(position, len(clustering)), bad)
    return schema, draft[1], tuple(clustering)


def _cluster_missing(draw: st.DrawFn, draft: _Draft) -> _Draft:
    return _cluster_with(draft, draft[0], draw(_fresh_name(draft[0])), draw(st.integers(0, 3)))


def _cluster_nested(draw: st.DrawFn, draft: _Draft) -> _Draft:
    schema, path = draw(_nested_path(draft[0], _CLUSTERABLE_GENERATED))
    return _cluster_with(draft, schema, path, draw(st.integers(0, 3)))


def _cluster_repeated(draw: st.DrawFn, draft: _Draft) -> _Draft:
    column = draw(_added_column(draft[0], _CLUSTERABLE_GENERATED, (FieldMode.REPEATED,)))
    return _cluster_with(draft, (*draft[0], column), column.name, draw(st.integers(0, 3)))


def _cluster_wrong_type(draw: st.DrawFn, draft: _Draft) -> _Draft:
    """FLOAT, JSON, BYTES, TIME and RECORD columns cannot be clustered (nor INTERVAL, not generated)."""
    column = draw(_added_column(draft[0], _UNCLUSTERABLE, _SINGLE_MODES))
    return _cluster_with(draft, (*draft[0], column), column.name, draw(st.integers(0, 3)))


def _cluster_too_many(draw: st.DrawFn, draft: _Draft) -> _Draft:
    """5 or 6 otherwise valid clustering columns, adding STRING columns to have enough."""
    schema, partitioning, clustering = draft
    wanted = draw(st.integers(_MAX_CLUSTERING + 1, _MAX_CLUSTERING + 2))
    while len(clustering) < wanted:
        column = draw(_added_column(schema, (FieldType.STRING,), _SINGLE_MODES))
        schema, clustering = (*schema, column), (*clustering, column.name)
    return schema, partitioning, clustering


_DEFECTS: dict[str, _Defect] = {
    "partition field missing": _partition_missing,
    "partition field nested": _partition_nested,
    "partition field repeated": _partition_repeated,
    "partition field of a non-time type": _partition_wrong_type,
    "DATE partition field with HOUR partitioning": _partition_date_by_hour,
    "clustering field missing": _cluster_missing,
    "clustering field nested": _cluster_nested,
    "clustering field repeated": _cluster_repeated,
    "clustering field of an unclusterable type": _cluster_wrong_type,
    "more than 4 clustering fields": _cluster_too_many,
}


@st.composite
def table_specs(draw: st.DrawFn, valid: bool | None = None) -> TableSpec:
    """Whole tables with random schemas, partitioning and clustering.

    ``valid=True``: BigQuery would create the table. ``valid=False``: it would refuse it because of
    exactly one defect from ``_DEFECTS`` (shown with ``note`` on failure). ``None``: either.
    """
    schema = draw(_columns())
    draft: _Draft = (schema, draw(_valid_partitioning(schema)), draw(_valid_clustering(schema)))
    if not (draw(st.booleans()) if valid is None else valid):
        defect = draw(st.sampled_from(sorted(_DEFECTS)))
        note(f"table_specs defect: {defect}")
        draft = _DEFECTS[defect](draw, draft)
    schema, partitioning, clustering = draft
    return TableSpec(
        table_id=draw(_COLUMN_NAMES),
        schema=schema,
        description=draw(_DESCRIPTIONS),
        time_partitioning=partitioning,
        clustering_fields=clustering,
        require_partition_filter=partitioning is not None and draw(st.booleans()),
    )
