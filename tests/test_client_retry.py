"""The retry policies of :mod:`harness.backends.client_retry` (which the fake tier's ports retry by)
are the Google clients' own: every value is read back from google-cloud-bigquery and
google-cloud-kms, so an upgrade that changes one fails here instead of splitting the tiers."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import kms_v1
from google.cloud.bigquery import retry as bq_retry

from harness.backends import client_retry as ours
from harness.backends.kms import default_retry

KMS_METHODS = ("encrypt", "decrypt", "get_crypto_key")


def _values(retry: object) -> tuple[float, float, float, float]:
    return (retry._initial, retry._maximum, retry._multiplier, retry._timeout)  # type: ignore[attr-defined]


def _policy(policy: ours.RetryPolicy) -> tuple[float, float, float, float]:
    return (policy.initial, policy.maximum, policy.multiplier, policy.deadline)


def test_bigquery_api_and_job_retry_values_are_the_clients() -> None:
    assert _values(bq_retry.DEFAULT_RETRY) == _policy(ours.BIGQUERY_RETRY)
    assert _values(bq_retry.DEFAULT_JOB_RETRY) == _policy(ours.BIGQUERY_JOB_RETRY)


def test_bigquery_retry_reasons_are_the_clients() -> None:
    assert bq_retry._RETRYABLE_REASONS == ours.BIGQUERY_RETRY_REASONS
    assert frozenset(bq_retry.job_retry_reasons) == ours.BIGQUERY_JOB_RETRY_REASONS
    for reason in ours.BIGQUERY_RETRY_REASONS:
        error = gexc.Forbidden("x", errors=[{"reason": reason}])
        assert bq_retry.DEFAULT_RETRY._predicate(error)
    for reason in ours.BIGQUERY_JOB_RETRY_REASONS:
        error = gexc.BadRequest("x", errors=[{"reason": reason}])
        assert not bq_retry.DEFAULT_RETRY._predicate(error)
        assert bq_retry.DEFAULT_JOB_RETRY._predicate(error)
    for reason in ("quotaExceeded", "timeout", "invalidQuery"):
        assert not bq_retry.DEFAULT_JOB_RETRY._predicate(gexc.BadRequest("x", errors=[{"reason": reason}]))


@pytest.fixture(scope="module")
def kms() -> kms_v1.KeyManagementServiceClient:
    return kms_v1.KeyManagementServiceClient(transport="rest", credentials=AnonymousCredentials())


@pytest.mark.parametrize("method", KMS_METHODS)
def test_kms_default_retry_values_are_the_clients(
    kms: kms_v1.KeyManagementServiceClient, method: str
) -> None:
    assert _values(default_retry(kms, method)) == _policy(ours.KMS_RETRY)


@pytest.mark.parametrize("method", KMS_METHODS)
def test_kms_default_retry_exception_types_are_the_clients(
    kms: kms_v1.KeyManagementServiceClient, method: str
) -> None:
    """The predicate is ``if_exception_type(DeadlineExceeded, ServiceUnavailable)``: the codes the
    fake tier retries are those two classes' canonical codes."""
    predicate = default_retry(kms, method)._predicate
    [types] = [cell.cell_contents for cell in predicate.__closure__ or ()]
    assert set(types) == {gexc.DeadlineExceeded, gexc.ServiceUnavailable}
    # Over REST a status maps to an exception class by HTTP code: 503 is ServiceUnavailable (matched),
    # 504 is GatewayTimeout (not DeadlineExceeded), so only UNAVAILABLE is retried.
    over_rest = {
        gexc.from_http_status(status, "x").grpc_status_code.name
        for status in (503, 504)
        if predicate(gexc.from_http_status(status, "x"))
    }
    assert over_rest == ours.KMS_RETRY_CODES
    assert not predicate(gexc.TooManyRequests("quota"))
    assert not predicate(gexc.InternalServerError("internal"))
