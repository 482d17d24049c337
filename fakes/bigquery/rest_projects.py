"""``projects.list``, ``projects.getServiceAccount`` and the ``models`` methods of the REST emulator.

Projects: the emulator's projects are those its engine has a catalog for (any project a dataset
was made in); each has a numeric id derived from its name, stable across
runs, as a real project has one number. The service account is BigQuery's encryption service
account as Google documents it, ``bq-<project number>@bigquery-encryption.iam.gserviceaccount.com``
(the account a customer grants a Cloud KMS key to).

Models: the emulator has no BigQuery ML (``CREATE MODEL`` is refused), so a dataset holds none:
list answers an empty page and get/patch/delete answer BigQuery's 404 for the model named, after
the dataset's own 404.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fakes.bigquery.engine import BigQueryEngine
from fakes.bigquery.exceptions import ModelNotFound
from fakes.bigquery.rest_requests import int_arg, page_of, token_offset
from fakes.bigquery.rest_resources import PREFIX
from fakes.bigquery.rest_routes import PlainRoutes


def project_number(project: str) -> int:
    """A 12-digit project number, the same for a project name on every run."""
    digest = hashlib.sha256(project.encode()).digest()
    return 100_000_000_000 + int.from_bytes(digest[:8]) % 900_000_000_000


def service_account(project: str) -> str:
    return f"bq-{project_number(project)}@bigquery-encryption.iam.gserviceaccount.com"


def register(app: FastAPI, engine: BigQueryEngine) -> None:
    """Add the projects and models routes to the emulator ``app``."""
    routes = PlainRoutes(app)
    base = f"{PREFIX}/projects"
    models = f"{base}/{{project}}/datasets/{{dataset_id}}/models"

    @routes.get(base)
    async def projects_list(request: Request) -> JSONResponse:
        names = sorted(engine._catalogs)
        page, token = page_of(names, request)
        listing: dict[str, Any] = {
            "kind": "bigquery#projectList",
            "etag": hashlib.sha256(",".join(page).encode()).hexdigest()[:16],
            "projects": [_project(name) for name in page],
            "totalItems": len(page),
        }
        if token:
            listing["nextPageToken"] = token
        return JSONResponse(listing)

    @routes.get(f"{base}/{{project}}/serviceAccount")
    async def get_service_account(project: str) -> JSONResponse:
        return JSONResponse({"kind": "bigquery#getServiceAccountResponse", "email": service_account(project)})

    @routes.get(models)
    async def models_list(project: str, dataset_id: str, request: Request) -> JSONResponse:
        engine.get_dataset(project, dataset_id)
        int_arg(request, "maxResults")
        token_offset(request.query_params.get("pageToken"))
        return JSONResponse({})

    async def missing_model(project: str, dataset_id: str, model_id: str) -> JSONResponse:
        engine.get_dataset(project, dataset_id)
        raise ModelNotFound(project=project, dataset_id=dataset_id, model_id=model_id)

    routes.add(f"{models}/{{model_id}}", missing_model, "GET", "PATCH", "DELETE")


def _project(name: str) -> dict[str, Any]:
    return {
        "kind": "bigquery#project",
        "id": name,
        "numericId": str(project_number(name)),
        "projectReference": {"projectId": name},
        "friendlyName": name,
    }
