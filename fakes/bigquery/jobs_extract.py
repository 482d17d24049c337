"""Extract jobs (``configuration.extract``): a table written to ``gs://`` URIs the user can read.

The emulator has no Cloud Storage: ``gs://bucket/path/file*.csv`` is the local file
``<root>/bucket/path/file000000000000.csv``, where ``<root>`` is ``bigquery/gcs/`` in the
emulators' data directory, or ``bigquery-emulator-gcs-<pid>`` in the system's temporary directory
when they keep their state in memory. ``app.state.buckets.root`` tells where, and ``harness
emulators up`` prints it. A wildcard is BigQuery's shard
number (12 digits); the emulator writes every row to shard 0 of the first URI.

DuckDB writes the files (``COPY ... TO``): CSV (header, delimiter, GZIP), newline-delimited JSON
(GZIP) and Parquet (SNAPPY, GZIP, ZSTD). Avro, model extracts and a nested table to CSV are
refused with a 400 that names what is missing. Values are DuckDB's text forms (a TIMESTAMP is
``2025-01-02 03:04:05+00``, BigQuery writes ``2025-01-02 03:04:05 UTC``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    RequiredParameterMissing,
    UnsupportedByFake,
    UnsupportedExtractDestination,
)
from fakes.bigquery.job_refs import check_job_fields, table_ref
from fakes.bigquery.models import Job, JobStore
from harness.ports import WarehouseError
from harness.schema.spec import FieldMode

_FIELDS = frozenset(
    (
        "sourceTable",
        "destinationUri",
        "destinationUris",
        "destinationFormat",
        "compression",
        "fieldDelimiter",
        "printHeader",
    )
)
#: DuckDB ``COPY`` options per destinationFormat, and the compressions each accepts.
_FORMATS = {
    "CSV": ("FORMAT CSV", ("NONE", "GZIP")),
    "NEWLINE_DELIMITED_JSON": ("FORMAT JSON", ("NONE", "GZIP")),
    "PARQUET": ("FORMAT PARQUET", ("NONE", "SNAPPY", "GZIP", "ZSTD")),
}
SHARD = "000000000000"


class Buckets:
    """Where ``gs://`` URIs live on disk: ``gcs/`` beside a file-backed engine's catalogs, or one
    directory per process in the system's temporary directory (the same after a reset, as one
    Cloud Storage outlives a BigQuery engine)."""

    def __init__(self, engine: BigQueryEngine) -> None:
        self._root = (
            engine.path / "gcs"
            if engine.path is not None
            else Path(tempfile.gettempdir()) / (f"bigquery-emulator-gcs-{os.getpid()}")
        )

    @property
    def root(self) -> Path:
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def path_of(self, uri: str) -> Path:
        """The local file of ``gs://bucket/object`` (a ``*`` becomes shard 0)."""
        if not uri.startswith("gs://") or uri.count("*") > 1:
            raise UnsupportedExtractDestination(uri=uri)
        bucket, _, name = uri[len("gs://") :].partition("/")
        parts = [bucket, *name.split("/")]
        if not bucket or not name or any(part in ("", ".", "..") for part in parts):
            raise UnsupportedExtractDestination(uri=uri)
        return self.root.joinpath(*parts[:-1], parts[-1].replace("*", SHARD))


class ExtractJobs:
    """Runs extract jobs on the engine and records them in the job store."""

    def __init__(self, engine: BigQueryEngine, jobs: JobStore, buckets: Buckets) -> None:
        self.engine = engine
        self.jobs = jobs
        self.buckets = buckets

    def run(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str | None
    ) -> Job:
        check_job_fields(configuration, "extract")
        config = configuration["extract"]
        if not isinstance(config, Mapping):
            raise UnsupportedByFake("configuration.extract must be an object", reason="invalid")
        for name in config:
            if name not in _FIELDS:
                raise UnsupportedByFake(f"The emulator does not support extract.{name}", reason="invalid")
        source = table_ref(config.get("sourceTable"), "sourceTable", project)
        uris = [str(u) for u in config.get("destinationUris") or []]
        if config.get("destinationUri"):
            uris.insert(0, str(config["destinationUri"]))
        if not uris:
            raise RequiredParameterMissing(name="destinationUris")
        path = self.buckets.path_of(uris[0])
        for uri in uris[1:]:
            self.buckets.path_of(uri)
        options = _options(config)
        job = self.jobs.accept(project, configuration, job_id, location)
        try:
            info = self.engine.get_table(source.project, source.dataset, source.table)
            if options.startswith("FORMAT CSV"):
                nested = next((f for f in info.spec.schema if f.fields or f.mode is FieldMode.REPEATED), None)
                if nested is not None:
                    raise UnsupportedByFake(
                        f"The emulator cannot extract the nested field {nested.name} to CSV", reason="invalid"
                    )
            path.parent.mkdir(parents=True, exist_ok=True)
            self.engine.export_rows(source, str(path), options)
            counts = [str(1 if index == 0 else 0) for index in range(len(uris))]
            size = self.engine.num_bytes(source.project, source.dataset, source.table) if info.num_rows else 0
            job.statistics = {"extract": {"destinationUriFileCounts": counts, "inputBytes": str(size)}}
        except WarehouseError as exc:
            job.error = exc
        return job


def _options(config: Mapping[str, Any]) -> str:
    """DuckDB ``COPY`` options for the configuration; a 400 for what DuckDB cannot write."""
    fmt = str(config.get("destinationFormat") or "CSV")
    if fmt not in _FORMATS:
        raise UnsupportedByFake(
            f"The emulator does not support extract.destinationFormat {fmt}", reason="invalid"
        )
    options, compressions = _FORMATS[fmt]
    compression = str(config.get("compression") or "NONE")
    if compression not in compressions:
        raise UnsupportedByFake(
            f"The emulator does not support extract.compression {compression} for {fmt}", reason="invalid"
        )
    parts = [options]
    if fmt == "PARQUET":
        parts.append(f"COMPRESSION {'uncompressed' if compression == 'NONE' else compression.lower()}")
    elif compression == "GZIP":
        parts.append("COMPRESSION gzip")
    if fmt == "CSV":
        delimiter = str(config.get("fieldDelimiter") or ",")
        if delimiter in ("\\t", "tab"):
            delimiter = "\t"
        parts.append("DELIMITER '" + delimiter.replace("'", "''") + "'")
        header = config.get("printHeader")
        parts.append(f"HEADER {'false' if header is False or str(header).lower() == 'false' else 'true'}")
    return ", ".join(parts)
