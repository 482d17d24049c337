"""Fault injection around the ports.

* :mod:`harness.faults.plan`: wrappers a test puts around a port to fail (or interleave at) the
  N-th call of a method, which is how the fault-plan tests walk every call of a flow;
* :mod:`harness.faults.backend`: warehouse and KMS faults as scenarios and the control plane arm
  them, in BigQuery's and Cloud KMS's own words, on the fake tier (:mod:`harness.faults.wrappers`)
  and on the wire of the emulators alike (:mod:`harness.faults.calls` aims them the same way).
"""

from harness.faults.backend import ANY, BackendFault, FaultQueue, FaultSpecError, Port, PortCall
from harness.faults.plan import Fault, FaultPlan, FaultyKeyManager, FaultyWarehouse, Hook, Trigger

__all__ = [
    "ANY",
    "BackendFault",
    "Fault",
    "FaultPlan",
    "FaultQueue",
    "FaultSpecError",
    "FaultyKeyManager",
    "FaultyWarehouse",
    "Hook",
    "Port",
    "PortCall",
    "Trigger",
]
