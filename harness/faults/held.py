"""Timeout faults of the served provider emulators, told at once to the harness's own clients.

A timeout fault makes a served provider emulator hold its response until the client gives up
(:mod:`fakes.providers.served`), so a client sees its own read timeout fire, as against a provider
that hangs. That is the point for a user's SDK, but it costs the harness's emulator tier the full
production read timeout (10 s) of real time per timed-out attempt, four of them a scenario.

The harness's emulator-tier clients ask for the answer up front instead: a request carrying
``x-harness-timeout-fault: report`` that would be held is answered at once with a 504 carrying
``x-harness-timeout-fault: held``, and the client's transport raises the ``ReadTimeout`` it would
have raised after waiting (:mod:`harness.backends.held_responses`). Any other client is held, as
before. Only the wait is skipped: the request still crossed the socket, the emulator still logged
it and counted the fault as fired.
"""

TIMEOUT_FAULT_HEADER = "x-harness-timeout-fault"
REPORT = "report"
"""The request's value: answer a held response at once."""
HELD = "held"
"""The response's value: this response would have been held until the client gave up."""
