"""``rowAccessPolicies`` insert/get/list/update/delete/batchDelete/getIamPolicy/testIamPermissions.

The REST face of :mod:`fakes.bigquery.row_access`: the same store the ``CREATE ROW ACCESS
POLICY`` DDL writes. A policy's IAM policy is an empty one (nothing grants on it but its
``grantees``, which are input only and never answered back, as the discovery document says);
``testIamPermissions`` grants what is asked, as the emulator authorizes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import InvalidArgument, RequiredParameterMissing
from fakes.bigquery.iam_policies import PolicyStore
from fakes.bigquery.rest_requests import json_body, object_at, token_offset
from fakes.bigquery.rest_resources import PREFIX
from fakes.bigquery.rest_routes import PlainRoutes
from fakes.bigquery.row_access import RowAccessPolicy, TableKey, store_of

_POLICY_ID = re.compile(r"^\w{1,256}$", re.ASCII)


def policy_resource(key: TableKey, policy: RowAccessPolicy) -> dict[str, Any]:
    project, dataset_id, table_id = key
    return {
        "etag": policy.etag(),
        "rowAccessPolicyReference": {
            "projectId": project,
            "datasetId": dataset_id,
            "tableId": table_id,
            "policyId": policy.policy_id,
        },
        "filterPredicate": policy.filter_predicate,
        "creationTime": _rfc3339(policy.created),
        "lastModifiedTime": _rfc3339(policy.modified),
    }


def register(app: FastAPI, engine: BigQueryEngine) -> None:
    """Add the row access policy routes to the emulator ``app``."""
    routes = PlainRoutes(app)
    policies = store_of(engine)
    iam = PolicyStore()
    base = f"{PREFIX}/projects/{{project}}/datasets/{{dataset_id}}/tables/{{table_id}}/rowAccessPolicies"
    one = f"{base}/{{policy_id}}"

    @routes.post(base)
    async def insert(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        key = (project, dataset_id, table_id)
        body = await json_body(request)
        policy_id = _policy_id(object_at(body, "rowAccessPolicyReference").get("policyId"))
        policy = policies.create(key, policy_id, _predicate(body), _grantees(body))
        return JSONResponse(policy_resource(key, policy))

    @routes.get(base)
    async def list_policies(project: str, dataset_id: str, table_id: str, request: Request) -> JSONResponse:
        key = (project, dataset_id, table_id)
        every = policies.list(key)
        start = token_offset(request.query_params.get("pageToken"))
        size = request.query_params.get("pageSize")
        if size is not None and not size.isdigit():
            raise InvalidArgument(name="pageSize", value=size)
        end = len(every) if not size or int(size) == 0 else start + int(size)
        listing: dict[str, Any] = {}
        if page := every[start:end]:
            listing["rowAccessPolicies"] = [policy_resource(key, p) for p in page]
        if end < len(every):
            listing["nextPageToken"] = str(end)
        return JSONResponse(listing)

    @routes.get(one)
    async def get(project: str, dataset_id: str, table_id: str, policy_id: str) -> JSONResponse:
        key = (project, dataset_id, table_id)
        return JSONResponse(policy_resource(key, policies.get(key, policy_id)))

    @routes.put(one)
    async def update(
        project: str, dataset_id: str, table_id: str, policy_id: str, request: Request
    ) -> JSONResponse:
        key = (project, dataset_id, table_id)
        body = await json_body(request)
        current = policies.get(key, policy_id)
        grantees = _grantees(body) if "grantees" in body else current.grantees
        policy = policies.update(key, policy_id, _predicate(body), grantees)
        return JSONResponse(policy_resource(key, policy))

    @routes.delete(one)
    async def delete(project: str, dataset_id: str, table_id: str, policy_id: str) -> Response:
        policies.delete((project, dataset_id, table_id), policy_id)
        iam.forget(_name(project, dataset_id, table_id, policy_id))
        return Response(status_code=204)

    @routes.post(f"{base}:batchDelete")
    async def batch_delete(project: str, dataset_id: str, table_id: str, request: Request) -> Response:
        key = (project, dataset_id, table_id)
        body = await json_body(request)
        ids = body.get("policyIds")
        if not isinstance(ids, list) or not ids:
            raise RequiredParameterMissing(name="policyIds")
        for policy_id in ids:  # every id is checked before any policy goes
            policies.get(key, str(policy_id))
        for policy_id in ids:
            policies.delete(key, str(policy_id))
        return Response(status_code=204)

    @routes.post(f"{one}:getIamPolicy")
    async def get_iam_policy(
        project: str, dataset_id: str, table_id: str, policy_id: str, request: Request
    ) -> JSONResponse:
        await json_body(request)
        policies.get((project, dataset_id, table_id), policy_id)
        return JSONResponse(iam.get(_name(project, dataset_id, table_id, policy_id)))

    @routes.post(f"{one}:testIamPermissions")
    async def test_iam_permissions(
        project: str, dataset_id: str, table_id: str, policy_id: str, request: Request
    ) -> JSONResponse:
        body = await json_body(request)
        policies.get((project, dataset_id, table_id), policy_id)
        permissions = [str(p) for p in body.get("permissions") or []]
        return JSONResponse({"permissions": permissions} if permissions else {})


def _policy_id(value: Any) -> str:
    if not value:
        raise RequiredParameterMissing(name="rowAccessPolicyReference.policyId")
    if not isinstance(value, str) or _POLICY_ID.match(value) is None:
        raise InvalidArgument(name="rowAccessPolicyReference.policyId", value=value)
    return value


def _predicate(body: dict[str, Any]) -> str:
    predicate = body.get("filterPredicate")
    if not isinstance(predicate, str) or not predicate.strip():
        raise RequiredParameterMissing(name="filterPredicate")
    return predicate.strip()


def _grantees(body: dict[str, Any]) -> tuple[str, ...]:
    grantees = body.get("grantees") or []
    if not isinstance(grantees, list):
        raise InvalidArgument(name="grantees", value=grantees)
    return tuple(str(g) for g in grantees)


def _name(project: str, dataset_id: str, table_id: str, policy_id: str) -> str:
    return f"projects/{project}/datasets/{dataset_id}/tables/{table_id}/rowAccessPolicies/{policy_id}"


def _rfc3339(moment: Any) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
