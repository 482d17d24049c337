"""Root conftest for the CloudAct harness.

Deliberately almost empty: the ``harness`` package is installed editable (``./run_e2e.sh setup``),
so nothing is added to ``sys.path`` here, and the options, markers, hypothesis profiles and
fixtures live in the ``harness.pytest_plugin`` entry point, which also serves pytester runs.

Later, the scenario files under ``scenarios/`` (``*.yml``, regressions included) will be collected
as test items from here.
"""
