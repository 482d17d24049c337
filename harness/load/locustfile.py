"""The load users for plain ``locust -f`` (``harness load`` runs the same users itself).

Against a running ``harness serve`` (fake tier; the api-service on 8000, the pipeline-service on
8001)::

    locust -f harness/load/locustfile.py --headless --users 1000 --spawn-rate 50 --run-time 60s \\
        --stop-timeout 120 --host http://127.0.0.1:8000 --pipeline-host http://127.0.0.1:8001

When one machine is not enough, the same file runs distributed: one master, N workers (each a
process with its own orgs; the master sums the statistics)::

    locust -f harness/load/locustfile.py --master --headless --users 1000 --spawn-rate 50 \\
        --run-time 60s --stop-timeout 120 --expect-workers 4 --host http://SERVE:8000 \\
        --pipeline-host http://SERVE:8001
    locust -f harness/load/locustfile.py --worker --master-host MASTER   # on each worker

Extra options: ``--pipeline-host``, ``--root-key`` (or ``CA_ROOT_API_KEY``; the local default
otherwise), ``--provider openai|anthropic``, ``--rounds N`` (steady-state rounds per user after the
quota refused it; 0 = until the run time ends). A quota counter that does not match the runs a
user was given shows as a failed ``audit_quota`` request; a 429 without ``Retry-After`` as a failed
``run_pipeline``. Memory growth and the leak verdict need ``harness load``, which serves the
services itself and watches that process.
"""

from harness.load.users import OrgUser

__all__ = ["OrgUser"]
