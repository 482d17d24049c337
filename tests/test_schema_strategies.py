"""The hypothesis strategies make values BigQuery accepts, and tables it would accept or refuse."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from harness.schema import rules
from harness.schema.loader import load_config
from harness.schema.spec import FieldMode, FieldSpec, FieldType, TableSpec, walk_fields
from harness.schema.strategies import (
    COLUMN_NAME_PATTERN,
    PYTHON_TYPES,
    RESERVED_COLUMN_PREFIXES,
    column_names,
    rows,
    table_specs,
    value_for,
)

SCALAR_TYPES = [t for t in FieldType if t not in (FieldType.RECORD, FieldType.INTERVAL, FieldType.RANGE)]
PACKAGED = load_config()
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def column(field_type: FieldType, mode: FieldMode = FieldMode.REQUIRED, *fields: FieldSpec) -> FieldSpec:
    return FieldSpec("c", field_type, mode, None, fields)


def check_scalar(field_type: FieldType, value: Any) -> None:
    """The type and range BigQuery (and the google client) expect for one non-NULL value."""
    assert isinstance(value, PYTHON_TYPES[field_type]), (field_type, value)
    CHECKS.get(field_type, lambda _: None)(value)


def _integer(value: int) -> None:
    assert not isinstance(value, bool)
    assert -(2**63) <= value < 2**63


def _float(value: float) -> None:
    assert math.isfinite(value)
    assert math.copysign(1.0, value) > 0 or value != 0.0  # no -0.0


def _numeric(value: Decimal) -> None:
    assert value.is_finite() and value.copy_abs() < Decimal("1E29")  # abs() would round to 28 digits
    assert value.as_tuple().exponent >= -9


def _bignumeric(value: Decimal) -> None:
    assert value.is_finite() and value.copy_abs() < Decimal("1E38")
    assert value.as_tuple().exponent >= -38


def _timestamp(value: datetime) -> None:
    assert value.tzinfo is UTC
    assert 1970 <= value.year <= 2100


def _date(value: date) -> None:
    assert not isinstance(value, datetime)
    assert 1970 <= value.year <= 2100


def _datetime(value: datetime) -> None:
    assert value.tzinfo is None
    assert 1970 <= value.year <= 2100


def _time(value: time) -> None:
    assert value.tzinfo is None


def _json(value: Any) -> None:
    assert value is not None  # JSON null only inside containers
    assert json.loads(json.dumps(value)) == value


def _geography(value: str) -> None:
    match = re.fullmatch(r"POINT\((-?\d+) (-?\d+)\)", value)
    assert match is not None, value
    assert abs(int(match[1])) <= 180 and abs(int(match[2])) <= 90


def _string(value: str) -> None:
    assert value.isprintable() and len(value) <= 20


CHECKS: dict[FieldType, Any] = {
    FieldType.STRING: _string,
    FieldType.INTEGER: _integer,
    FieldType.FLOAT: _float,
    FieldType.NUMERIC: _numeric,
    FieldType.BIGNUMERIC: _bignumeric,
    FieldType.TIMESTAMP: _timestamp,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.TIME: _time,
    FieldType.JSON: _json,
    FieldType.GEOGRAPHY: _geography,
}


def check_value(field: FieldSpec, value: Any) -> None:
    """``value`` is what ``field`` accepts: mode, type and nested records, recursively."""
    if field.mode is FieldMode.REPEATED:
        assert isinstance(value, list)
        for item in value:
            check_single(field, item)
    elif value is not None or field.mode is FieldMode.REQUIRED:
        check_single(field, value)


def check_single(field: FieldSpec, value: Any) -> None:
    assert value is not None, f"{field.name} must not be None"
    if field.is_record:
        check_row(field.fields, value)
    else:
        check_scalar(field.type, value)


def check_row(fields: tuple[FieldSpec, ...], row: Any) -> None:
    assert isinstance(row, dict)
    assert list(row) == [f.name for f in fields]
    for field in fields:
        check_value(field, row[field.name])


# ----------------------------------------------------------------------------------- values


@pytest.mark.parametrize("field_type", SCALAR_TYPES)
@FEW
@given(data=st.data())
def test_required_values_have_the_python_type_of_their_column(
    field_type: FieldType, data: st.DataObject
) -> None:
    value = data.draw(value_for(column(field_type)))
    check_scalar(field_type, value)


@pytest.mark.parametrize("field_type", SCALAR_TYPES)
@FEW
@given(data=st.data())
def test_repeated_values_are_lists_without_none(field_type: FieldType, data: st.DataObject) -> None:
    values = data.draw(value_for(column(field_type, FieldMode.REPEATED)))
    assert isinstance(values, list)
    for value in values:
        check_scalar(field_type, value)


@pytest.mark.parametrize("field_type", SCALAR_TYPES)
def test_nullable_values_are_sometimes_none_and_sometimes_not(field_type: FieldType) -> None:
    strategy = value_for(column(field_type, FieldMode.NULLABLE))
    assert find(strategy, lambda v: v is None) is None
    check_scalar(field_type, find(strategy, lambda v: v is not None))


def test_repeated_values_can_be_empty_or_not() -> None:
    strategy = value_for(column(FieldType.INTEGER, FieldMode.REPEATED))
    assert find(strategy, lambda v: True) == []
    assert len(find(strategy, lambda v: len(v) > 1)) == 2


@FEW
@given(data=st.data())
def test_records_are_dicts_of_their_sub_fields(data: st.DataObject) -> None:
    inner = FieldSpec("inner", FieldType.RECORD, FieldMode.REPEATED, None, (FieldSpec("d", FieldType.DATE),))
    record = column(
        FieldType.RECORD, FieldMode.REQUIRED, FieldSpec("n", FieldType.NUMERIC, FieldMode.REQUIRED), inner
    )
    value = data.draw(value_for(record))
    check_value(record, value)
    assert set(value) == {"n", "inner"}


def test_json_values_include_containers_and_scalars() -> None:
    strategy = value_for(column(FieldType.JSON))
    for kind in (dict, list, str, int, bool):
        assert isinstance(find(strategy, lambda v, kind=kind: type(v) is kind), kind)
    nested_null = find(strategy, lambda v: isinstance(v, list) and None in v)
    assert nested_null == [None]


@pytest.mark.parametrize("kind", [FieldType.INTERVAL, FieldType.RANGE])
def test_interval_and_range_are_refused_rather_than_guessed(kind: FieldType) -> None:
    with pytest.raises(ValueError, match=kind.value):
        value_for(column(kind))


@settings(max_examples=150, deadline=None, phases=[Phase.generate])
@given(table_specs(valid=False))
def test_no_defect_adds_a_column_of_a_type_without_a_value_strategy(spec: TableSpec) -> None:
    """RANGE can be clustered on, but :func:`table_specs` never generates it (rows could not fill
    it): the clustering defects once added a REPEATED or nested RANGE column."""
    kinds = {field.type for _, field in walk_fields(spec.schema)}
    assert not kinds & {FieldType.INTERVAL, FieldType.RANGE}


# ------------------------------------------------------------------------------------- rows


@pytest.mark.parametrize("spec", PACKAGED.tables, ids=PACKAGED.table_names)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_rows_for_every_meta_table_fit_its_schema(spec: TableSpec, data: st.DataObject) -> None:
    row = data.draw(rows(spec))
    assert all(row[f.name] is not None for f in spec.schema if f.mode is FieldMode.REQUIRED)
    check_row(spec.schema, row)  # nested REQUIRED fields included


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rows_for_random_tables_fit_their_schema(data: st.DataObject) -> None:
    spec = data.draw(table_specs())
    check_row(spec.schema, data.draw(rows(spec)))


# ------------------------------------------------------------------------------ table specs


def check_names(fields: tuple[FieldSpec, ...]) -> None:
    lowered = [f.name.lower() for f in fields]
    assert len(set(lowered)) == len(lowered), lowered
    for field in fields:
        assert re.fullmatch(COLUMN_NAME_PATTERN, field.name)
        assert not field.name.upper().startswith(RESERVED_COLUMN_PREFIXES)
        assert not field.is_record or field.fields
        check_names(field.fields)


@settings(max_examples=60, deadline=None)
@given(column_names())
def test_column_names_are_valid_bigquery_names(name: str) -> None:
    assert re.fullmatch(COLUMN_NAME_PATTERN, name)
    assert not name.upper().startswith(RESERVED_COLUMN_PREFIXES)


@FEW
@given(table_specs(valid=True))
def test_valid_table_specs_are_accepted_by_the_rules(spec: TableSpec) -> None:
    check_names(spec.schema)
    assert len(spec.clustering_fields) <= 4
    assert rules.validate_table(spec) == []


@FEW
@given(table_specs(valid=False))
def test_invalid_table_specs_are_refused_by_the_rules(spec: TableSpec) -> None:
    check_names(spec.schema)  # the schema itself is always fine: the defect is elsewhere
    assert rules.validate_table(spec) != []


SEARCH = settings(max_examples=2000, phases=[Phase.generate], database=None)
"""``find`` without shrinking: any example with the shape will do, and shrinking a table spec to
a minimal one is slow (minutes under the derandomized CI profile)."""


def test_table_specs_cover_the_interesting_shapes() -> None:
    """Nested records, repeated columns, partitioning and wide clustering all actually occur."""
    specs = table_specs()
    find(
        specs, lambda s: any(f.is_record and f.is_repeated for _, f in walk_fields(s.schema)), settings=SEARCH
    )
    find(
        specs,
        lambda s: any(f.is_record and f.fields[0].is_record for f in s.schema if f.is_record),
        settings=SEARCH,
    )
    find(
        specs,
        lambda s: s.time_partitioning is not None and s.time_partitioning.field is not None,
        settings=SEARCH,
    )
    find(
        specs,
        lambda s: s.time_partitioning is not None and s.time_partitioning.field is None,
        settings=SEARCH,
    )
    find(specs, lambda s: len(s.clustering_fields) == 6, settings=SEARCH)
    find(
        specs,
        lambda s: "." in (s.time_partitioning.field or "") if s.time_partitioning else False,
        settings=SEARCH,
    )
