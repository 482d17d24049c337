"""Whether the gcp tier's settings reach what they name: one cheap read each, before a run creates
anything, through the clients the tier runs on (so a redirect to emulators is checked the same way).

* credentials (``GOOGLE_APPLICATION_CREDENTIALS``, else Application Default Credentials): the file
  loads and an access token is obtained from its ``token_uri``;
* project (``GCP_PROJECT_ID``): BigQuery lists at most one of its datasets (``datasets.list``,
  ``maxResults=1``);
* KMS key (``KMS_KEY_NAME``): Cloud KMS returns the key (``cryptoKeys.get``) and it has a primary
  version to encrypt with.

Each problem is one line naming the variable to fix and what the service answered.
"""

from __future__ import annotations

from typing import Any

from google.auth import exceptions as auth_exceptions
from google.cloud import bigquery

from harness.backends.bigquery import BigQueryWarehouse
from harness.backends.bigquery_errors import mapped
from harness.backends.gcp import GcpConfigError, gcp_credentials, prove_credentials
from harness.ports import KeyManager, KeyManagerError, KeyNotFoundError, KeyPermissionError, WarehouseError
from harness.services.settings import Settings

CHECK_TIMEOUT = 30.0
"""Seconds one check may take: a preflight that hangs is worse than one that says why it gave up."""


def credentials_problem(settings: Settings) -> tuple[Any, str | None]:
    """The credentials with a fresh access token, or None and the line saying why not."""
    source = (
        f"GOOGLE_APPLICATION_CREDENTIALS={settings.google_application_credentials}"
        if settings.google_application_credentials
        else "GOOGLE_APPLICATION_CREDENTIALS (unset: Application Default Credentials)"
    )
    try:
        credentials = gcp_credentials(settings)
        prove_credentials(credentials, settings)
    except GcpConfigError as exc:
        return None, f"{source}: {exc}"
    return credentials, None


def project_problem(warehouse: BigQueryWarehouse) -> str | None:
    """None when BigQuery lists the project's datasets, else why it did not."""
    try:
        with mapped():
            retry = bigquery.DEFAULT_RETRY.with_timeout(CHECK_TIMEOUT)  # not the default's 10 minutes
            datasets = warehouse.client.list_datasets(
                warehouse.project, max_results=1, retry=retry, timeout=CHECK_TIMEOUT
            )
            next(iter(datasets), None)  # one page of at most one dataset
    except WarehouseError as exc:
        return (
            f"GCP_PROJECT_ID={warehouse.project}: BigQuery refused to list its datasets "
            f"({exc.status} {exc.reason}: {exc.message})"
        )
    except auth_exceptions.GoogleAuthError as exc:
        return f"GOOGLE_APPLICATION_CREDENTIALS: BigQuery did not accept the credentials: {_first_line(exc)}"
    except OSError as exc:
        return f"GCP_PROJECT_ID={warehouse.project}: BigQuery is unreachable: {_first_line(exc)}"
    return None


def kms_key_problem(keys: KeyManager, key_name: str) -> str | None:
    """None when Cloud KMS returns the key with a primary version, else why not."""
    try:
        keys.primary_version()
    except KeyNotFoundError as exc:
        return f"KMS_KEY_NAME={key_name}: no such key ({exc.message})"
    except KeyPermissionError as exc:
        answer = f"{exc.status} {exc.code}: {exc.message}"
        return f"KMS_KEY_NAME={key_name}: the credentials may not use this key ({answer})"
    except KeyManagerError as exc:
        return f"KMS_KEY_NAME={key_name}: {exc.message}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


__all__ = ["credentials_problem", "kms_key_problem", "project_problem"]
