"""Scenario files: loading, the errors a hand-written file gets, the JSON Schema, ``harness scenario``.

Every error test checks the three things a person needs to fix the file: the path, the line and
the dotted field, and that the message says what would be right.
"""

from __future__ import annotations

import copy
import json
import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario.consistency import BUILTIN_VARIABLES, template_names
from harness.scenario.json_schema import scenario_json_schema, scenario_json_schema_text
from harness.scenario.loader import (
    lint_scenario,
    load_scenario,
    load_scenarios,
    parse_scenario,
    scenario_files,
)
from harness.scenario.model import ACTIONS, CleanupPolicy, Scenario, Tier
from harness.scenario.problems import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SCHEMA_FILE = SCENARIOS / "scenario.schema.json"

VALID = """
name: example_flow
description: Every part of the format once.
tags: [smoke]
tiers: [fake, emulator]
variables:
  org: e2e_{run_id}
  other: other_{run_id}
org: {slug: "{org}", company_name: E2E Co, admin_email: e2e@example.com, plan: STARTER}
seed: 7
clock: 2025-06-01T00:00:00Z
faults:
  - provider: openai
    status: 503
    times: 2
    before_step: pipeline
  - {provider: anthropic, timeout: true, before_step: run_pipeline}
cleanup: on_success
steps:
  - bootstrap:
  - onboard: {}
    expect:
      status: 201
      body: {subscription.plan_name: STARTER, api_key: "matches ^{org}_api_[a-z0-9]{8}"}
    save: {first_key: api_key}
  - get_org: {auth: "{first_key}"}
  - setup_integration: {provider: openai}
  - name: pipeline
    run_pipeline: {provider: openai, date: 2025-05-31}
    expect: {body: {status: SUCCESS, rows_processed: ">= 1"}}
    save: {run: run_id}
  - get_run: {run_id: "{run}"}
  - count_rows: {table: org_meta_pipeline_runs}
    expect: {rows: 1}
  - advance_clock: {days: 1}
  - http:
      method: POST
      path: /api/v1/organizations/{org}/api-key/rotate
      json: {note: "literal {{braces}}"}
    expect: {status: 200, absent: ["{first_key}"]}
  - send_webhook: {plan: PROFESSIONAL}
  - offboard: {}
"""


def write(directory: Path, text: str, name: str = "scenario.yml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if needle in text)


def problem(path: Path) -> ScenarioError:
    """The only problem in the file."""
    errors = lint_scenario(path)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def steps_file(tmp_path: Path, steps: str, head: str = "") -> Path:
    """A file whose ``steps`` block is ``steps`` (indented list items)."""
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ")
    return write(tmp_path, f"name: s\n{textwrap.dedent(head)}steps:\n{body}\n")


def as_json(data: Any) -> Any:
    """YAML data as an editor's JSON Schema validator sees it: timestamps are strings."""

    def default(value: object) -> str:
        if isinstance(value, date | datetime):
            return value.isoformat()
        raise TypeError(type(value))

    return json.loads(json.dumps(data, default=default))


# ------------------------------------------------------------------------------- valid files


def test_valid_example_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, VALID))
    assert scenario.name == "example_flow"
    assert scenario.tiers == [Tier.FAKE, Tier.EMULATOR]
    assert scenario.cleanup is CleanupPolicy.ON_SUCCESS
    assert scenario.org.slug == "{org}"
    assert [step.action for step in scenario.steps][:3] == ["bootstrap", "onboard", "get_org"]
    assert scenario.steps[4].label == "pipeline"
    assert scenario.steps[8].args.json_body == {"note": "literal {{braces}}"}
    assert [fault.before_step for fault in scenario.faults] == ["pipeline", "run_pipeline"]


def test_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "name: tiny\nsteps:\n  - bootstrap: {}\n"))
    assert scenario.tiers == list(Tier)
    assert scenario.cleanup is CleanupPolicy.ALWAYS
    assert scenario.faults == []


def test_parse_scenario_reads_text() -> None:
    assert parse_scenario(VALID).name == "example_flow"


def test_committed_scenarios_are_found() -> None:
    assert scenario_files([SCENARIOS]), "scenarios/ holds no scenario files"


@pytest.mark.parametrize("path", scenario_files([SCENARIOS]), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_committed_scenario_lints_clean(path: Path) -> None:
    assert lint_scenario(path) == [], "\n".join(map(str, lint_scenario(path)))


def test_template_names() -> None:
    assert template_names("e2e_{run_id}") == ["run_id"]
    assert template_names("{a}-{b_2}") == ["a", "b_2"]
    assert template_names('{{not}} ^x{3}$ {1a} {"k": 1}') == []
    assert {"run_id", "org", "api_key", "root_key", "last_run_id", "last_event_id"} == BUILTIN_VARIABLES


# ------------------------------------------------------------------------------------- errors


def test_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {}\n- setup_integration: {provider: openia}\n")
    error = problem(path)
    assert (error.path, error.line, error.field) == (str(path), 4, "steps[1].setup_integration.provider")
    assert error.message == "'openia' is not one of openai, anthropic (did you mean 'openai'?)"
    assert str(error) == f"{path}:4: steps[1].setup_integration.provider: {error.message}"


def test_unknown_top_level_key_lists_the_allowed_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\ndescripton: typo\nsteps: [{bootstrap: {}}]\n")
    error = problem(path)
    assert (error.line, error.field) == (2, "descripton")
    assert error.message.startswith("unknown key 'descripton'; expected one of name, description, tags,")
    assert error.message.endswith("(did you mean 'description'?)")


def test_unknown_key_in_action_arguments(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {}\n- run_pipeline:\n    provder: openai\n")
    errors = lint_scenario(path)
    by_field = {e.field: e for e in errors}
    unknown = by_field["steps[1].run_pipeline.provder"]
    assert unknown.line == line_of(path, "provder")
    assert "expected one of auth, org, provider, domain, pipeline, date" in unknown.message
    assert unknown.message.endswith("(did you mean 'provider'?)")
    missing = by_field["steps[1].run_pipeline.provider"]
    assert (missing.line, missing.message) == (
        line_of(path, "run_pipeline"),
        "required key 'provider' is missing",
    )


def test_unknown_key_in_a_step_suggests_the_action(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- onbaord: {}\n")
    error = problem(path)  # no separate "no action" error: the unknown key is the action
    assert (error.line, error.field) == (3, "steps[0].onbaord")
    assert "(did you mean 'onboard'?)" in error.message


def test_unknown_action_argument_names_the_allowed_ones(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {confg: x.yml}\n")
    error = problem(path)
    assert (error.line, error.field) == (3, "steps[0].bootstrap.confg")
    assert "unknown key 'confg'" in error.message
    assert "config" in error.message


def test_step_without_an_action(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {}\n- name: lonely\n  expect: {status: 200}\n")
    error = problem(path)
    assert (error.line, error.field) == (4, "steps[1]")
    assert error.message.startswith("a step needs an action, found none; actions: bootstrap, onboard,")


def test_step_with_two_actions(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {}\n- onboard: {}\n  get_org: {}\n")
    error = problem(path)
    assert (error.line, error.field) == (4, "steps[1]")
    assert error.message == (
        "a step has exactly one action, found 2: onboard, get_org; split them into separate steps"
    )


def test_step_written_as_a_bare_action_name(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap\n")
    error = problem(path)
    assert (error.line, error.field) == (3, "steps[0]")
    assert error.message == "a step is a mapping with one action key: write '- bootstrap: {}'"


@pytest.mark.parametrize(
    ("head", "field", "message"),
    [
        (
            "tiers: [fake, gcpp]\n",
            "tiers[1]",
            "'gcpp' is not one of fake, emulator, gcp (did you mean 'gcp'?)",
        ),
        ("cleanup: sometimes\n", "cleanup", "'sometimes' is not one of always, on_success, never"),
        (
            "faults: [{provider: anthropc, status: 500}]\n",
            "faults[0].provider",
            "'anthropc' is not one of openai, anthropic (did you mean 'anthropic'?)",
        ),
    ],
)
def test_bad_enum_value_lists_the_allowed(tmp_path: Path, head: str, field: str, message: str) -> None:
    path = write(tmp_path, f"name: s\n{head}steps: [{{bootstrap: {{}}}}]\n")
    error = problem(path)
    assert (error.line, error.field, error.message) == (2, field, message)


def test_bad_literal_value_lists_the_allowed(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- http: {method: PATCH, path: /x}\n- send_webhook: {signature: forged}\n")
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (3, "steps[0].http.method", "'PATCH' is not one of GET, POST, PUT, DELETE"),
        (4, "steps[1].send_webhook.signature", "'forged' is not one of valid, invalid, missing"),
    ]


def test_union_value_names_every_alternative(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- get_org: {auth: 5}\n")
    error = problem(path)
    assert (error.line, error.field) == (3, "steps[0].get_org.auth")
    assert error.message == "expected one of org, root, none, invalid or a string, got an integer 5"


def test_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\nsteps:\n  - bootstrap: {}\n  - get_org: [\n")
    error = problem(path)
    assert (error.path, error.field) == (str(path), "")
    assert error.line is not None and error.line >= 4
    assert error.message.startswith("invalid YAML")


def test_unquoted_template_in_flow_mapping_gets_a_hint(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- get_org: {org: nosuch_{run_id}}\n")
    error = problem(path)
    assert error.line == 3
    assert error.message.startswith("invalid YAML")
    assert "quote a value with a {template} in it" in error.message


def test_template_read_as_a_mapping_gets_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\norg:\n  slug: {org}\nsteps: [{bootstrap: {}}]\n")
    error = problem(path)
    assert (error.line, error.field) == (3, "org.slug")
    assert error.message == "expected a string, got a mapping (to use a template, quote it: '{org}')"


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- bootstrap: {}\n  name: a\n  name: b\n")
    error = problem(path)
    assert (error.line, error.field, error.message) == (5, "steps[0].name", "duplicate key 'name'")


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "description: no name, no steps\n")
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (1, "name", "required key 'name' is missing"),
        (1, "steps", "required key 'steps' is missing"),
    ]


def test_missing_key_in_a_fault_points_at_the_fault(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\nfaults:\n  - status: 500\nsteps: [{bootstrap: {}}]\n")
    error = problem(path)
    assert (error.line, error.field, error.message) == (
        3,
        "faults[0].provider",
        "required key 'provider' is missing",
    )


@pytest.mark.parametrize(
    ("head", "field", "message"),
    [
        ("tags: smoke\n", "tags", "expected a list, got a string 'smoke'"),
        ("seed: abc\n", "seed", "expected an integer, got a string 'abc'"),
        (
            "variables: {year: 2025}\n",
            "variables.year",
            "expected a string, got an integer (quote it: '2025')",
        ),
        ("org: STARTER\n", "org", "expected a mapping, got a string 'STARTER'"),
        (
            "name: Full Flow\n",
            "name",
            "'Full Flow' does not match ^[a-z0-9_]+$ (lowercase letters, digits and underscores)",
        ),
    ],
)
def test_wrong_types(tmp_path: Path, head: str, field: str, message: str) -> None:
    path = write(
        tmp_path, f"name: s\n{head}steps: [{{bootstrap: {{}}}}]\n".replace("name: s\nname:", "name:")
    )
    error = problem(path)
    assert (error.field, error.message) == (field, message)
    assert error.line == line_of(path, head.split(":")[0] + ":")


def test_faults_need_status_or_timeout(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\nfaults:\n  - provider: openai\nsteps: [{bootstrap: {}}]\n")
    error = problem(path)
    assert (error.line, error.field, error.message) == (
        3,
        "faults[0]",
        "give exactly one of status or timeout: true",
    )


def test_empty_steps_and_empty_tiers(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\ntiers: []\nsteps: []\n")
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (2, "tiers", "list at least one tier (fake, emulator, gcp)"),
        (3, "steps", "must not be empty"),
    ]


def test_empty_file_and_wrong_root(tmp_path: Path) -> None:
    empty = problem(write(tmp_path, "# nothing\n", "empty.yml"))
    assert (empty.line, empty.field) == (None, "")
    assert empty.message == "the file is empty; a scenario needs name and steps"
    listed = problem(write(tmp_path, "- bootstrap: {}\n", "list.yml"))
    assert (listed.line, listed.field, listed.message) == (1, "", "expected a mapping, got a list")


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(missing)
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(missing), None, "")
    assert caught.value.message.startswith("cannot read file")


# ---------------------------------------------------------------------------------- templates


def test_undefined_template_variable(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- get_org: {org: 'x_{orgg}'}\n")
    error = problem(path)
    assert (error.line, error.field) == (3, "steps[0].get_org.org")
    assert error.message == "undefined variable {orgg}; defined: org, root_key, run_id (did you mean {org}?)"


def test_templates_in_org_variables_expectations_and_keys(tmp_path: Path) -> None:
    path = steps_file(
        tmp_path,
        """
        - get_org: {}
          expect:
            body:
              "items.{idx}.id": "{missing}"
        """,
        head="variables: {a: '{b}_{nope}', b: '{run_id}'}\norg: {slug: '{a}', company_name: '{who}'}\n",
    )
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message.split(";")[0]) for e in errors] == [
        (2, "variables.a", "undefined variable {nope}"),
        (3, "org.company_name", "undefined variable {who}"),
        (8, "steps[0].expect.body.items.{idx}.id", "undefined variable {idx}"),
        (8, "steps[0].expect.body.items.{idx}.id", "undefined variable {missing}"),
    ]


def test_saved_variables_are_defined_from_the_next_step_on(tmp_path: Path) -> None:
    path = steps_file(
        tmp_path,
        """
        - get_run: {run_id: "{run}"}
        - run_pipeline: {provider: openai}
          save: {run: run_id}
          expect: {body: {run_id: "{run}"}}
        - get_run: {run_id: "{run}"}
        """,
    )
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (3, "steps[0].get_run.run_id", "undefined variable {run}: it is saved by a later step (steps[1])"),
        (
            6,
            "steps[1].expect.body.run_id",
            "undefined variable {run}: it is saved by a later step (steps[1])",
        ),
    ]


def test_builtins_escapes_and_regex_counts_are_not_undefined(tmp_path: Path) -> None:
    uses = " ".join(f"{{{name}}}" for name in sorted(BUILTIN_VARIABLES))
    path = steps_file(
        tmp_path,
        f"""
        - onboard: {{}}
          expect: {{body: {{api_key: "{{api_key}}"}}}}
        - run_pipeline: {{provider: openai}}
        - send_webhook: {{}}
        - get_org: {{}}
          expect: {{body: {{a: 'matches ^x{{3}}$', b: '{{{{lit}}}}', c: '{uses}'}}}}
        """,
    )
    assert lint_scenario(path) == []


def test_builtins_set_by_steps_have_no_value_before_them(tmp_path: Path) -> None:
    path = steps_file(
        tmp_path,
        """
        - get_run: {run_id: "{last_run_id}"}
        - onboard: {org_slug: "{api_key}"}
        - get_org: {auth: "{api_key}"}
        """,
        head="variables: {key: 'k_{api_key}', event: '{last_event_id}'}\n",
    )
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (
            2,
            "variables.event",
            "undefined variable {last_event_id}: it has no value before the steps run (send_webhook sets it)",
        ),
        (
            2,
            "variables.key",
            "undefined variable {api_key}: it has no value before the steps run "
            "(onboard or rotate_key sets it)",
        ),
        (
            4,
            "steps[0].get_run.run_id",
            "undefined variable {last_run_id}: run_pipeline sets it, and no such step comes before",
        ),
        (
            5,
            "steps[1].onboard.org_slug",
            "undefined variable {api_key}: onboard or rotate_key sets it, and no such step comes before",
        ),
    ]


def test_org_slug_cannot_use_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "name: s\norg: {slug: 'x_{org}'}\nsteps: [{bootstrap: {}}]\n")
    error = problem(path)
    assert (error.line, error.field) == (2, "org.slug")
    assert error.message == "org.slug cannot use {org}: {org} is this slug (or define a variable named org)"
    renamed = write(
        tmp_path,
        "name: s\nvariables: {org: 'e2e_{run_id}'}\norg: {slug: 'x_{org}'}\nsteps: [{bootstrap: {}}]\n",
        "ok.yml",
    )
    assert lint_scenario(renamed) == []


def test_variable_cycles_and_self_reference(tmp_path: Path) -> None:
    head = "variables: {a: '{b}', b: '{a}', c: '{c}', org: 'x_{org}', d: '{a}'}\n"
    path = steps_file(tmp_path, "- bootstrap: {}\n", head=head)
    errors = lint_scenario(path)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (2, "variables", "variables use each other in a cycle: a, b"),
        (2, "variables.c", "variable 'c' uses itself"),
    ]


def test_variable_names_must_be_usable_in_templates(tmp_path: Path) -> None:
    path = steps_file(tmp_path, "- get_org: {}\n  save: {other-key: api_key}\n")
    error = problem(path)
    assert (error.line, error.field) == (4, "steps[0].save.other-key")
    assert error.message.startswith("variable name 'other-key' cannot be used as {other-key}")


# -------------------------------------------------------------------------------- consistency


def test_duplicate_step_names(tmp_path: Path) -> None:
    path = steps_file(
        tmp_path, "- name: one\n  bootstrap: {}\n- name: two\n  onboard: {}\n- name: one\n  get_org: {}\n"
    )
    error = problem(path)
    assert (error.line, error.field, error.message) == (
        7,
        "steps[2].name",
        "duplicate step name 'one' (also steps[0])",
    )


def test_before_step_names_a_step_or_an_action(tmp_path: Path) -> None:
    head = """\
        faults:
          - {provider: openai, status: 500, before_step: pipeline}
          - {provider: openai, status: 500, before_step: onboard}
          - {provider: openai, status: 500, before_step: pipelin}
        """
    path = steps_file(
        tmp_path, "- onboard: {}\n- name: pipeline\n  run_pipeline: {provider: openai}\n", head=head
    )
    error = problem(path)
    assert (error.line, error.field) == (5, "faults[2].before_step")
    assert error.message == (
        "before_step 'pipelin' names no step; steps: onboard, pipeline, run_pipeline "
        "(did you mean 'pipeline'?)"
    )


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name: s
        cleanup: later
        steps:
          - get_org: {org: "{nobody}"}
          - {}
        tiers: [cloud]
        """,
    )
    errors = lint_scenario(path)
    assert [(e.line, e.field) for e in errors] == [
        (2, "cleanup"),
        (4, "steps[0].get_org.org"),
        (5, "steps[1]"),
        (6, "tiers[0]"),
    ]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value is caught.value.errors[0]
    assert [str(e) for e in caught.value.errors] == [str(e) for e in errors]


# ------------------------------------------------------------------------------ load_scenarios


def test_load_scenarios_expands_directories_recursively_in_order(tmp_path: Path) -> None:
    tiny = "name: {}\nsteps: [{{bootstrap: {{}}}}]\n"
    write(tmp_path, tiny.format("b"), "b.yml")
    write(tmp_path, tiny.format("a"), "a.yaml")
    write(tmp_path, tiny.format("c"), "sub/c.yml")
    write(tmp_path, "dataset: {id: x}\n", "sub/_configs/bootstrap.yml")  # fixtures, not scenarios
    write(tmp_path, "not a scenario", "notes.txt")
    single = write(tmp_path / "elsewhere", tiny.format("z"), "z.yml")
    loaded = load_scenarios([tmp_path / "sub", single, tmp_path])
    assert [(p.relative_to(tmp_path).as_posix(), s.name) for p, s in loaded] == [
        ("sub/c.yml", "c"),
        ("elsewhere/z.yml", "z"),
        ("a.yaml", "a"),
        ("b.yml", "b"),
        ("elsewhere/z.yml", "z"),
        ("sub/c.yml", "c"),
    ]


def test_load_scenarios_raises_the_first_problem(tmp_path: Path) -> None:
    write(tmp_path, "name: a\nsteps: [{bootstrap: {}}]\n", "a.yml")
    bad = write(tmp_path, "name: b\nsteps: [{bootstrp: {}}]\n", "b.yml")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path])
    assert (caught.value.path, caught.value.line) == (str(bad), 2)
    with pytest.raises(ScenarioError, match="no such file or directory"):
        load_scenarios([tmp_path / "nope"])


# -------------------------------------------------------------------------------- JSON Schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_published_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == scenario_json_schema_text(), (
        "scenarios/scenario.schema.json is stale: run `harness scenario schema --output "
        "scenarios/scenario.schema.json`"
    )


def test_schema_header_and_stable_text() -> None:
    schema = scenario_json_schema()
    assert list(schema)[:3] == ["$schema", "title", "description"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert scenario_json_schema_text() == scenario_json_schema_text()


def test_schema_accepts_the_valid_example(validator: jsonschema.Draft202012Validator) -> None:
    errors = list(validator.iter_errors(as_json(yaml.safe_load(VALID))))
    assert errors == [], [e.message for e in errors]


def test_schema_accepts_every_committed_scenario_that_loads(
    validator: jsonschema.Draft202012Validator,
) -> None:
    checked = 0
    for path in scenario_files([SCENARIOS]):
        if lint_scenario(path):
            continue  # reported by test_committed_scenario_lints_clean
        data = as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert [e.message for e in validator.iter_errors(data)] == [], path
        checked += 1
    assert checked


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.update(descripton="typo"), []),
        (lambda d: d["steps"][1].update(colour="red"), ["steps", 1]),
        (
            lambda d: d["steps"][3]["setup_integration"].update(provder="openai"),
            ["steps", 3, "setup_integration"],
        ),
        (lambda d: d["steps"][1].update(get_org={}), ["steps", 1]),
        (lambda d: d["steps"][1].pop("onboard"), ["steps", 1]),
        (lambda d: d.update(tiers=[]), ["tiers"]),
        (lambda d: d.update(cleanup="sometimes"), ["cleanup"]),
    ],
)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, tmp_path: Path, change: Any, where: list[Any]
) -> None:
    data = yaml.safe_load(VALID)
    change(data)
    errors = list(validator.iter_errors(as_json(data)))
    assert errors and any(list(e.absolute_path)[: len(where)] == where for e in errors)
    with pytest.raises(ScenarioError):
        load_scenario(write(tmp_path, yaml.safe_dump(data)))


def test_schema_requires_exactly_one_action_per_step() -> None:
    step = scenario_json_schema()["$defs"]["Step"]
    assert step["additionalProperties"] is False
    assert step["oneOf"] == [{"required": [kind]} for kind in [*ACTIONS, "parallel"]]


# --------------------------------------------------------------------------------------- CLI


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_lint_valid_files(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    result = runner.invoke(app, ["scenario", "lint", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 scenario file(s) OK." in result.output


def test_cli_lint_reports_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path, VALID, "good.yml")
    bad = write(tmp_path, "name: s\ncleanup: later\nsteps: [{bootstrp: {}}]\n", "bad.yml")
    result = runner.invoke(app, ["scenario", "lint", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"{bad}:2: cleanup: 'later' is not one of always, on_success, never" in result.output
    assert f"{bad}:3: steps[0].bootstrp: unknown key 'bootstrp';" in result.output
    assert "2 problem(s) in 1 of 2 scenario file(s)." in result.output


@pytest.mark.parametrize(
    "args",
    [[], ["does/not/exist.yml"], ["EMPTY_DIR"]],
    ids=["no paths", "missing path", "no scenario files"],
)
def test_cli_lint_usage_errors(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    args = [str(tmp_path) if a == "EMPTY_DIR" else str(tmp_path / a) if "/" in a else a for a in args]
    result = runner.invoke(app, ["scenario", "lint", *args])
    assert result.exit_code == 2, result.output


def test_cli_schema_prints_the_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["scenario", "schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == scenario_json_schema_text()
    assert json.loads(result.stdout) == scenario_json_schema()


def test_cli_schema_writes_and_checks_a_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "scenario.schema.json"
    stale = runner.invoke(app, ["scenario", "schema", "--check", "--output", str(out)])
    assert stale.exit_code == 1
    written = runner.invoke(app, ["scenario", "schema", "--output", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == scenario_json_schema_text()
    fresh = runner.invoke(app, ["scenario", "schema", "--check", "--output", str(out)])
    assert fresh.exit_code == 0, fresh.output
    assert runner.invoke(app, ["scenario", "schema", "--check"]).exit_code == 2


# -------------------------------------------------------------------------------- properties

BASE = yaml.safe_load(VALID)
KEYS = sorted(
    {*Scenario.model_fields, *ACTIONS, "provider", "status", "body", "expect", "save", "auth", "org", "slug"}
)
SCALARS = st.none() | st.booleans() | st.integers(-5, 600) | st.floats(allow_nan=False) | st.text(max_size=12)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _places(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``data``."""
    found: list[tuple[Any, Any]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found.append((data, key))
        found.extend(_places(value))
    return found


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(data)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        operation = draw(st.sampled_from(["drop", "rename", "retype"]))
        if operation == "drop":
            del container[key]
        elif operation == "rename" and isinstance(container, dict):
            new_key = draw(st.sampled_from(KEYS) | st.text(max_size=10))
            container[new_key] = container.pop(key)
        else:
            container[key] = draw(VALUES)
    return data


def _check_outcome(text: str) -> None:
    try:
        scenario = parse_scenario(text, "mutant.yml")
    except ScenarioError as error:
        assert error.message
        assert error.path == "mutant.yml"
        # YAML breaks lines on \n, \r, NEL, LS and PS too (str.splitlines knows them all).
        assert error.line is None or 1 <= error.line <= len(text.splitlines()) + 1
        assert all(isinstance(e, ScenarioError) for e in error.errors)
    else:
        assert isinstance(scenario, Scenario)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_scenarios())
def test_mutated_scenarios_load_or_raise_scenario_error(data: Any) -> None:
    _check_outcome(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@settings(deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_scenario_error(text: str) -> None:
    _check_outcome(text)
