"""The local cloud's function pool: who waits for a worker in what order."""

from __future__ import annotations

from collections import Counter

from sevalocal.emulator import CpuClass, FunctionPool
from sevalocal.faults import FaultPlan
from sevalocal.template import FunctionSpec


def test_a_p1_queues_invocation_goes_ahead_of_other_waiting_work_in_arrival_order(tmp_path):
    # Given a function's pool with no free worker (none started) and a backlog waiting for one
    spec = FunctionSpec("Fn", "fn", "app.handler", str(tmp_path), {}, 30.0, 128)
    pool = FunctionPool(spec, tmp_path, FaultPlan(), Counter(), 60.0, 1)
    pool.submit({"n": "batch-1"}, lambda result: None, CpuClass.BATCH)
    pool.submit({"n": "schedule"}, lambda result: None)
    # When two SOS invocations arrive, and more backlog after them
    pool.submit({"n": "sos-1"}, lambda result: None, CpuClass.FIRST)
    pool.submit({"n": "batch-2"}, lambda result: None, CpuClass.BATCH)
    pool.submit({"n": "sos-2"}, lambda result: None, CpuClass.FIRST)
    # Then the SOS wait first, in the order they came, and the rest as they came
    assert [i.event["n"] for i in pool.waiting] == ["sos-1", "sos-2", "batch-1", "schedule", "batch-2"]
