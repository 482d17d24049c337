"""``CAST(bytes AS STRING FORMAT 'base64')`` and ``CAST(string AS BYTES FORMAT 'hex')``.

BigQuery's byte formats for casts between BYTES and STRING: ``base2``, ``base16`` / ``hex``,
``base64``, ``ascii`` and ``utf-8`` / ``utf8`` (names in any case), as DuckDB functions; ``SAFE_CAST``
gives NULL for input the format cannot read. ``base8``, ``base32`` and ``base64m`` are not done
(the fake says so), nor are the date and time format models of ``CAST ... FORMAT``.
"""

from __future__ import annotations

from sqlglot import exp

from fakes.bigquery.bottom_up import handles
from fakes.bigquery.exceptions import InvalidCastFormat, UnsupportedByFake

MACROS = (
    "CREATE OR REPLACE MACRO bq_bytes_base2(b) AS array_to_string(list_transform(string_split(hex(b), ''), "
    "lambda h: lpad(bin(('0x' || h)::INTEGER), 4, '0')), '')",
    "CREATE OR REPLACE MACRO bq_ascii_text(s) AS CASE WHEN regexp_matches(s, '[^\\x00-\\x7F]') "
    "THEN error('Failed to decode invalid ASCII string') ELSE s END",
)

_TO_STRING = {
    "base2": "bq_bytes_base2(_v_)",
    "base16": "lower(hex(_v_))",
    "hex": "lower(hex(_v_))",
    "base64": "to_base64(_v_)",
    "ascii": "bq_ascii_text(decode(_v_))",
    "utf8": "decode(_v_)",
    "utf-8": "decode(_v_)",
}
_TO_BYTES = {
    "base2": "unbin(_v_)",
    "base16": "unhex(_v_)",
    "hex": "unhex(_v_)",
    "base64": "from_base64(_v_)",
    "ascii": "encode(bq_ascii_text(_v_))",
    "utf8": "encode(_v_)",
    "utf-8": "encode(_v_)",
}
_NOT_DONE = {"base8", "base32", "base64m"}


@handles(exp.Cast)
def byte_format_casts(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Cast) or node.args.get("format") is None:
        return node
    fmt = node.args["format"]
    to_bytes = node.to.is_type(exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY, exp.DataType.Type.BLOB)
    to_string = node.to.is_type(exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)
    source = node.this
    from_bytes = isinstance(source, exp.ByteString) or (
        isinstance(source, exp.Cast) and source.to.is_type(exp.DataType.Type.BINARY, exp.DataType.Type.BLOB)
    )
    if not (isinstance(fmt, exp.Literal) and fmt.is_string) or not (to_bytes or (to_string and from_bytes)):
        return node
    name = fmt.name.strip().lower()
    if name in _NOT_DONE:
        raise UnsupportedByFake(f"The BigQuery fake does not do the {name} byte format")
    template = (_TO_BYTES if to_bytes else _TO_STRING).get(name)
    if template is None:
        raise InvalidCastFormat(format=fmt.name)
    value = source if not isinstance(source, exp.ByteString) else exp.cast(source, exp.DataType.build("BLOB"))
    expression = exp.maybe_parse(template, dialect="duckdb").transform(
        lambda n: value.copy() if isinstance(n, exp.Column) and n.name == "_v_" else n
    )
    return (
        exp.Anonymous(this="TRY", expressions=[expression]) if isinstance(node, exp.TryCast) else expression
    )
