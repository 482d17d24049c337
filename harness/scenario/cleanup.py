"""The end of every run: offboard the orgs it onboarded, as the scenario's cleanup policy says.

Apart from the steps because it runs in a ``finally`` with rules of its own: ``always``,
``on_success`` (a failed run keeps its orgs for inspection) or ``never``; orgs are offboarded in
reverse order of onboarding, each with ``DELETE`` and the root key; a failing offboard is reported
and the next org is still tried; Ctrl-C stops the cleanup and names every org that was kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from harness.scenario.actions import ActionError, Request
from harness.scenario.drivers import InProcess, Live
from harness.scenario.model import CleanupPolicy
from harness.scenario.outcome import CleanupOutcome, StepOutcome, step_detail
from harness.scenario.records import Scrubber


def clean_up(
    policy: CleanupPolicy,
    onboarded: list[str],
    *,
    passed: bool,
    offboard: Callable[[str, int], StepOutcome],
    on_step: Callable[[StepOutcome], None],
) -> tuple[CleanupOutcome, bool]:
    """Offboard ``onboarded`` (newest first) if ``policy`` says so; ``passed`` is whether the run
    passed so far. Returns the cleanup and whether Ctrl-C interrupted it."""
    orgs = list(reversed(onboarded))
    if not orgs:
        return CleanupOutcome(policy, ran=False, reason="nothing to clean up"), False
    listed = ", ".join(orgs)
    if policy is CleanupPolicy.NEVER:
        return CleanupOutcome(policy, ran=False, reason=f"cleanup: never — kept {listed}"), False
    if policy is CleanupPolicy.ON_SUCCESS and not passed:
        reason = f"cleanup: on_success and the run did not pass — kept {listed}"
        return CleanupOutcome(policy, ran=False, reason=reason), False
    cleanup = CleanupOutcome(policy, ran=True)
    for position, slug in enumerate(orgs):
        try:
            result = offboard(slug, len(cleanup.steps))
        except KeyboardInterrupt:  # Ctrl-C during cleanup: stop, and say what was left
            cleanup.ok = False
            cleanup.orgs.update(dict.fromkeys(orgs[position:], "kept (cleanup interrupted)"))
            return cleanup, True
        cleanup.steps.append(result)
        on_step(result)
        cleanup.orgs[slug] = "offboarded" if result.ok else (result.failures or [result.error or "?"])[0]
        cleanup.ok = cleanup.ok and result.ok
    return cleanup, False


def offboard(
    driver: InProcess | Live, slug: str, index: int, *, root_key: str, scrub: Scrubber
) -> StepOutcome:
    """One cleanup step: ``DELETE /api/v1/organizations/{slug}`` with the root key, 200 expected.
    A transport error fails the step (reported), never the cleanup loop; what the response holds
    is learnt by ``scrub`` before the step's detail line is written."""
    started = time.perf_counter()
    request = Request("api", "DELETE", f"/api/v1/organizations/{slug}", {"X-CA-Root-Key": root_key})
    result = StepOutcome(
        index=index,
        name=f"cleanup: offboard {slug}",
        action="offboard",
        ok=False,
        elapsed_ms=0.0,
        cleanup=True,
        request=request,
        args={"org_slug": slug},
    )
    try:
        result.clock = driver.now()
        result.take_response(driver.send(request))
        scrub.learn(result.body)
        if result.status == 200:
            result.ok = True
        else:
            result.failures = [f"status: expected 200, got {result.status}"]
    except (httpx.HTTPError, ActionError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    result.detail = step_detail(result, scrub.text)
    return result
