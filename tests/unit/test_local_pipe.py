"""The local cloud's EventBridge Pipe: ParallelizationFactor puts, in order per complaint, off the event loop."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from sevalocal.emulator import PipeRuntime
from sevalocal.template import PipeSpec

from tests.unit.test_local_streams import _insert, _Stream, _version


class _Bus:
    """An event bus whose PutEvents waits until released (a slow bus), noting what it was given and how many
    calls were under way at once."""

    def __init__(self, fail_first: int = 0):
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.events: list[dict] = []
        self.fail_first = fail_first
        self.meta = type("Meta", (), {"endpoint_url": "http://bus.invalid"})()

    def put_events(self, Entries):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            failing = self.fail_first > 0
            self.fail_first -= 1
        try:
            assert self.release.wait(10)
            if failing:
                raise ConnectionError("the bus is unavailable")
            with self.lock:
                self.events += [json.loads(e["Detail"]) for e in Entries]
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}
        finally:
            with self.lock:
                self.now -= 1


class _Queue:
    def __init__(self):
        self.sent: list[str] = []

    def get_queue_url(self, QueueName):
        return {"QueueUrl": f"http://sqs/{QueueName}"}

    def send_message(self, QueueUrl, MessageBody):
        self.sent.append(MessageBody)


def _pipe(records, bus, parallelization: int, max_retries: int = -1, dlq: str | None = None) -> PipeRuntime:
    spec = PipeSpec(
        name="lifecycle",
        source_arn="arn:stream",
        target_arn="arn:aws:events:ap-south-1:123456789012:event-bus/bus",
        starting_position="TRIM_HORIZON",
        batch_size=10,
        parallelization=parallelization,
        max_retries=max_retries,
        dead_letter_arn=dlq,
    )
    return PipeRuntime(spec, _Stream(records), bus, _Queue(), Counter())


def _pump_until(pipe: PipeRuntime, done, timeout: float = 10) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        pipe.pump()
        if done():
            return True
        time.sleep(0.002)  # the event loop's cadence, not a wait for a result
    return done()


def test_with_parallelization_factor_3_the_pipe_has_3_puts_under_way_and_the_event_loop_goes_on():
    # Given a pipe with ParallelizationFactor 3 and a slow bus, and 12 audit items changed 5 times each
    records = [_version(f"c{n % 4}", f"sk{n % 12}", n) for n in range(60)]
    bus = _Bus()
    pipe = _pipe(records, bus, parallelization=3)
    try:
        # When the event loop pumps the pipe while the bus has not answered
        assert _pump_until(pipe, lambda: bus.now == 3, timeout=5)
        pipe.pump()  # (returns at once: the puts run off the loop)
        # Then three batches are under way at once, and the pipe is not idle
        assert bus.now == 3 and not pipe.idle
        # When the bus answers
        bus.release.set()
        assert _pump_until(pipe, lambda: pipe.idle)
    finally:
        bus.release.set()
        pipe.close()
    # Then every change was put once, never more than 3 puts at once, each item's changes in order
    assert len(bus.events) == 60 and bus.most == 3
    for item in range(12):
        mine = [e["dynamodb"]["SequenceNumber"] for e in bus.events if e["dynamodb"]["Keys"]["sk"]["S"] == f"sk{item}"]
        assert mine == sorted(mine) and len(mine) == 5


def test_a_failed_put_is_retried_and_after_its_retries_the_batch_goes_to_the_dead_letter_queue():
    # Given a pipe (one slot, 1 retry, a DLQ) whose bus is down for the first two puts
    records = [_insert("c1", f"2026-12-01T10:00:0{i}#{i}") for i in range(3)]
    bus = _Bus(fail_first=2)
    bus.release.set()
    pipe = _pipe(records, bus, parallelization=1, max_retries=1, dlq="arn:aws:sqs:ap-south-1:123456789012:pipe-dlq")
    try:
        # When the pipe pumps until it has caught up
        assert _pump_until(pipe, lambda: pipe.idle)
    finally:
        pipe.close()
    # Then the batch was tried twice, then sent to the DLQ whole, and nothing reached the bus
    assert pipe.stats["Pipe.lifecycle.retries"] == 2
    assert [len(json.loads(m)) for m in pipe.sqs.sent] == [3]
    assert bus.events == []
