"""IAM policies of tables and routines (``getIamPolicy`` / ``setIamPolicy`` / ``testIamPermissions``):
stored and returned as BigQuery returns them, never enforced.

A resource without a policy has an empty one (``version`` 1 and an ``etag``). ``setIamPolicy``
keeps the fields ``updateMask`` names (``bindings`` and ``etag`` by default) and answers a new
``etag``; an ``etag`` sent that is not the current one is refused, as a read-modify-write conflict
is on Google. ``testIamPermissions`` grants every permission asked: the emulator authorizes nothing.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fakes.bigquery.exceptions import PolicyEtagMismatch
from fakes.bigquery.rest_requests import json_body, object_at
from fakes.bigquery.rest_routes import PlainRoutes

_POLICY_FIELDS = ("bindings", "auditConfigs", "version")


class PolicyStore:
    """Policies by resource name (``projects/p/datasets/d/tables/t``)."""

    def __init__(self) -> None:
        self._policies: dict[str, dict[str, Any]] = {}
        self._versions = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, resource: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._policies.get(resource) or {"version": 1, "etag": _etag(0)})

    def set(self, resource: str, policy: dict[str, Any], mask: str | None) -> dict[str, Any]:
        fields = [f.strip() for f in mask.split(",")] if mask else ["bindings", "etag"]
        with self._lock:
            current = dict(self._policies.get(resource) or {"version": 1, "etag": _etag(0)})
            sent = policy.get("etag")
            if sent and sent != current["etag"]:
                raise PolicyEtagMismatch()
            updated = {k: v for k, v in current.items() if k != "etag"}
            for name in _POLICY_FIELDS:
                if name in fields or (name == "version" and "version" in policy):
                    if policy.get(name):
                        updated[name] = policy[name]
                    else:
                        updated.pop(name, None)
            updated.setdefault("version", 1)
            updated["etag"] = _etag(next(self._versions))
            self._policies[resource] = updated
            return dict(updated)

    def forget(self, resource: str) -> None:
        with self._lock:
            self._policies.pop(resource, None)


def register_policy_routes(
    app: FastAPI, store: PolicyStore, path: str, check: Callable[[str, str, str], None], id_name: str
) -> None:
    """``{path}:getIamPolicy``, ``:setIamPolicy`` and ``:testIamPermissions`` for one resource
    kind; ``check(project, dataset, id)`` raises the resource's 404."""
    routes = PlainRoutes(app)

    def resource(request: Request) -> str:
        params = request.path_params
        project, dataset, name = params["project"], params["dataset_id"], params[id_name]
        check(project, dataset, name)
        kind = "tables" if id_name == "table_id" else "routines"
        return f"projects/{project}/datasets/{dataset}/{kind}/{name}"

    async def get_policy(request: Request) -> JSONResponse:
        await json_body(request)
        return JSONResponse(store.get(resource(request)))

    async def set_policy(request: Request) -> JSONResponse:
        body = await json_body(request)
        policy = object_at(body, "policy")
        return JSONResponse(store.set(resource(request), policy, body.get("updateMask")))

    async def test_permissions(request: Request) -> JSONResponse:
        body = await json_body(request)
        resource(request)
        permissions = [str(p) for p in body.get("permissions") or []]
        return JSONResponse({"permissions": permissions} if permissions else {})

    routes.add(f"{path}:getIamPolicy", get_policy, "POST")
    routes.add(f"{path}:setIamPolicy", set_policy, "POST")
    routes.add(f"{path}:testIamPermissions", test_permissions, "POST")


def _etag(version: int) -> str:
    return base64.b64encode(f"BwY{version:010d}".encode()).decode()
