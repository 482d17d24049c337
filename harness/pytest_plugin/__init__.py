"""pytest plugin: options, markers, hypothesis profiles, fixtures and scenario items for the harness.

Registered as the ``harness`` pytest11 entry point, so every pytest run in an environment where
the project is installed loads it (pytester runs included). This module only wires the parts:
pytest registers every module in :data:`pytest_plugins` with their hooks and fixtures when it
registers this one (and ``-p no:harness`` disables them all together).

Options (:mod:`~harness.pytest_plugin.options`)
    ``--backend {fake,emulator,gcp}[,...]``  tier(s) the tests run against (default:
    ``$HARNESS_BACKEND`` or ``fake``); with several, tier-aware tests and scenario items run on each
    (:mod:`~harness.pytest_plugin.tiers`).
    ``--run-integration``  enable tests that need real cloud services; ``--backend gcp`` without it
    is a usage error. ``--api-url URL --pipeline-url URL``  point ``api_client``,
    ``pipeline_client``, ``onboarded_org`` and the scenario items at running services instead of
    in-process apps (the two go together). ``--scenario PATTERN``  run only the scenario items whose
    name or path matches (a glob, else a substring; repeatable); other tests are unaffected.
    ``--harness-isolation {function,session}`` (ini ``harness_isolation``)  whether the emulators
    behind the client fixtures are reset before every test (default) or kept for the run.
    ``--quick`` (:mod:`~harness.pytest_plugin.quick`)  the inner loop: the fake tier only, without
    the tests marked ``slow``, ``emulator``, ``requires_docker``, ``gcp`` or ``integration``.

Markers (:mod:`~harness.pytest_plugin.markers`)
    ``gcp``, ``integration`` (skipped unless ``--run-integration``; ``gcp`` also needs
    ``--backend gcp``), ``emulator``, ``requires_docker`` (when no Docker daemon answers: an error,
    or a skip with ``HARNESS_SKIP_DOCKER=1``; the probe is :mod:`~harness.pytest_plugin.probes`),
    ``slow``, ``scenario`` (set on every scenario item).
    ``harness(tier=..., seed=..., data=...)`` (:mod:`~harness.pytest_plugin.mark`)  run the test on
    those tiers only (whatever ``--backend`` says; gcp still needs ``--run-integration --backend
    gcp``), with that seed for the fakes (the ``harness_seed`` fixture), the emulators behind the
    client fixtures seeded from the ``data=`` files (:mod:`harness.seeding`; skipped on gcp). Every
    marked test is checked at collection.

Fixtures (:mod:`~harness.pytest_plugin.fixtures`; for the harness's tests and a user's own suite)
    ``harness_tier``   the tier a test runs on; with several ``--backend`` tiers, every test that
                       uses it (directly or through the fixtures below) runs once per tier.
    ``harness_backends``  the tier's backends (:func:`harness.backends.build_backends`), bootstrapped,
                       fresh per test, on the ``clock`` fixture's clock (not on gcp); skipped
                       against live services.
    ``api_client``, ``pipeline_client``  httpx clients of the two services: ``TestClient`` over the
                       shared ``harness_backends``, or clients of ``--api-url``/``--pipeline-url``.
    ``onboarded_org``  factory: ``onboarded_org(plan="STARTER", slug=None)`` onboards an org and
                       returns an :class:`~harness.pytest_plugin.fixtures.OnboardedOrg` (``slug``,
                       ``api_key``, ``headers``); every org it made is offboarded (``DELETE`` with
                       the root key) at teardown.
    ``clock``          a :class:`~harness.clock.ManualClock`; the backends' clock when
                       ``harness_backends`` is used, so ``clock.advance(...)`` moves quotas, TTLs and
                       the streaming buffer.
    ``openai_fake``, ``anthropic_fake``  the provider fakes' state (mint keys, inject faults); the
                       emulators' on the emulator tier; skipped on gcp.
    ``harness_settings``  the service :class:`~harness.services.settings.Settings` (from the env).
    ``harness_emulators``  session-wide :class:`~harness.emulators.Emulators` on free ports in a
                       background thread, for a user's own clients (``.env()``).

Fixtures for a user's own clients (:mod:`~harness.pytest_plugin.clients`; tier-aware)
    ``bigquery_client``, ``kms_client``  the official Google clients on the session's emulators
                       (anonymous credentials) on fake and emulator, on real GCP on gcp.
    ``kms_key_name``   a symmetric key for the test (new on the emulators; one reused key on gcp,
                       where keys cannot be deleted). ``bigquery_dataset``  a unique dataset,
                       deleted with its contents afterwards on every tier.
    ``openai_client``, ``anthropic_client``  the official SDKs (imported only when used) on the
                       provider emulators with keys they minted, or with the real keys on gcp.
    ``harness_emulator_state``  the emulators behind them, reset for the test under function
                       isolation (``.openai.add_fault(...)``...); skipped on gcp.

Containers (:mod:`~harness.pytest_plugin.containers`; need Docker and the ``containers`` extra)
    ``harness_emulator_container``, ``harness_goccy_container``  session-wide testcontainers of
                       this repo's emulator image and of goccy's BigQuery emulator; a test that uses
                       one is marked ``requires_docker``.

Scenario files (:mod:`~harness.pytest_plugin.collection`)
    :func:`~harness.pytest_plugin.collection.collect_scenario_file` turns a scenario YAML file into
    a ``ScenarioItem`` that loads it (:mod:`harness.scenario.loader`), runs it
    (:func:`harness.scenario.runner.run_scenario`, as ``harness run`` does) on the selected tier and
    shows the run's failure report and step lines when it fails. The repository's root
    ``conftest.py`` uses it for ``scenarios/**/*.yml``; a user's conftest can do the same.

pytest-html (:mod:`~harness.pytest_plugin.html_report`)
    With pytest-html's ``--html``, each scenario item's row carries a ``harness`` section: the
    run's step timeline, faults, retries and collapsed exchanges, as ``harness run --html`` draws.

Hypothesis profiles (:mod:`~harness.pytest_plugin.profiles`; registered at import, chosen with
``$HARNESS_HYPOTHESIS_PROFILE``)
    ``default``  50 examples, no deadline, ``too_slow`` health check suppressed.
    ``ci``       ``default`` + ``derandomize=True``, no example database, failure blobs printed:
                 the same examples on every run, so CI never fails on a draw a developer cannot
                 reproduce. Used when the variable is unset and Hypothesis detects a CI
                 environment (``CI`` etc.); otherwise ``default`` is.
    ``nightly``  ``default`` with 1000 examples, for the scheduled deep run.
    ``--hypothesis-profile`` (Hypothesis's own option) still wins when given.
"""

pytest_plugins = [
    "harness.pytest_plugin.profiles",
    "harness.pytest_plugin.options",
    "harness.pytest_plugin.tiers",
    "harness.pytest_plugin.markers",
    "harness.pytest_plugin.quick",
    "harness.pytest_plugin.mark",
    "harness.pytest_plugin.fixtures",
    "harness.pytest_plugin.clients",
    "harness.pytest_plugin.containers",
    "harness.pytest_plugin.collection",
    "harness.pytest_plugin.snapshots",
    "harness.pytest_plugin.html_report",
]
