"""The pipeline-service (port 8001): run a provider pipeline for an org, read a run back.

Same auth and error shape as the api-service. A run executes synchronously; the response is the
run with its steps and data-quality results (201 whether it ended SUCCESS or FAILED: the run
exists either way; a refused start — quota, subscription, missing integration — is a 4xx error).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, FastAPI

from harness.onboarding.audit import Actor
from harness.onboarding.platform import Platform
from harness.pipelines import runner
from harness.pipelines.lifecycle import load_run
from harness.pipelines.models import RunRequest, RunView
from harness.services.deps import OrgSlug, get_platform, require_org_access
from harness.services.health import service_app
from harness.services.routes import Routes
from harness.services.settings import Settings

PlatformDep = Annotated[Platform, Depends(get_platform)]
OrgActor = Annotated[Actor, Depends(require_org_access)]


def create_pipeline_app(platform: Platform, settings: Settings | None = None) -> FastAPI:
    app = service_app(
        "pipeline-service",
        "Provider usage and cost pipelines: run lifecycle, step logs, data quality, cost.",
        platform,
        settings,
    )
    _pipelines(Routes(app, "pipelines", "/api/v1/pipelines"))
    return app


def _pipelines(routes: Routes) -> None:
    @routes.post("/run/{org_slug}/{provider}/{domain}/{pipeline}", status_code=201, response_model=RunView)
    def run_pipeline(
        org_slug: OrgSlug,
        provider: str,
        domain: str,
        pipeline: str,
        platform: PlatformDep,
        actor: OrgActor,
        request: Annotated[RunRequest | None, Body()] = None,
    ) -> RunView:
        definition = runner.find(provider, domain, pipeline)
        return runner.run_pipeline(platform, org_slug, definition, request or RunRequest(), actor)

    @routes.get("/runs/{org_slug}/{run_id}", response_model=RunView)
    def get_run(org_slug: OrgSlug, run_id: str, platform: PlatformDep, actor: OrgActor) -> RunView:
        return load_run(platform, org_slug, run_id)
