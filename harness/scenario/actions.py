"""Scenario actions → requests to the public API (the routes in DESIGN.md).

Each HTTP action becomes one :class:`Request` (service, method, path, headers, body). Arguments
arrive already templated (``{var}`` filled in). A few actions reach behind the API and are answered
by the runner itself (:data:`LOCAL_ACTIONS`): ``advance_clock`` (moves the injected clock),
``count_rows`` (counts the org's rows in a warehouse table) and ``describe_dataset`` (does a
dataset exist, how many tables); ``bootstrap: {config: PATH}`` bootstraps another config through
the real route, in-process only.

Auth (``auth:`` on every action that calls an org route): ``org`` = the scenario org's current
key (``{api_key}``: set by onboard, replaced by rotate_key), ``root`` = the platform root key,
``none`` = no key, ``invalid`` = a well-formed key nobody issued, anything else = that literal key
(usually a saved variable such as ``'{other_key}'``).
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.onboarding.billing import sign

API = "api"
PIPELINE = "pipeline"
LOCAL_ACTIONS = frozenset({"advance_clock", "count_rows", "describe_dataset"})
"""Actions the runner answers itself (in-process, or through the ``/_harness`` controls live)."""
ORG_DATASET_TABLES = frozenset({"llm_usage_daily", "llm_cost_daily"})
WRONG_WEBHOOK_SECRET = "whsec_not_the_endpoint_secret"


class ActionError(Exception):
    """The step cannot be sent as written (no key yet, unknown table...)."""


@dataclass
class Request:
    service: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None

    @property
    def body(self) -> Any:
        """The body as the record shows it."""
        if self.content is not None:
            try:
                return json.loads(self.content)
            except ValueError:
                return self.content.decode("utf-8", errors="replace")
        return self.json


@dataclass
class ActionContext:
    """What the runner knows when it turns a step into a request."""

    org: str
    root_key: str
    api_key: str | None
    run_id: str
    org_spec: dict[str, Any]
    webhook_secret: str
    now: Callable[[], datetime]
    valid_credential: Callable[[str], str]
    events_sent: int = 0
    event_created: dict[str, int] = field(default_factory=dict)
    """When each event id was first sent: a redelivery carries the same payload, as Stripe's do."""


def auth_headers(choice: str, ctx: ActionContext, org: str) -> dict[str, str]:
    if choice == "org":
        if not ctx.api_key:
            raise ActionError("no org API key yet: onboard the org first, or give auth: root / '{var}'")
        return {"X-API-Key": ctx.api_key}
    if choice == "root":
        return {"X-CA-Root-Key": ctx.root_key}
    if choice == "none":
        return {}
    if choice == "invalid":
        return {"X-API-Key": unknown_org_key(org, ctx.run_id)}
    return {"X-API-Key": str(choice)}


def unknown_org_key(org: str, run_id: str) -> str:
    """Shaped like an org key (``<slug>_api_<43 url-safe chars>``), issued by nobody."""
    return f"{org}_api_{_chars(f'unknown-org-key:{run_id}', 43)}"


def unknown_provider_key(provider: str, run_id: str) -> str:
    """A provider admin key in the real shape that no provider (or fake) issued."""
    if provider == "anthropic":
        return f"sk-ant-admin01-{_chars(f'invalid:{provider}:{run_id}', 93)}AA"
    return f"sk-admin-{_chars(f'invalid:{provider}:{run_id}:a', 58)}T3BlbkFJ{_chars(run_id, 58)}"


def _chars(seed: str, count: int) -> str:
    alphabet = string.ascii_letters + string.digits
    out: list[str] = []
    counter = 0
    while len(out) < count:
        digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:count])


def build_request(action: str, args: dict[str, Any], ctx: ActionContext) -> Request:
    """The request for an HTTP action (``args`` templated, defaults included)."""
    org = args.get("org") or ctx.org
    builder = _BUILDERS.get(action)
    if builder is None:
        raise ActionError(f"{action} is not an HTTP action")
    return builder(args, ctx, org)


def _orgs(path: str = "") -> Callable[[dict[str, Any], ActionContext, str], Request]:
    """A GET of the org (``path`` = ``/subscription``, ``/quota``...)."""

    def build(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
        return Request(API, "GET", f"/api/v1/organizations/{org}{path}", auth_headers(args["auth"], ctx, org))

    return build


def _onboard(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    spec = ctx.org_spec
    body = {
        "org_slug": args.get("org_slug") or ctx.org,
        "company_name": args.get("company_name") or spec["company_name"],
        "admin_email": args.get("admin_email") or spec["admin_email"],
        "plan": args.get("plan") or spec["plan"],
    }
    headers = auth_headers(args["auth"], ctx, body["org_slug"])
    if args.get("idempotency_key"):
        headers["Idempotency-Key"] = str(args["idempotency_key"])
    return Request(API, "POST", "/api/v1/organizations/onboard", headers, json=body)


def _offboard(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    slug = args.get("org_slug") or ctx.org
    return Request(API, "DELETE", f"/api/v1/organizations/{slug}", auth_headers(args["auth"], ctx, slug))


def _bootstrap(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    return Request(API, "POST", "/api/v1/admin/bootstrap", auth_headers("root", ctx, org))


def _rotate(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    headers = auth_headers(args["auth"], ctx, org)
    return Request(API, "POST", f"/api/v1/organizations/{org}/api-key/rotate", headers)


def _change_plan(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    headers = auth_headers(args["auth"], ctx, org)
    path = f"/api/v1/organizations/{org}/subscription"
    return Request(API, "PUT", path, headers, json={"plan": args["plan"]})


def _setup_integration(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    provider = args["provider"]
    credential = args["credential"]
    if credential == "valid":
        credential = ctx.valid_credential(provider)
    elif credential == "invalid":
        credential = unknown_provider_key(provider, ctx.run_id)
    body: dict[str, Any] = {"credential": credential}
    if args.get("credential_name"):
        body["credential_name"] = args["credential_name"]
    headers = auth_headers(args["auth"], ctx, org)
    return Request(API, "POST", f"/api/v1/integrations/{org}/{provider}/setup", headers, json=body)


def _list_integrations(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    return Request(API, "GET", f"/api/v1/integrations/{org}", auth_headers(args["auth"], ctx, org))


def _delete_integration(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    headers = auth_headers(args["auth"], ctx, org)
    return Request(API, "DELETE", f"/api/v1/integrations/{org}/{args['provider']}", headers)


def _run_pipeline(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    path = f"/api/v1/pipelines/run/{org}/{args['provider']}/{args['domain']}/{args['pipeline']}"
    body = {k: args[k] for k in ("date", "start_date", "end_date") if args.get(k) is not None}
    return Request(PIPELINE, "POST", path, auth_headers(args["auth"], ctx, org), json=body)


def _get_run(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    path = f"/api/v1/pipelines/runs/{org}/{args['run_id']}"
    return Request(PIPELINE, "GET", path, auth_headers(args["auth"], ctx, org))


def _send_webhook(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    ctx.events_sent += 1
    event_id = args.get("event_id") or f"evt_{ctx.run_id}_{ctx.events_sent}"
    timestamp = int(ctx.now().timestamp()) - int(args.get("age_seconds") or 0)
    created = ctx.event_created.setdefault(event_id, timestamp)
    metadata = {"org_slug": org}
    subscription: dict[str, Any] = {
        "id": f"sub_{org}",
        "object": "subscription",
        "customer": f"cus_{org}",
        "status": args["status"],
        "metadata": metadata,
        "cancel_at_period_end": False,
    }
    if args.get("plan"):
        metadata["plan"] = args["plan"]
        subscription["items"] = {"data": [{"price": {"lookup_key": args["plan"]}}]}
    event = {
        "id": event_id,
        "object": "event",
        "type": args["event_type"],
        "created": created,
        "data": {"object": subscription},
    }
    payload = json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if args["signature"] == "valid":
        headers["Stripe-Signature"] = sign(payload, ctx.webhook_secret, timestamp)
    elif args["signature"] == "invalid":
        headers["Stripe-Signature"] = sign(payload, WRONG_WEBHOOK_SECRET, timestamp)
    return Request(API, "POST", "/api/v1/billing/webhook", headers, content=payload)


def _http(args: dict[str, Any], ctx: ActionContext, org: str) -> Request:
    headers = {**auth_headers(args["auth"], ctx, org), **args.get("headers", {})}
    path = args["path"] if args["path"].startswith("/") else "/" + args["path"]
    return Request(args["service"], args["method"], path, headers, json=args.get("json_body"))


_BUILDERS: dict[str, Callable[[dict[str, Any], ActionContext, str], Request]] = {
    "bootstrap": _bootstrap,
    "onboard": _onboard,
    "get_org": _orgs(),
    "rotate_key": _rotate,
    "check_subscription": _orgs("/subscription"),
    "change_plan": _change_plan,
    "check_quota": _orgs("/quota"),
    "setup_integration": _setup_integration,
    "list_integrations": _list_integrations,
    "delete_integration": _delete_integration,
    "run_pipeline": _run_pipeline,
    "get_run": _get_run,
    "send_webhook": _send_webhook,
    "offboard": _offboard,
    "http": _http,
}


def event_id_of(request: Request) -> str | None:
    body = request.body
    return body.get("id") if isinstance(body, dict) else None
