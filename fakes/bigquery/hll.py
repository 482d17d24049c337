"""HLL++ sketches in BigQuery's serialized form, for ``HLL_COUNT.MERGE_PARTIAL`` / ``MERGE`` over a window.

A BigQuery sketch is a zetasketch ``AggregatorStateProto`` (``type`` 112 = HYPERLOGLOG_PLUS_UNIQUE,
``num_values``, ``encoding_version`` 2, ``value_type``) whose extension 112 holds the HLL++ state:
``sparse_size`` (2), ``precision`` (3), ``sparse_precision`` (4), the dense registers ``data`` (5)
and the sorted, difference-encoded varint ``sparse_data`` (6). The layout follows google/zetasketch
(proto/aggregator.proto) and the sketches of the GoogleSQL compliance corpus
(analytic_hll_count.test), whose merged outputs fix the details: the merge writes the fields in
number order, sets ``value_type`` 8 (UINT64) when the inputs carry none, and drops field 7.

Merging is exact for what the fake supports: sparse sketches of one precision (the union of their
sparse entries, keeping the largest rho of an index) and dense sketches of one precision (the
register-wise maximum; a sparse input is folded into a dense one). Not done: lowering the
precision of mixed-precision inputs, and converting a grown sparse sketch to dense. The count of
a sparse sketch is linear counting over the sparse buckets (what HLL++ does at small cardinality);
of a dense one the raw HLL estimate with linear counting below 2.5 m, without HLL++'s empirical
bias correction. ``HLL_COUNT.INIT`` would need Fingerprint2011 hashing and is not offered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from fakes.bigquery import protowire

HLL_TYPE = 112
DEFAULT_VALUE_TYPE = 8
INVALID = "Invalid or incompatible sketch in HLL_COUNT.MERGE_PARTIAL"


class SketchError(ValueError):
    """A sketch the merge cannot read (BigQuery's "Invalid or incompatible sketch")."""


@dataclass
class Sketch:
    num_values: int
    precision: int
    sparse_precision: int
    value_type: int | None = None
    sparse: dict[int, int] = field(default_factory=dict)
    """Sparse entries by sparse index (their encoded value; larger means larger rho)."""
    dense: bytearray | None = None


def _varint(data: bytes, at: int) -> tuple[int, int]:
    try:
        return protowire.read_varint(data, at)
    except protowire.WireError as exc:
        raise SketchError(INVALID) from exc


def _fields(data: bytes) -> dict[int, int | bytes]:
    try:
        return dict(protowire.fields(data))
    except protowire.WireError as exc:
        raise SketchError(INVALID) from exc


def _flag(sketch: Sketch) -> int:
    return 1 << max(sketch.sparse_precision, sketch.precision + 6)


def _sparse_index(sketch: Sketch, value: int) -> int:
    flag = _flag(sketch)
    if value & flag:
        return ((value ^ flag) >> 6) << (sketch.sparse_precision - sketch.precision)
    return value


def parse(data: bytes) -> Sketch:
    outer = _fields(data)
    state = outer.get(HLL_TYPE)
    if outer.get(1) != HLL_TYPE or not isinstance(state, bytes):
        raise SketchError(INVALID)
    inner = _fields(state)
    precision, sparse_precision = inner.get(3), inner.get(4)
    if not isinstance(precision, int) or not isinstance(sparse_precision, int):
        raise SketchError(INVALID)
    value_type = outer.get(4)
    sketch = Sketch(
        num_values=int(outer.get(2, 0)),
        precision=precision,
        sparse_precision=sparse_precision,
        value_type=value_type if isinstance(value_type, int) else None,
    )
    dense = inner.get(5)
    if isinstance(dense, bytes):
        sketch.dense = bytearray(dense)
    sparse = inner.get(6)
    if isinstance(sparse, bytes):
        value = at = 0
        while at < len(sparse):
            delta, at = _varint(sparse, at)
            value += delta
            _add_sparse(sketch, value)
    return sketch


def _add_sparse(sketch: Sketch, value: int) -> None:
    index = _sparse_index(sketch, value)
    sketch.sparse[index] = max(value, sketch.sparse.get(index, value))


def _registers(sketch: Sketch) -> bytearray:
    """The registers of ``sketch``: its dense data with its sparse entries folded in."""
    registers = bytearray(sketch.dense) if sketch.dense is not None else bytearray(1 << sketch.precision)
    if len(registers) != 1 << sketch.precision:
        raise SketchError(INVALID)
    extra = sketch.sparse_precision - sketch.precision
    flag = _flag(sketch)
    for value in sketch.sparse.values():
        if value & flag:
            index, rho = (value ^ flag) >> 6, ((value ^ flag) & 0x3F) + extra
        else:
            low = value & ((1 << extra) - 1)
            index, rho = value >> extra, extra - low.bit_length() + 1
        registers[index] = max(registers[index], rho)
    return registers


def merge(sketches: list[Sketch]) -> Sketch:
    first = sketches[0]
    merged = Sketch(0, first.precision, first.sparse_precision, first.value_type)
    for sketch in sketches:
        if (sketch.precision, sketch.sparse_precision) != (merged.precision, merged.sparse_precision):
            raise SketchError(INVALID)
        if None not in (sketch.value_type, merged.value_type) and sketch.value_type != merged.value_type:
            raise SketchError(INVALID)
        merged.value_type = merged.value_type if merged.value_type is not None else sketch.value_type
        merged.num_values += sketch.num_values
        if sketch.dense is not None or merged.dense is not None:
            merged.dense = bytearray(
                max(pair) for pair in zip(_registers(merged), _registers(sketch), strict=True)
            )
            merged.sparse = {}
        else:
            for value in sketch.sparse.values():
                _add_sparse(merged, value)
    return merged


def serialize(sketch: Sketch) -> bytes:
    state = protowire.field(2, len(sketch.sparse)) if sketch.dense is None else b""
    state += protowire.field(3, sketch.precision) + protowire.field(4, sketch.sparse_precision)
    if sketch.dense is not None:
        state += protowire.field(5, bytes(sketch.dense))
    else:
        previous, encoded = 0, bytearray()
        for value in sorted(sketch.sparse.values()):
            encoded += protowire.encode_varint(value - previous)
            previous = value
        state += protowire.field(6, bytes(encoded))
    value_type = sketch.value_type if sketch.value_type is not None else DEFAULT_VALUE_TYPE
    return (
        protowire.field(1, HLL_TYPE)
        + protowire.field(2, sketch.num_values)
        + protowire.field(3, 2)
        + protowire.field(4, value_type)
        + protowire.field(HLL_TYPE, state)
    )


def estimate(sketch: Sketch) -> int:
    if sketch.dense is None:
        buckets = 1 << sketch.sparse_precision
        empty = buckets - len(sketch.sparse)
        return round(buckets * math.log(buckets / empty)) if empty else len(sketch.sparse)
    buckets = 1 << sketch.precision
    raw = (0.7213 / (1 + 1.079 / buckets)) * buckets * buckets / sum(2.0**-r for r in sketch.dense)
    zeros = sketch.dense.count(0)
    if raw <= 2.5 * buckets and zeros:
        return round(buckets * math.log(buckets / zeros))
    return round(raw)


def _present(sketches: list[bytes | None] | None) -> list[Sketch]:
    return [parse(bytes(s)) for s in sketches or [] if s is not None]


def merge_partial(sketches: list[bytes | None] | None) -> bytes | None:
    """HLL_COUNT.MERGE_PARTIAL of a list of sketches: NULL when all are NULL."""
    present = _present(sketches)
    return serialize(merge(present)) if present else None


def merge_count(sketches: list[bytes | None] | None) -> int:
    """HLL_COUNT.MERGE of a list of sketches: 0 when all are NULL."""
    present = _present(sketches)
    return estimate(merge(present)) if present else 0


FUNCTIONS = ("bq_hll_merge_partial", "bq_hll_merge")
"""The Python functions :func:`register` creates (:mod:`fakes.bigquery.lazy_functions`)."""


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """``bq_hll_merge_partial(BLOB[])`` and ``bq_hll_merge(BLOB[])`` on the engine's connection."""
    blobs = conn.list_type("BLOB")
    conn.create_function(
        "bq_hll_merge_partial",
        merge_partial,
        [blobs],
        "BLOB",
        null_handling="special",  # type: ignore[arg-type]
    )
    conn.create_function(
        "bq_hll_merge",
        merge_count,
        [blobs],
        "BIGINT",
        null_handling="special",  # type: ignore[arg-type]
    )
