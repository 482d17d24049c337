"""The scenario file format (pydantic): what a person writes in ``scenarios/*.yml``.

A scenario names a flow of public-API actions, each with optional expectations::

    name: full_onboarding
    description: Bootstrap, onboard, integrate OpenAI, run the pipeline, check quota, clean up.
    tags: [smoke]
    tiers: [fake, emulator, gcp]
    variables:
      org: e2e_{run_id}
    org: {slug: "{org}", company_name: E2E Co, admin_email: e2e@example.com, plan: STARTER}
    steps:
      - bootstrap: {}
      - onboard: {}
        expect: {status: 201, body: {subscription.plan_name: STARTER}}
      - setup_integration: {provider: openai}
      - run_pipeline: {provider: openai}
        expect: {body: {status: SUCCESS, rows_processed: ">= 1"}}
      - check_quota: {}
        expect: {body: {pipelines_run_today: 1}}

Every step is a mapping with exactly one action key (its arguments as the value) plus the optional
``name``, ``expect``, ``expect_on``, ``save`` and ``instance`` keys. ``expect_on`` says what is
expected differently on one tier (a real account may have had no usage yesterday)::

      - run_pipeline: {provider: openai}
        expect: {body: {rows_processed: ">= 1", data_quality.status: PASSED}}
        expect_on:
          gcp: {body: {rows_processed: ">= 0", data_quality.status: "matches ^(PASSED|SKIPPED)$"}}

With ``instances: 2`` the run has two api-service and two pipeline-service processes over one
set of backends, and ``instance: 2`` sends a step to the second pair. A ``parallel:`` step holds
sub-steps (each with its own ``expect``, ``expect_on``, ``save`` and ``instance``) that are sent
at once::

      - parallel:
          - run_pipeline: {provider: openai, date: 2026-01-05}
          - run_pipeline: {provider: openai, date: 2026-01-05}
            instance: 2
 Strings may use ``{variable}`` templates: the scenario's
``variables`` and the runner's built-ins (``run_id``, ``org``, ``api_key``, ``last_run_id``...).
Unknown keys anywhere are errors, not ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from harness.backends import Backend as Tier
from harness.faults.backend import (
    ANY,
    KMS_ERRORS,
    KMS_OPERATIONS,
    WAREHOUSE_ERRORS,
    WAREHOUSE_OPERATIONS,
    BackendFault,
    FaultSpecError,
    Port,
)
from harness.ports import Provider


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CleanupPolicy(StrEnum):
    ALWAYS = "always"
    ON_SUCCESS = "on_success"
    NEVER = "never"


class KeyChoice(StrEnum):
    """Which credential a step sends: the org's current key, the root key, none, or a wrong one."""

    ORG = "org"
    ROOT = "root"
    NONE = "none"
    INVALID = "invalid"


# ----------------------------------------------------------------------------------- actions


class BootstrapArgs(_Strict):
    config: str | None = Field(
        default=None,
        description="Another bootstrap.yml (relative to the scenario file); default: the packaged one.",
    )


class DescribeDataset(_Strict):
    """Whether a dataset exists, its tables and their columns (in-process runs only)."""

    dataset: str


class Authed(_Strict):
    auth: KeyChoice | str = Field(
        default=KeyChoice.ORG,
        description="org (default), root, none, invalid, or a variable holding a key, e.g. '{other_key}'.",
    )
    org: str | None = Field(default=None, description="Org slug in the path (default: the scenario's org).")


class Onboard(_Strict):
    org_slug: str | None = None
    company_name: str | None = None
    admin_email: str | None = None
    plan: str | None = None
    auth: KeyChoice | str = KeyChoice.ROOT
    idempotency_key: str | None = Field(
        default=None,
        description="Sent as Idempotency-Key: a retry with the same key replays the first success.",
    )


class Offboard(_Strict):
    org_slug: str | None = None
    auth: KeyChoice | str = KeyChoice.ROOT


class SetupIntegration(Authed):
    provider: Provider
    credential: str = Field(
        default="valid",
        description="'valid' (a working key: minted by the provider fake, or OPENAI_API_KEY / "
        "ANTHROPIC_API_KEY on the gcp tier), 'invalid', or a literal key.",
    )
    credential_name: str | None = None


class ProviderAction(Authed):
    provider: Provider


Day = date
"""``date`` under another name: ``RunPipeline`` has a field called ``date``."""


class RunPipeline(Authed):
    provider: Provider
    domain: str = "cost"
    pipeline: str = "usage_cost"
    date: Day | None = None
    start_date: Day | None = None
    end_date: Day | None = None


class GetRun(Authed):
    run_id: str = "{last_run_id}"


class ChangePlan(Authed):
    plan: str


class SendWebhook(_Strict):
    event_type: Literal[
        "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"
    ] = "customer.subscription.updated"
    status: str = "active"
    plan: str | None = None
    event_id: str | None = Field(
        default=None, description="Default: a fresh id; reuse one to test de-duplication."
    )
    org: str | None = None
    signature: Literal["valid", "invalid", "missing"] = "valid"
    age_seconds: int = Field(
        default=0, description="How old the signature's timestamp is, on the injected clock."
    )


class AdvanceClock(_Strict):
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0


class CountRows(_Strict):
    table: str
    org: str | None = Field(default=None, description="Rows of this org (default: the scenario's org).")


class Http(_Strict):
    """An arbitrary request, for what no action covers."""

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    service: Literal["api", "pipeline"] = "api"
    auth: KeyChoice | str = KeyChoice.ORG
    json_body: Any = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)


ACTIONS: dict[str, type[BaseModel]] = {
    "bootstrap": BootstrapArgs,
    "onboard": Onboard,
    "get_org": Authed,
    "rotate_key": Authed,
    "check_subscription": Authed,
    "change_plan": ChangePlan,
    "check_quota": Authed,
    "setup_integration": SetupIntegration,
    "list_integrations": Authed,
    "delete_integration": ProviderAction,
    "run_pipeline": RunPipeline,
    "get_run": GetRun,
    "send_webhook": SendWebhook,
    "offboard": Offboard,
    "advance_clock": AdvanceClock,
    "count_rows": CountRows,
    "describe_dataset": DescribeDataset,
    "http": Http,
}


# ------------------------------------------------------------------------------ expectations


class Expect(_Strict):
    """What must hold after the step. ``body`` maps dotted paths (``subscription.plan_name``,
    ``steps.0.status``) to an exact value or a comparison string: ``">= 1"``, ``"< 10"``,
    ``"!= null"``, ``"contains text"``, ``"matches ^regex$"``, ``"len 3"``."""

    status: int | list[int] | None = Field(
        default=None,
        description="The HTTP status, or a list of the ones allowed (e.g. [201, 409] for one of two "
        "concurrent requests).",
    )
    error: str | None = Field(default=None, description="The error code of a structured error body.")
    body: dict[str, Any] = Field(default_factory=dict)
    rows: int | str | None = Field(default=None, description="For count_rows: the count or a comparison.")
    absent: list[str] = Field(default_factory=list, description="Strings that must not appear in the body.")


class Step(BaseModel):
    """One step: exactly one action key, plus ``name``, ``expect`` (``expect_on`` per tier) and ``save``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    expect: Expect = Field(default_factory=Expect)
    expect_on: dict[Tier, Expect] = Field(
        default_factory=dict,
        description="What changes on one tier, e.g. {gcp: {body: {rows_processed: '>= 0'}}}: body "
        "paths given here replace the same paths of expect, other keys replace expect's.",
    )
    save: dict[str, str] = Field(
        default_factory=dict, description="Variables to set from the response: {var: dotted.path}."
    )
    instance: int = Field(
        default=1, ge=1, description="Which service instance gets the request (see the scenario's instances)."
    )
    parallel: list[Step] | None = Field(
        default=None,
        min_length=2,
        description="Sub-steps sent at once (threads started together), each with its own expect, "
        "save and instance; in place of an action.",
    )
    bootstrap: BootstrapArgs | None = None
    onboard: Onboard | None = None
    get_org: Authed | None = None
    rotate_key: Authed | None = None
    check_subscription: Authed | None = None
    change_plan: ChangePlan | None = None
    check_quota: Authed | None = None
    setup_integration: SetupIntegration | None = None
    list_integrations: Authed | None = None
    delete_integration: ProviderAction | None = None
    run_pipeline: RunPipeline | None = None
    get_run: GetRun | None = None
    send_webhook: SendWebhook | None = None
    offboard: Offboard | None = None
    advance_clock: AdvanceClock | None = None
    count_rows: CountRows | None = None
    describe_dataset: DescribeDataset | None = None
    http: Http | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_action_means_no_args(cls, data: Any) -> Any:
        """``- bootstrap:`` (YAML null) reads as ``- bootstrap: {}``."""
        if isinstance(data, dict):
            return {k: ({} if v is None and k in ACTIONS else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _exactly_one_action(self) -> Step:
        chosen = [name for name in STEP_KINDS if getattr(self, name) is not None]
        if len(chosen) != 1:
            found = ", ".join(chosen) or "none"
            raise ValueError(f"a step needs exactly one action ({', '.join(STEP_KINDS)}); found: {found}")
        if self.parallel is not None:
            _check_parallel(self)
        return self

    @property
    def action(self) -> str:
        return next(name for name in STEP_KINDS if getattr(self, name) is not None)

    @property
    def args(self) -> BaseModel:
        return getattr(self, self.action)

    @property
    def label(self) -> str:
        return self.name or self.action

    def expect_for(self, tier: Tier) -> Expect:
        """``expect`` with ``expect_on[tier]`` laid over it (body path by path)."""
        override = self.expect_on.get(tier)
        if override is None:
            return self.expect
        changes = {key: getattr(override, key) for key in override.model_fields_set}
        if "body" in changes:
            changes["body"] = {**self.expect.body, **override.body}
        return self.expect.model_copy(update=changes)


PARALLEL = "parallel"
STEP_KINDS: tuple[str, ...] = (*ACTIONS, PARALLEL)
"""What a step can hold: one action, or a ``parallel`` list of sub-steps."""

NOT_IN_PARALLEL: dict[str, str] = {
    PARALLEL: "parallel steps do not nest",
    "advance_clock": "the clock is shared, so moving it in parallel with requests decides nothing",
}
"""Actions a sub-step of ``parallel`` cannot hold, and why."""

PARALLEL_OWN_KEYS: tuple[str, ...] = ("expect", "expect_on", "save", "instance")
"""Keys that belong on each sub-step of ``parallel``, not on the parallel step itself."""


def _check_parallel(step: Step) -> None:
    own = [key for key in PARALLEL_OWN_KEYS if key in step.model_fields_set]
    if own:
        raise ValueError(f"{', '.join(own)}: put it on each sub-step of parallel, not on the parallel step")
    for sub in step.parallel or ():
        if sub.action in NOT_IN_PARALLEL:
            raise ValueError(f"{sub.action} cannot be a sub-step of parallel: {NOT_IN_PARALLEL[sub.action]}")


# ------------------------------------------------------------------------------------ faults


class _Armed(_Strict):
    before_step: str | None = Field(
        default=None, description="Arm it just before this step (name or action; default: at start)."
    )


class ProviderFault(_Armed):
    """Make a provider fake fail: ``times`` requests answer ``status`` (or time out)."""

    kind: Literal["provider"] = "provider"
    provider: Provider
    status: int | None = Field(default=None, description="HTTP status to answer; omit with timeout: true.")
    timeout: bool = False
    times: int = Field(default=1, ge=1)
    retry_after: float | None = None

    @model_validator(mode="after")
    def _status_or_timeout(self) -> ProviderFault:
        if (self.status is None) == (not self.timeout):
            raise ValueError("give exactly one of status or timeout: true")
        return self


class _BackendFault(_Armed):
    """A warehouse or KMS fault (``harness.faults.backend``): on the fake tier raised at the port,
    on the emulator tier answered on the wire by the emulator, behind the clients' own retries."""

    times: int | None = Field(default=None, ge=1, description="How many matching calls fail (default 1).")
    after: int = Field(default=0, ge=0, description="Matching calls that pass first (N-th call: N-1).")
    for_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Fail every matching call for this long on the clock (not with times).",
    )

    @model_validator(mode="after")
    def _one_end(self) -> _BackendFault:
        if self.times is not None and self.for_seconds is not None:
            raise ValueError("give times or for_seconds, not both")
        try:
            self.spec()
        except FaultSpecError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def spec(self) -> BackendFault:
        return BackendFault(
            port=Port(self.kind),  # type: ignore[attr-defined]
            error=self.error,  # type: ignore[attr-defined]
            operation=self.operation,  # type: ignore[attr-defined]
            table=getattr(self, "table", None),
            times=None if self.for_seconds is not None else (self.times or 1),
            after=self.after,
            for_seconds=self.for_seconds,
        )


class WarehouseFault(_BackendFault):
    """Make BigQuery fail: ``error`` is one of ``harness.faults.backend.WAREHOUSE_ERRORS``."""

    kind: Literal["warehouse"]
    error: Literal[tuple(WAREHOUSE_ERRORS)]  # type: ignore[valid-type]
    operation: Literal[(ANY, *WAREHOUSE_OPERATIONS)] = Field(  # type: ignore[valid-type]
        default=ANY, description="Which calls: an operation (query, dml, create_dataset...), * for all."
    )
    table: str | None = Field(default=None, description="Only calls touching this table.")


class KmsFault(_BackendFault):
    """Make Cloud KMS fail: ``error`` is one of ``harness.faults.backend.KMS_ERRORS``."""

    kind: Literal["kms"]
    error: Literal[tuple(KMS_ERRORS)]  # type: ignore[valid-type]
    operation: Literal[(ANY, *KMS_OPERATIONS)] = Field(  # type: ignore[valid-type]
        default=ANY, description="Which calls: encrypt, decrypt, get_crypto_key, or * for all."
    )


def _fault_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "provider"))
    return str(getattr(value, "kind", "provider"))


Fault = Annotated[
    Annotated[ProviderFault, Tag("provider")]
    | Annotated[WarehouseFault, Tag("warehouse")]
    | Annotated[KmsFault, Tag("kms")],
    Discriminator(_fault_kind),
]
"""A scenario's fault: ``kind: provider`` (the default), ``warehouse`` or ``kms``."""


# ---------------------------------------------------------------------------------- scenario


class OrgSpec(_Strict):
    slug: str = "scn_{run_id}"
    company_name: str = "Scenario Co"
    admin_email: str = "scenario@example.com"
    plan: str = "STARTER"


MAX_INSTANCES = 4


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=lambda: [Tier.FAKE, Tier.EMULATOR, Tier.GCP])
    variables: dict[str, str] = Field(default_factory=dict)
    org: OrgSpec = Field(default_factory=OrgSpec)
    seed: int | None = Field(
        default=None, description="Seed for the fakes' keys and data (default: from the run id)."
    )
    clock: datetime | None = Field(default=None, description="Start of the injected clock on the fake tier.")
    faults: list[Fault] = Field(default_factory=list)
    cleanup: CleanupPolicy = CleanupPolicy.ALWAYS
    instances: int = Field(
        default=1,
        ge=1,
        le=MAX_INSTANCES,
        description="Service processes (api-service + pipeline-service pairs) over one set of "
        "backends, in-process runs only; a step picks one with instance: N.",
    )
    snapshot: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]+$",
        description="Parity snapshot of the run's Google calls (tests/parity/snapshots/scenarios/"
        "<name>.json): written on gcp (validated), compared on the emulator tier.",
    )
    steps: list[Step] = Field(min_length=1)
