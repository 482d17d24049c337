"""The JSON resources the BigQuery REST emulator answers with (rendering only, no state).

Dataset, table and job resources, query-result pages and Google's error body, shaped as the
discovery document (``shared/reference/bigquery-v2-discovery.json``) describes them. Callers pass
in what a resource needs (a table's location and size come from the engine), so nothing here
reads state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fakes.bigquery.models import Job
from fakes.bigquery.query_destination import billed_bytes
from fakes.bigquery.rest_values import encode_rows
from harness.ports import DatasetInfo, QueryResult, TableInfo

PREFIX = "/bigquery/v2"

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def etag(moment: datetime) -> str:
    return f'"{int(moment.timestamp() * 1_000_000):x}"'


# ------------------------------------------------------------------------- datasets and tables


def dataset_resource(info: DatasetInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "bigquery#dataset",
        "id": f"{info.project}:{info.dataset_id}",
        "etag": etag(info.modified),
        "selfLink": f"{PREFIX}/projects/{info.project}/datasets/{info.dataset_id}",
        "datasetReference": {"projectId": info.project, "datasetId": info.dataset_id},
        "location": info.location,
        "creationTime": ms(info.created),
        "lastModifiedTime": ms(info.modified),
        "type": "DEFAULT",
    }
    if info.description is not None:
        body["description"] = info.description
    if info.labels:
        body["labels"] = dict(info.labels)
    if info.default_table_expiration_ms is not None:
        body["defaultTableExpirationMs"] = str(info.default_table_expiration_ms)
    return body


def dataset_list(page: list[DatasetInfo], token: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "bigquery#datasetList",
        "etag": '"0"',
        "datasets": [
            {
                "kind": "bigquery#dataset",
                "id": f"{i.project}:{i.dataset_id}",
                "datasetReference": {"projectId": i.project, "datasetId": i.dataset_id},
                "location": i.location,
                **({"labels": dict(i.labels)} if i.labels else {}),
            }
            for i in page
        ],
    }
    if token:
        body["nextPageToken"] = token
    return body


def table_resource(info: TableInfo, *, location: str, num_bytes: int) -> dict[str, Any]:
    body = info.spec.to_api(info.project, info.dataset_id)
    body.update(
        {
            "kind": "bigquery#table",
            "id": f"{info.project}:{info.dataset_id}.{info.table_id}",
            "etag": etag(info.modified),
            "selfLink": f"{PREFIX}/projects/{info.project}/datasets/{info.dataset_id}/tables/{info.table_id}",
            "type": "TABLE",
            "numRows": str(info.num_rows),
            "numBytes": str(num_bytes),
            "numLongTermBytes": "0",
            "creationTime": ms(info.created),
            "lastModifiedTime": ms(info.modified),
            "location": location,
        }
    )
    if info.streaming_buffer is not None:
        body["streamingBuffer"] = {
            "estimatedRows": str(info.streaming_buffer.estimated_rows),
            "estimatedBytes": "0",
            "oldestEntryTime": ms(info.streaming_buffer.oldest_entry_time),
        }
    return body


def table_list(page: list[TableInfo], token: str | None, total: int) -> dict[str, Any]:
    tables = []
    for info in page:
        api = info.spec.to_api(info.project, info.dataset_id)
        entry: dict[str, Any] = {
            "kind": "bigquery#table",
            "id": f"{info.project}:{info.dataset_id}.{info.table_id}",
            "tableReference": api["tableReference"],
            "type": "TABLE",
            "creationTime": ms(info.created),
        }
        for key in ("timePartitioning", "clustering", "labels"):
            if key in api:
                entry[key] = api[key]
        tables.append(entry)
    body: dict[str, Any] = {
        "kind": "bigquery#tableList",
        "etag": '"0"',
        "tables": tables,
        "totalItems": total,
    }
    if token:
        body["nextPageToken"] = token
    return body


# ------------------------------------------------------------------------------------- jobs


def job_resource(job: Job, *, running: bool = False) -> dict[str, Any]:
    """The Job; ``running``: as jobs.insert answers a job it accepted and has not finished."""
    created = ms(job.created)
    if job.job_id is None:
        return _dry_run_resource(job)
    statistics: dict[str, Any] = {"creationTime": created, "startTime": created, "endTime": created}
    status: dict[str, Any] = {"state": "DONE"}
    if running:
        status = {"state": "RUNNING"}
        del statistics["endTime"]
    elif job.error is not None:
        err = {"reason": job.error.reason, "message": job.error.message}
        if job.configuration.get("jobType", "QUERY") == "QUERY":
            err["location"] = "query"
        status["errorResult"] = err
        status["errors"] = [err]
    elif job.result is not None:
        result = job.result
        query_stats: dict[str, Any] = {
            "totalBytesProcessed": str(result.total_bytes_processed),
            "totalBytesBilled": str(billed_bytes(result.total_bytes_processed)),
            "cacheHit": False,
            "statementType": result.statement_type,
            "schema": {"fields": [f.to_api() for f in result.schema]},
        }
        if result.affected_rows is not None:
            query_stats["numDmlAffectedRows"] = str(result.affected_rows)
            query_stats["dmlStats"] = _dml_stats(result)
        statistics["query"] = query_stats
        statistics["totalBytesProcessed"] = str(result.total_bytes_processed)
    if job.status_errors and not running:
        status["errors"] = job.status_errors
    statistics.update(job.statistics)
    return {
        "kind": "bigquery#job",
        "etag": etag(job.created),
        "id": f"{job.project}:{job.location}.{job.job_id}",
        "selfLink": f"{PREFIX}/projects/{job.project}/jobs/{job.job_id}?location={job.location}",
        "user_email": "emulator@harness.local",
        "jobReference": job.reference(),
        "configuration": job.configuration,
        "status": status,
        "statistics": statistics,
    }


def _dry_run_resource(job: Job) -> dict[str, Any]:
    """A dry run's Job: DONE at once, no id (BigQuery creates no job), the estimate and the
    result schema in ``statistics.query``; nothing was billed."""
    assert job.result is not None
    result = job.result
    processed = str(result.total_bytes_processed)
    return {
        "kind": "bigquery#job",
        "etag": etag(job.created),
        "user_email": "emulator@harness.local",
        "jobReference": job.reference(),
        "configuration": job.configuration,
        "status": {"state": "DONE"},
        "statistics": {
            "creationTime": ms(job.created),
            "totalBytesProcessed": processed,
            "query": {
                "totalBytesProcessed": processed,
                "totalBytesBilled": "0",
                "totalBytesProcessedAccuracy": "PRECISE",
                "cacheHit": False,
                "statementType": result.statement_type,
                "schema": {"fields": [f.to_api() for f in result.schema]},
            },
        },
    }


def pending_query_page(job: Job) -> dict[str, Any]:
    """jobs.query's answer for a job that has not finished: the client polls it by reference."""
    return {
        "kind": "bigquery#queryResponse",
        "jobReference": job.reference(),
        "jobComplete": False,
        "location": job.location,
    }


def query_page(
    job: Job, result: QueryResult, *, kind: str, start: int, max_results: int | None, int64_timestamp: bool
) -> dict[str, Any]:
    """One page of a job's result: a ``bigquery#queryResponse`` (jobs.query) or a
    ``bigquery#getQueryResultsResponse``."""
    total = len(result.rows)
    end = total if max_results is None else min(total, start + max_results)
    body: dict[str, Any] = {
        "kind": kind,
        "jobReference": job.reference(),
        "jobComplete": True,
        "schema": {"fields": [f.to_api() for f in result.schema]},
        "totalRows": str(total),
        "totalBytesProcessed": str(result.total_bytes_processed),
        "cacheHit": False,
    }
    if job.job_id is None:
        del body["totalRows"]  # a dry run has no result set
    if start < end:
        body["rows"] = encode_rows(result.schema, result.rows[start:end], int64_timestamp=int64_timestamp)
    if end < total:
        body["pageToken"] = str(end)
    if result.affected_rows is not None:
        body["numDmlAffectedRows"] = str(result.affected_rows)
        if kind == "bigquery#queryResponse":
            body["dmlStats"] = _dml_stats(result)
    if kind == "bigquery#queryResponse":
        body["location"] = job.location
        body["statementType"] = result.statement_type
        if "sessionInfo" in job.statistics:
            body["sessionInfo"] = job.statistics["sessionInfo"]
    else:
        body["etag"] = etag(job.created)
    return body


def _dml_stats(result: QueryResult) -> dict[str, str]:
    count = str(result.affected_rows or 0)
    kind = result.statement_type.upper()
    return {
        "insertedRowCount": count if kind == "INSERT" else "0",
        "updatedRowCount": count if kind in ("UPDATE", "MERGE") else "0",
        "deletedRowCount": count if kind == "DELETE" else "0",
    }
