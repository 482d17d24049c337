"""``harness serve``'s own control: how many rows an org has in a table (a scenario's
``expect_rows`` in live mode). Only a served platform has orgs, so only ``harness serve`` mounts it,
under the same prefix and root key as :func:`harness.control.routes.control_router`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from harness.control import CONTROL_PREFIX
from harness.onboarding.models import SLUG_PATTERN
from harness.onboarding.platform import Platform
from harness.ports import NotFoundError
from harness.services.deps import require_root


def org_rows_router(platform: Platform) -> APIRouter:
    router = APIRouter(
        prefix=CONTROL_PREFIX,
        tags=["harness"],
        dependencies=[Depends(require_root)],
        include_in_schema=False,
    )

    @router.get("/rows/{table}")
    def count_rows(
        table: Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,1024}$")],
        org_slug: Annotated[str, Query(pattern=SLUG_PATTERN)],
    ) -> dict[str, Any]:
        """An org's rows in a meta table, or all rows of a table in the org's own dataset
        (``llm_usage_daily``...); a table that does not exist counts 0 with ``exists: false``."""
        if table in platform.config.table_names:
            sql = f"SELECT COUNT(*) AS n FROM {platform.table(table)} WHERE org_slug = @org_slug"
            params: dict[str, Any] = {"org_slug": org_slug}
        else:
            dataset = f"{platform.warehouse.project}.{platform.org_dataset(org_slug)}"
            sql, params = f"SELECT COUNT(*) AS n FROM `{dataset}.{table}`", {}
        try:
            rows = int(platform.select(sql, params).rows[0]["n"])
        except NotFoundError:
            return {"table": table, "org_slug": org_slug, "rows": 0, "exists": False}
        return {"table": table, "org_slug": org_slug, "rows": rows, "exists": True}

    return router


__all__ = ["org_rows_router"]
