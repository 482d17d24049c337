"""The control plane of ``harness serve`` (:class:`harness.serve.ServiceProcess`) on its api-service
port, driven by :class:`~harness.control_client.ControlClient`: the same controls as an emulator's
port, over the fake tier's in-process state or the emulator tier's embedded emulators, plus the
served platform's org-row counts; a reset also makes the meta tables again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from harness.backends import Backend
from harness.backends.fake import FakeBackends
from harness.control_client import ControlClient, ControlError
from harness.schema.spec import DatasetSpec
from harness.serve import ServiceProcess

ORG = {"org_slug": "ctl_serve", "company_name": "Control Co", "admin_email": "ctl@example.com"}


@pytest.fixture(scope="module")
def services() -> Iterator[ServiceProcess]:
    with ServiceProcess(seed=3) as served:
        yield served


@pytest.fixture
def control(services: ServiceProcess) -> Iterator[ControlClient]:
    with ControlClient(services.api_url, root_key=services.root_key) as client:
        client.reset()
        yield client


def _onboard(services: ServiceProcess) -> None:
    response = httpx.post(
        f"{services.api_url}/api/v1/organizations/onboard",
        headers={"X-CA-Root-Key": services.root_key},
        json=ORG,
        timeout=30,
    )
    assert response.status_code == 201, response.text


def test_info_and_the_meta_tables_are_readable(services: ServiceProcess, control: ControlClient) -> None:
    info = control.info()
    assert info.tier == "fake" and info.seed == 3 and info.urls == {}
    assert info.raw["api_url"] == services.api_url
    meta = services.require_backends().platform.meta_dataset
    assert meta in control.datasets()
    assert len(control.tables(meta)) == info.raw["meta_tables"] == 15


def test_reset_wipes_orgs_keys_and_faults_and_bootstraps_the_meta_tables_again(
    services: ServiceProcess, control: ControlClient
) -> None:
    backends = services.require_backends()
    assert isinstance(backends, FakeBackends)
    platform = backends.platform
    _onboard(services)
    profiles = control.rows(platform.meta_dataset, "org_profiles")
    assert [row["org_slug"] for row in profiles.rows] == ["ctl_serve"]
    backends.engine.create_dataset(platform.warehouse.project, DatasetSpec("scratch"))
    assert "scratch" in control.datasets()
    backends.keys.backend.rotate(backends.keys.key_name)
    control.mint_key("anthropic")
    control.add_fault("openai", status=500)
    httpx.get("https://api.openai.com/v1/models")  # into the fake through respx, which logs the call
    assert any(call.request.url.host == "api.openai.com" for call in backends.mocks.calls)

    control.reset()

    assert control.datasets() == [platform.meta_dataset]
    assert len(control.tables(platform.meta_dataset)) == 15
    assert control.rows(platform.meta_dataset, "org_profiles").total_rows == 0
    [ring] = control.key_rings()
    [key] = ring.keys
    assert key.name == backends.keys.key_name and [v.state for v in key.versions] == ["ENABLED"]
    assert control.keys("anthropic") == [] and control.faults("openai") == []
    # respx's log of the calls (this test's own loopback calls since the reset pass through it too)
    assert not any(call.request.url.host == "api.openai.com" for call in backends.mocks.calls)
    found = httpx.get(
        f"{services.api_url}/api/v1/organizations/ctl_serve", headers={"X-CA-Root-Key": services.root_key}
    )
    assert found.status_code == 404
    _onboard(services)  # the same slug onboards again on the fresh state


def test_clock_org_rows_and_the_root_key(services: ServiceProcess, control: ControlClient) -> None:
    before = services.require_backends().clock.now()
    moved = control.advance(timedelta(hours=5))
    assert moved - before >= timedelta(hours=5)
    assert services.require_backends().clock.now() >= moved
    _onboard(services)
    counted = httpx.get(
        f"{services.api_url}/_harness/rows/org_profiles",
        params={"org_slug": "ctl_serve"},
        headers={"X-CA-Root-Key": services.root_key},
    )
    assert counted.json()["rows"] == 1
    with ControlClient(services.api_url, root_key="wrong") as wrong, pytest.raises(ControlError) as err:
        wrong.reset()
    assert err.value.status == 401 and err.value.code == "UNAUTHENTICATED"
    assert control.rows(services.require_backends().platform.meta_dataset, "org_profiles").total_rows == 1


def test_no_control_route_in_either_services_openapi_document(services: ServiceProcess) -> None:
    for url in (services.api_url, services.pipeline_url):
        paths = httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]
        assert paths and not [path for path in paths if path.startswith("/_harness")]


def test_on_the_emulator_tier_the_controls_reach_the_embedded_emulators() -> None:
    with ServiceProcess(tier=Backend.EMULATOR, seed=4) as served:
        emulators = served.require_backends().emulators  # type: ignore[attr-defined]
        meta = served.require_backends().platform.meta_dataset
        with ControlClient(served.api_url) as on_api, ControlClient(emulators.kms_url) as on_kms:
            info = on_api.info()
            assert info.tier == "emulator" and info.urls["bigquery"] == emulators.bigquery_url
            assert on_api.datasets() == on_kms.datasets() == [meta]
            on_kms.reset()  # an emulator's own reset: the meta tables are gone with everything else
            assert on_api.datasets() == []
            on_api.reset()  # harness serve's reset makes them again
            assert on_kms.datasets() == [meta] and len(on_kms.tables(meta)) == 15
            key = on_api.mint_key("openai")
            assert on_kms.keys("openai")[0].key[:8] == key[:8]
            on_api.add_backend_fault("warehouse", error="quota_exceeded", operation="get_dataset")
            assert [f["error"] for f in on_kms.faults()["backend"]] == ["quota_exceeded"]
            refused = httpx.get(f"{emulators.bigquery_url}/bigquery/v2/projects/p/datasets/{meta}")
            assert refused.json()["error"]["errors"][0]["reason"] == "quotaExceeded"
            on_api.add_backend_fault("kms", error="unavailable")
            on_api.reset()
            assert on_kms.faults()["backend"] == []
