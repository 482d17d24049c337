"""What can be known about a scenario before it runs: whether it belongs here, and whether it can.

Kept apart from the run so ``harness run`` can check every file of a batch before the first one
starts (a usage error should not surface after ten minutes of other scenarios), and so a refused
scenario fails the same way from the CLI and from a pytest item:

* :func:`skip_reason` — the scenario does not run on this tier / in this mode (a skip, not a
  failure): its ``tiers`` exclude the tier, or it pins the clock where time is real;
* :func:`check_scenario` — static problems (``expect.rows`` off ``count_rows``, an unknown table, a
  fault naming no step) and, on gcp, what real services cannot do (the manual clock, faults, a
  ``valid`` credential without its environment variable). Raises :class:`ScenarioUsageError`;
* :func:`check_live` — against running services, once they answered: what their ``/_harness``
  test controls (or their absence) cannot do. Raises :class:`LiveUnsupported`.
"""

from __future__ import annotations

from collections.abc import Iterator

from harness.scenario.actions import LOCAL_ACTIONS, ORG_DATASET_TABLES
from harness.scenario.drivers import CONTROL_PREFIX, Live, env_credential
from harness.scenario.model import Fault, Scenario, Step, Tier
from harness.scenario.outcome import LiveUnsupported, ScenarioUsageError
from harness.services.settings import Settings, SettingsError


def skip_reason(scenario: Scenario, *, tier: Tier = Tier.FAKE, live: bool = False) -> str | None:
    """Why the scenario does not run here (reported as skipped, not failed), or None."""
    if tier not in scenario.tiers:
        return f"runs on {', '.join(t.value for t in scenario.tiers)}, not {tier.value}"
    if live and scenario.clock is not None:
        return f"pins the clock at {scenario.clock.isoformat()}; live services keep their own time"
    if tier is Tier.GCP and scenario.clock is not None:
        return f"pins the clock at {scenario.clock.isoformat()}; the gcp tier runs on real time"
    return None


def check_scenario(
    scenario: Scenario, *, tier: Tier = Tier.FAKE, live: bool = False, settings: Settings | None = None
) -> None:
    """What can be known without running: tables and fault targets exist, and on gcp nothing asks
    for what real services cannot do. Raises :class:`ScenarioUsageError`. (Live mode is checked
    against the services when the run starts: :func:`check_live`.)"""
    check_static(scenario)
    if tier is Tier.GCP and not live:
        _check_gcp(scenario, settings or Settings())


def check_static(scenario: Scenario) -> None:
    """The checks that hold on every tier, replays included. Raises :class:`ScenarioUsageError`."""
    from harness.schema.loader import load_config

    tables = set(load_config().table_names) | ORG_DATASET_TABLES
    problems: list[str] = []
    for index, step in each_step(scenario):
        expects = (step.expect, *step.expect_on.values())
        if any(expect.rows is not None for expect in expects) and step.action != "count_rows":
            problems.append(f"{step_title(index, step)}: expect.rows applies to count_rows only")
        table = getattr(step.args, "table", None) if step.action == "count_rows" else None
        if table is not None and table not in tables:
            problems.append(
                f"{step_title(index, step)}: unknown table {table!r}; tables: {', '.join(sorted(tables))}"
            )
    problems.extend(
        f"fault before_step {fault.before_step!r} names no step"
        for fault in scenario.faults
        if fault.before_step is not None and fault_step(scenario, fault) is None
    )
    if problems:
        raise ScenarioUsageError(f"scenario {scenario.name}: " + "; ".join(problems))


def check_live(scenario: Scenario, driver: Live, settings: Settings) -> None:
    """What the services behind ``driver`` cannot do for this scenario. Raises
    :class:`LiveUnsupported` naming the step (``harness run`` reports it as a skip)."""
    if driver.controls:
        for index, step in each_step(scenario):
            in_process_only = (
                step.action == "describe_dataset"
                or (step.action == "bootstrap" and getattr(step.args, "config", None))
                or (step.action == "count_rows" and getattr(step.args, "table", None) in ORG_DATASET_TABLES)
            )
            if in_process_only:
                raise LiveUnsupported(
                    f"{step_title(index, step)}: needs an in-process run (the live test controls "
                    "cover the clock, provider keys and faults, and row counts of meta tables)"
                )
        return
    problems: list[str] = []
    why = f"the services at {driver.clients['api'].base_url} have no {CONTROL_PREFIX} test controls"
    for index, step in each_step(scenario):
        if step.action in LOCAL_ACTIONS:
            problems.append(f"{step_title(index, step)}: {step.action} reaches behind the API")
        if step.action == "bootstrap" and getattr(step.args, "config", None):
            problems.append(f"{step_title(index, step)}: bootstrap with a config needs an in-process run")
    problems.extend(credential_problems(scenario, settings))
    if scenario.faults:
        problems.append("faults are armed in the fakes behind the services, through the control plane")
    if problems:
        raise LiveUnsupported(
            f"scenario {scenario.name} cannot run live: {why} (start them with `harness serve`): "
            + "; ".join(problems)
        )


def credential_problems(scenario: Scenario, settings: Settings) -> list[str]:
    """Steps that need a valid provider credential no provider fake can mint here."""
    problems = []
    for index, step in each_step(scenario):
        if step.setup_integration is not None and step.setup_integration.credential == "valid":
            provider = step.setup_integration.provider.value
            if env_credential(settings, provider) is None:
                problems.append(
                    f"{step_title(index, step)}: a valid {provider} credential needs "
                    f"{provider.upper()}_API_KEY"
                )
    return problems


def fault_step(scenario: Scenario, fault: Fault) -> int | None:
    """The index of the step a fault is armed before (0 without ``before_step``), or None when
    ``before_step`` names no step — the run arms faults by the same rule this check applies."""
    if fault.before_step is None:
        return 0
    for index, step in enumerate(scenario.steps):
        if fault.before_step in (step.name, step.action):
            return index
    return None


def each_step(scenario: Scenario) -> Iterator[tuple[int, Step]]:
    """Every step with its index, the sub-steps of a ``parallel`` step under their parent's index:
    what a check must look at, since a sub-step does everything a step does."""
    for index, step in enumerate(scenario.steps):
        yield index, step
        for sub in step.parallel or ():
            yield index, sub


def step_title(index: int, step: Step) -> str:
    """How a problem names a step: ``step 3 (onboard)``, numbered from 1 as the files are read."""
    return f"step {index + 1} ({step.label})"


def _check_gcp(scenario: Scenario, settings: Settings) -> None:
    problems: list[str] = []
    try:  # the services a run starts guard real data with these secrets
        settings.for_tier(Tier.GCP.value)
    except SettingsError as exc:
        problems.extend(exc.problems)
    for index, step in each_step(scenario):
        if step.action == "advance_clock":
            problems.append(f"{step_title(index, step)}: advance_clock needs a tier with a manual clock")
    problems.extend(credential_problems(scenario, settings))
    kinds = sorted({fault.kind for fault in scenario.faults})
    if kinds:
        problems.append(
            f"{' and '.join(kinds)} faults are armed in the fakes and emulators; the gcp tier talks to "
            "the real services, which cannot be made to fail on demand"
        )
    if problems:
        raise ScenarioUsageError(f"scenario {scenario.name} cannot run on gcp: " + "; ".join(problems))
