"""``formatOptions`` (DataFormatOptions) of jobs.query, jobs.getQueryResults and tabledata.list:
how TIMESTAMP cells travel. google-cloud-bigquery sends ``useInt64Timestamp`` (lossless integer
microseconds) on every read, or ``timestampOutputFormat`` ``ISO8601_STRING`` when asked for
picosecond precision; the two together are refused, as the client itself documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes.bigquery.exceptions import ConflictingTimestampFormats, InvalidArgument, UnsupportedByFake

_FORMATS = {"TIMESTAMP_OUTPUT_FORMAT_UNSPECIFIED": None, "FLOAT64": False, "INT64": True}
_ISO = "ISO8601_STRING"


def int64_timestamps_in_query(params: Mapping[str, str]) -> bool:
    """From the query string (``formatOptions.useInt64Timestamp=true``)."""
    use_int64 = params.get("formatOptions.useInt64Timestamp")
    return _int64(
        use_int64 is not None and use_int64.lower() in ("1", "true", "yes"),
        params.get("formatOptions.timestampOutputFormat"),
    )


def int64_timestamps_in_body(options: Any) -> bool:
    """From a QueryRequest's ``formatOptions`` object."""
    options = options if isinstance(options, Mapping) else {}
    return _int64(bool(options.get("useInt64Timestamp")), options.get("timestampOutputFormat"))


def _int64(use_int64: bool, output_format: Any) -> bool:
    """Whether TIMESTAMP cells are integer microseconds (else float seconds, the API's default)."""
    if output_format in (None, ""):
        return use_int64
    name = str(output_format).upper()
    if use_int64:
        raise ConflictingTimestampFormats()
    if name == _ISO:
        raise UnsupportedByFake(
            "formatOptions.timestampOutputFormat ISO8601_STRING is not supported by the emulator "
            "(it has no picosecond TIMESTAMP columns); use INT64 or FLOAT64",
            reason="invalid",
        )
    if name not in _FORMATS:
        raise InvalidArgument(name="formatOptions.timestampOutputFormat", value=output_format)
    return bool(_FORMATS[name])
