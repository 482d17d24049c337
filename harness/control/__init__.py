"""The control plane: one set of root-key-protected ``/_harness`` routes on every process the
harness serves (each ``harness emulators up`` port, the container image, ``harness serve``'s
api-service port), so a test suite outside this process can do over HTTP what an in-process test
does: reset all state, read and move the clock, mint provider keys, queue and clear provider
faults and warehouse / KMS faults, and read BigQuery and KMS state.

* :mod:`harness.control.target`: what a process lets the controls reach (:class:`Controlled`);
* :mod:`harness.control.routes`: the router factory, :mod:`harness.control.reads` the state reads,
  :mod:`harness.control.org_rows` ``harness serve``'s org-row counts;
* :mod:`harness.control.app`: the controls as an app of their own, put in front of an emulator;
* :mod:`harness.control_client`: the Python client.

This module stays import-light (constants only) so the client can share them without FastAPI.
"""

from __future__ import annotations

CONTROL_PREFIX = "/_harness"
ROOT_KEY_HEADER = "X-CA-Root-Key"

__all__ = ["CONTROL_PREFIX", "ROOT_KEY_HEADER"]
