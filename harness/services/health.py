"""What both services share: the app shell (state, error handlers), ``/health`` (the process
answers) and ``/health/ready`` (its warehouse and KMS answer too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from harness.onboarding.platform import Platform
from harness.services import errors
from harness.services.deps import get_platform
from harness.services.errors import error_response
from harness.services.routes import Routes
from harness.services.settings import Settings


def service_app(
    service: str, description: str, platform: Platform, settings: Settings | None, **fastapi: Any
) -> FastAPI:
    """A service's FastAPI app over ``platform``: error shape, health routes, settings."""
    app = FastAPI(title=f"CloudAct {service}", version="0.1.0", description=description, **fastapi)
    app.state.platform = platform
    app.state.settings = settings or Settings()
    errors.install(app)
    health_routes(Routes(app, "health"), service)
    return app


def health_routes(routes: Routes, service: str) -> None:
    @routes.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @routes.get("/health/ready")
    def ready(platform: Annotated[Platform, Depends(get_platform)]) -> Any:
        checks: dict[str, str] = {}
        try:
            platform.warehouse.get_dataset(platform.meta_dataset)
            checks["warehouse"] = "ok"
        except Exception as exc:  # readiness reports any failure, it never raises
            checks["warehouse"] = f"failed: {type(exc).__name__}: {exc}"
        try:
            platform.keys.primary_version()
            checks["kms"] = "ok"
        except Exception as exc:
            checks["kms"] = f"failed: {type(exc).__name__}: {exc}"
        if all(value == "ok" for value in checks.values()):
            return JSONResponse({"status": "ready", "service": service, "checks": checks})
        return error_response(503, "NOT_READY", f"{service} is not ready", details=checks)
