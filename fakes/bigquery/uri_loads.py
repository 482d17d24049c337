"""Load jobs from ``gs://`` URIs (``load_table_from_uri``), read from the emulated buckets.

The objects live where extract jobs write them (:class:`fakes.bigquery.jobs_extract.Buckets`), so
an extract followed by a load round-trips. As BigQuery documents, a URI may hold one ``*``
wildcard after the bucket name, matching any run of characters (``/`` too), and the objects of
every URI are loaded by one job; a URI that matches no object fails the job with BigQuery's
``Not found: URI gs://...``. The files are read as one upload is (:mod:`fakes.bigquery.loads`):
CSV and newline-delimited JSON files are joined, each CSV file after the first losing its own
header rows; several Parquet files in one job are refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import (
    RequiredParameterMissing,
    SourceUriNotFound,
    UnsupportedByFake,
)
from fakes.bigquery.job_refs import check_job_fields
from fakes.bigquery.jobs_extract import Buckets
from fakes.bigquery.load_options import CSV, PARQUET, load_options
from fakes.bigquery.loads import start_load_job
from fakes.bigquery.models import Job, JobStore

_URI = re.compile(r"^gs://([^/*]+)/(.+)$")


class UriLoads:
    """Runs ``configuration.load`` jobs with ``sourceUris`` and records them in the job store."""

    def __init__(self, engine: BigQueryEngine, jobs: JobStore, buckets: Buckets) -> None:
        self.engine = engine
        self.jobs = jobs
        self.buckets = buckets

    def run(
        self, project: str, configuration: dict[str, Any], job_id: str | None, location: str | None
    ) -> Job:
        check_job_fields(configuration, "load")
        load = configuration.get("load")
        if not isinstance(load, Mapping):
            raise UnsupportedByFake("configuration.load must be an object", reason="invalid")
        uris = load.get("sourceUris")
        if not isinstance(uris, list) or not uris:
            raise RequiredParameterMissing(name="configuration.load.sourceUris")
        for uri in uris:
            if not isinstance(uri, str) or _URI.match(uri) is None or uri.count("*") > 1:
                raise UnsupportedByFake(
                    f"The emulator loads gs://bucket/object URIs with at most one * wildcard: {uri}",
                    reason="invalid",
                )
        fmt = str(load.get("sourceFormat") or CSV).upper()
        uploaded = {k: v for k, v in load.items() if k != "sourceUris"}
        load_options(project, uploaded)  # a load the emulator refuses is a 400 before any job
        reference = {"jobId": job_id, "location": location}
        files: list[Path] = []
        missing = None
        for uri in uris:
            found = self._objects(uri)
            if not found and missing is None:
                missing = uri
            files.extend(found)
        if missing is None and fmt == PARQUET and len(files) > 1:
            raise UnsupportedByFake(
                f"The emulator loads one Parquet file per job: sourceUris matches {len(files)} objects",
                reason="invalid",
            )
        resource = {"configuration": {**configuration, "load": uploaded}, "jobReference": reference}
        if missing is not None:  # the job is made, and fails as BigQuery's does
            job = self.jobs.accept(project, resource["configuration"], job_id, location, job_type="LOAD")
            job.error = SourceUriNotFound(uri=missing)
        else:
            data = _joined(files, fmt, load)
            job = start_load_job(self.engine, self.jobs, project, resource, data)
            job.statistics.setdefault("load", {})["inputFiles"] = str(len(files))
        job.configuration["load"] = {**uploaded, "sourceUris": list(uris)}
        return job

    def _objects(self, uri: str) -> list[Path]:
        match = _URI.match(uri)
        assert match is not None
        bucket, name = match.groups()
        root = self.buckets.root / bucket
        if "*" not in name:
            path = root.joinpath(*name.split("/"))
            return [path] if path.is_file() else []
        if not root.is_dir():
            return []
        pattern = re.compile(".*".join(re.escape(part) for part in name.split("*")), re.DOTALL)
        found = [
            path
            for path in root.rglob("*")
            if path.is_file() and pattern.fullmatch(path.relative_to(root).as_posix())
        ]
        return sorted(found)


def _joined(files: list[Path], fmt: str, load: Mapping[str, Any]) -> bytes:
    """The files' bytes as one source: each CSV file after the first without its header rows."""
    if fmt == PARQUET:
        return files[0].read_bytes()
    if fmt != CSV:
        return b"".join(_terminated(path.read_bytes()) for path in files)
    first = files[0].read_bytes()
    header = first.split(b"\n", 1)[0]
    skip = int(load.get("skipLeadingRows") or 0)
    parts = [_terminated(first)]
    for path in files[1:]:
        lines = path.read_bytes().split(b"\n")
        drop = skip if skip else int(bool(load.get("autodetect")) and lines[0] == header)
        parts.append(_terminated(b"\n".join(lines[drop:])))
    return b"".join(parts)


def _terminated(data: bytes) -> bytes:
    return data if not data or data.endswith(b"\n") else data + b"\n"
