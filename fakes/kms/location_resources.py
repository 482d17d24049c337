"""``locations.get`` / ``locations.list``: the Cloud KMS locations a project sees.

Answered as google.cloud.location.Location with Cloud KMS's ``LocationMetadata``. The list is a
fixed set of Cloud KMS locations (global, the multi-regions and common regions, from Cloud KMS's
locations page), not every region Google serves; a location outside it answers NOT_FOUND here,
though key rings may still be created in it (the emulator does not restrict where). The emulator
reports ``hsmAvailable`` true (its HSM keys are software keys reported as HSM, see
``fakes.kms.algorithms``) and ``ekmAvailable`` false (it has no EKM).
"""

from __future__ import annotations

from typing import Any

from fakes.kms import exceptions as errors
from fakes.kms.models import require_name

LOCATIONS: dict[str, str] = {
    "global": "Global",
    "us": "United States",
    "europe": "Europe",
    "asia": "Asia",
    "us-central1": "Iowa",
    "us-east1": "South Carolina",
    "us-east4": "Northern Virginia",
    "us-west1": "Oregon",
    "us-west2": "Los Angeles",
    "northamerica-northeast1": "Montréal",
    "southamerica-east1": "São Paulo",
    "europe-west1": "Belgium",
    "europe-west2": "London",
    "europe-west3": "Frankfurt",
    "europe-west4": "Netherlands",
    "asia-east1": "Taiwan",
    "asia-northeast1": "Tokyo",
    "asia-southeast1": "Singapore",
    "australia-southeast1": "Sydney",
}
_METADATA = {
    "@type": "type.googleapis.com/google.cloud.kms.v1.LocationMetadata",
    "hsmAvailable": True,
    "ekmAvailable": False,
}


def _location(project_path: str, location_id: str) -> dict[str, Any]:
    return {
        "name": f"{project_path}/locations/{location_id}",
        "locationId": location_id,
        "displayName": LOCATIONS[location_id],
        "metadata": dict(_METADATA),
    }


def get_location(name: str) -> dict[str, Any]:
    require_name(name, "Location")
    project_path, _, location_id = name.rpartition("/locations/")
    if location_id not in LOCATIONS:
        raise errors.LocationNotFound(name=name)
    return _location(project_path, location_id)


def list_locations(project_path: str) -> list[dict[str, Any]]:
    """``project_path`` is ``projects/<id>``."""
    return [_location(project_path, location_id) for location_id in LOCATIONS]


__all__ = ["LOCATIONS", "get_location", "list_locations"]
