"""``harness load``: the served api-service and pipeline-service under many concurrent,
scenario-shaped users (Locust), with latency percentiles, error counts by status, exact quota
accounting and leak detection on the served process.

The package needs the ``load`` extra (Locust): only :mod:`harness.cli.load` imports it, after
checking that Locust is installed. Modules:

=================  ====================================================================
``users``          the Locust user: onboard, read, rotate, integrate, run until quota refuses
``locustfile``     the same user for plain ``locust -f`` (one machine, or master and workers)
``ledger``         what each user saw of its org's quota, and the audit against the server's
``served``         the child process that serves both services with tracemalloc on
``probe``          the parent's handle on that child: RSS samples and allocation snapshots
``leaks``          the leak verdict from those figures (and the test-only leak hook)
``report``         the JSON report, its summary lines and the verdict (what fails a run)
``drive``          one whole run: child up, Locust users for a bounded time, drain, audit, report
=================  ====================================================================
"""
