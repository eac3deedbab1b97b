"""Event-source emulator: runs the real handlers the way ``template.yaml`` wires them.

- Schedule events (EventBridge ``rate()``), invoked asynchronously with Lambda's async retries and the
  function's ``EventInvokeConfig`` on-failure destination.
- DynamoDB stream event source mappings: ``StartingPosition``, ``BatchSize``, ``FilterCriteria`` (EventBridge
  pattern semantics, moto's matcher), ``BisectBatchOnFunctionError``, ``MaximumRetryAttempts``,
  ``FunctionResponseTypes: ReportBatchItemFailures`` and the on-failure destination, one batch in flight per
  shard, records in order.

Time runs ``speed`` times faster than the wall clock for schedules (``--speed 60``: a minute a second);
handlers run at real speed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sevalocal.aws import REGION, infra_client
from sevalocal.faults import FaultPlan
from sevalocal.runtime import worker_main
from sevalocal.template import ACCOUNT, Deployment, FunctionSpec, StreamSource


@dataclass
class InvokeResult:
    ok: bool
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    duration_s: float = 0.0
    crashed: bool = False


@dataclass
class _Invocation:
    event: dict[str, Any]
    on_done: Callable[[InvokeResult], None]
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = 0.0


class FunctionRuntime:
    """A warm worker process (reserved concurrency 1); a crash or timeout costs a cold start."""

    def __init__(self, spec: FunctionSpec, log_dir: Path, faults: FaultPlan, stats: Counter):
        self.spec = spec
        self.log_path = str(log_dir / f"{spec.logical_id}.log")
        self.faults = faults
        self.stats = stats
        self.queue: deque[_Invocation] = deque()
        self.current: _Invocation | None = None
        self.ready = False
        self.process: Any = None
        self.conn: Any = None
        self.durations: list[float] = []
        self.init_durations: list[float] = []
        self._start()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        payload = {
            "env": self.spec.env,
            "code_uri": self.spec.code_uri,
            "handler": self.spec.handler,
            "name": self.spec.name,
            "memory_mb": self.spec.memory_mb,
            "timeout_s": self.spec.timeout_s,
            "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.spec.name}",
        }
        self.process = ctx.Process(target=worker_main, args=(child, payload, self.log_path), daemon=True)
        self.process.start()
        child.close()
        self.conn, self.ready = parent, False
        self.stats[f"{self.spec.logical_id}.cold_starts"] += 1

    def _restart(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()
        self._start()

    @property
    def idle(self) -> bool:
        return self.current is None and not self.queue

    def submit(self, event: dict[str, Any], on_done: Callable[[InvokeResult], None]) -> None:
        self.queue.append(_Invocation(event, on_done))

    def pump(self) -> None:
        if not self.ready:
            if self.conn.poll():
                try:
                    message = self.conn.recv()
                except EOFError:
                    message = {"ready": False, "errorMessage": "worker exited during init"}
                if not message.get("ready"):
                    raise RuntimeError(f"{self.spec.logical_id} failed to initialise: {message}")
                self.init_durations.append(message["init_s"])
                self.ready = True
            elif not self.process.is_alive():
                raise RuntimeError(f"{self.spec.logical_id} worker died during init; see {self.log_path}")
            else:
                return
        if self.current is None and self.queue:
            self.current = self.queue.popleft()
            self.current.started = time.time()
            crash = self.faults.draw(f"crash:{self.spec.logical_id}")
            crash_after = crash.randint(1, 6) if crash else None
            self.stats[f"{self.spec.logical_id}.invocations"] += 1
            self.conn.send(
                {
                    "event": self.current.event,
                    "request_id": self.current.request_id,
                    "crash_after": crash_after,
                }
            )
        if self.current is None:
            return
        result: InvokeResult | None = None
        if self.conn.poll():
            try:
                message = self.conn.recv()
                result = InvokeResult(
                    ok=message["ok"],
                    payload=message.get("result"),
                    error_type=message.get("errorType"),
                    error_message=message.get("errorMessage"),
                    duration_s=message.get("duration_s", 0.0),
                )
            except (EOFError, ConnectionResetError):
                result = None
        if result is None and not self.process.is_alive():
            self.faults.record("crash")
            self.stats[f"{self.spec.logical_id}.crashes"] += 1
            result = InvokeResult(
                ok=False,
                error_type="Runtime.ExitError",
                crashed=True,
                error_message=f"worker exited with {self.process.exitcode}",
            )
            self._restart()
        elif result is None and time.time() - self.current.started > self.spec.timeout_s:
            self.stats[f"{self.spec.logical_id}.timeouts"] += 1
            result = InvokeResult(ok=False, error_type="Sandbox.Timedout", error_message="Task timed out")
            self._restart()
        if result is None:
            return
        invocation, self.current = self.current, None
        self.durations.append(result.duration_s or (time.time() - invocation.started))
        if not result.ok:
            self.stats[f"{self.spec.logical_id}.errors"] += 1
        invocation.on_done(result)

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)


def scheduled_event(rule_arn: str, when: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


class AsyncInvoker:
    """Lambda's asynchronous invocation: retries (1, then 2 minutes later), then the on-failure destination."""

    def __init__(self, runtime: FunctionRuntime, sqs, speed: float, stats: Counter):  # type: ignore[no-untyped-def]
        self.runtime, self.sqs, self.speed, self.stats = runtime, sqs, speed, stats
        self.delayed: list[tuple[float, dict[str, Any], int]] = []
        self.on_result: Callable[[dict[str, Any], InvokeResult], None] | None = None

    def invoke(self, event: dict[str, Any], attempt: int = 0) -> None:
        self.runtime.submit(event, lambda result: self._done(event, attempt, result))

    def _done(self, event: dict[str, Any], attempt: int, result: InvokeResult) -> None:
        if self.on_result:
            self.on_result(event, result)
        if result.ok:
            return
        spec = self.runtime.spec
        if attempt < spec.async_max_retries:
            self.delayed.append((time.time() + 60 * (attempt + 1) / self.speed, event, attempt + 1))
            return
        self.stats[f"{spec.logical_id}.async_failed"] += 1
        if spec.async_on_failure_arn:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": spec.name,
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempt + 1,
                },
                "requestPayload": event,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": {"errorType": result.error_type, "errorMessage": result.error_message},
            }
            self.sqs.send_message(
                QueueUrl=_queue_url(self.sqs, spec.async_on_failure_arn), MessageBody=json.dumps(record)
            )

    def pump(self) -> None:
        now = time.time()
        due = [d for d in self.delayed if d[0] <= now]
        self.delayed = [d for d in self.delayed if d[0] > now]
        for _, event, attempt in due:
            self.invoke(event, attempt)

    @property
    def idle(self) -> bool:
        return not self.delayed


def _queue_url(sqs, arn: str) -> str:  # type: ignore[no-untyped-def]
    name = arn.rsplit(":", 1)[-1]
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def to_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers (``ApproximateCreationDateTime`` as epoch seconds)."""
    ddb = dict(record["dynamodb"])
    created = ddb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        ddb["ApproximateCreationDateTime"] = int(created.timestamp())
    ddb.setdefault("SizeBytes", len(json.dumps(ddb.get("NewImage") or ddb.get("Keys") or {})))
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", REGION),
        "dynamodb": ddb,
        "eventSourceARN": stream_arn,
    }


class _Shard:
    def __init__(self, shard_id: str, iterator: str):
        self.shard_id = shard_id
        self.iterator: str | None = iterator
        self.buffer: deque[dict[str, Any]] = deque()
        self.inflight = False
        self.attempts = 0
        self.window = 0
        self.caught_up = False
        self.next_fetch = 0.0


class StreamMapping:
    def __init__(
        self,
        spec: FunctionSpec,
        source: StreamSource,
        runtime: FunctionRuntime,  # type: ignore[no-untyped-def]
        streams,
        sqs,
        stats: Counter,
    ):
        from moto.events.models import EventPattern  # EventBridge pattern semantics, as Lambda filtering uses

        self.spec, self.source, self.runtime, self.streams, self.sqs, self.stats = (
            spec,
            source,
            runtime,
            streams,
            sqs,
            stats,
        )
        self.patterns = [EventPattern.load(p) for p in source.filters]
        self.label = f"{spec.logical_id}.{source.name}"
        self.shards: list[_Shard] = []
        description = streams.describe_stream(StreamArn=source.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=source.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=source.starting_position,
            )["ShardIterator"]
            self.shards.append(_Shard(shard["ShardId"], iterator))
        self.on_batch: Callable[[str, list[dict[str, Any]], InvokeResult], None] | None = None

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(p.matches_event(record) for p in self.patterns)

    @property
    def idle(self) -> bool:
        return all(s.caught_up and not s.buffer and not s.inflight for s in self.shards)

    def pump(self) -> None:
        for shard in self.shards:
            self._pump_shard(shard)

    def _pump_shard(self, shard: _Shard) -> None:
        if shard.inflight:
            return
        now = time.time()
        if shard.iterator and len(shard.buffer) < self.source.batch_size and now >= shard.next_fetch:
            out = self.streams.get_records(ShardIterator=shard.iterator, Limit=1000)
            shard.iterator = out.get("NextShardIterator")
            records = out.get("Records") or []
            shard.caught_up = not records
            shard.next_fetch = now + (0.05 if not records else 0)
            for raw in records:
                record = to_lambda_record(raw, self.source.stream_arn)
                if self._matches(record):
                    shard.buffer.append(record)
                else:
                    self.stats[f"{self.label}.filtered_out"] += 1
        if not shard.buffer:
            return
        window = shard.window or self.source.batch_size
        batch = [shard.buffer[i] for i in range(min(window, len(shard.buffer)))]
        shard.inflight = True
        self.stats[f"{self.label}.batches"] += 1
        self.runtime.submit({"Records": batch}, lambda result: self._done(shard, batch, result))

    def _done(self, shard: _Shard, batch: list[dict[str, Any]], result: InvokeResult) -> None:
        shard.inflight = False
        if self.on_batch:
            self.on_batch(self.label, batch, result)
        if result.ok:
            failed_from = self._first_failure(batch, result.payload)
            if failed_from is None:
                self._checkpoint(shard, len(batch))
                shard.attempts, shard.window = 0, 0
                return
            self._checkpoint(shard, failed_from)
            batch = batch[failed_from:]
        elif self.source.bisect and len(batch) > 1:
            shard.window = len(batch) // 2  # bisect: retry the halves separately
            return
        shard.attempts += 1
        self.stats[f"{self.label}.retries"] += 1
        if 0 <= self.source.max_retries < shard.attempts:
            self._to_destination(shard, batch, result)
            self._checkpoint(shard, len(batch))
            shard.attempts, shard.window = 0, 0

    def _first_failure(self, batch: list[dict[str, Any]], payload: Any) -> int | None:
        if not self.source.report_failures or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures") or []
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        indices = []
        for failure in failures:
            ident = (failure or {}).get("itemIdentifier")
            if ident not in sequence:
                return 0  # an invalid identifier fails the whole batch, as in Lambda
            indices.append(sequence.index(ident))
        return min(indices)

    def _checkpoint(self, shard: _Shard, count: int) -> None:
        for _ in range(count):
            shard.buffer.popleft()

    def _to_destination(self, shard: _Shard, batch: list[dict[str, Any]], result: InvokeResult) -> None:
        self.stats[f"{self.label}.to_on_failure"] += len(batch)
        if not self.source.on_failure_arn:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.spec.name,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": shard.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": datetime.fromtimestamp(
                    first.get("ApproximateCreationDateTime", 0), UTC
                ).isoformat(),
                "approximateArrivalOfLastRecord": datetime.fromtimestamp(
                    last.get("ApproximateCreationDateTime", 0), UTC
                ).isoformat(),
                "batchSize": len(batch),
                "streamArn": self.source.stream_arn,
            },
            "errorType": result.error_type,
            "errorMessage": result.error_message,
        }
        self.sqs.send_message(
            QueueUrl=_queue_url(self.sqs, self.source.on_failure_arn),
            MessageBody=json.dumps(record, default=str),
        )


class Emulator:
    def __init__(
        self,
        deployment: Deployment,
        endpoint: str,
        *,
        speed: float = 60.0,
        faults: FaultPlan | None = None,
        log_dir: str | Path = ".localcloud/logs",
    ):
        self.deployment = deployment
        self.speed = speed
        self.faults = faults or FaultPlan()
        self.stats: Counter = Counter()
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.sqs = infra_client("sqs", endpoint)
        self.streams = infra_client("dynamodbstreams", endpoint)
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.async_invokers: dict[str, AsyncInvoker] = {}
        self.mappings: list[StreamMapping] = []
        self.schedules: list[tuple[FunctionSpec, str, float, float]] = []  # spec, rule arn, period, next
        self.started = time.time()
        self.paused = False  # schedules stopped (the run is ending)
        for spec in deployment.functions:
            runtime = FunctionRuntime(spec, self.log_dir, self.faults, self.stats)
            self.runtimes[spec.logical_id] = runtime
            self.async_invokers[spec.logical_id] = AsyncInvoker(runtime, self.sqs, speed, self.stats)
            for schedule in spec.schedules:
                if schedule.enabled:
                    period = schedule.period_s / speed
                    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{spec.name}-{schedule.name}"
                    self.schedules.append((spec, rule, period, self.started + period))
            for source in spec.streams:
                if source.enabled:
                    self.mappings.append(StreamMapping(spec, source, runtime, self.streams, self.sqs, self.stats))

    def scenario_seconds(self) -> float:
        return (time.time() - self.started) * self.speed

    def tick(self) -> None:
        now = time.time()
        for i, (spec, rule, period, due) in enumerate(self.schedules if not self.paused else ()):
            if now >= due:
                self.stats[f"{spec.logical_id}.scheduled"] += 1
                runtime = self.runtimes[spec.logical_id]
                if any(inv.event.get("source") == "aws.events" for inv in runtime.queue):
                    # Reserved concurrency 1 and a run still waiting: Lambda would throttle this event;
                    # the waiting run covers it (a poll cycle always catches up from its cursors).
                    self.stats[f"{spec.logical_id}.schedule_coalesced"] += 1
                else:
                    self.async_invokers[spec.logical_id].invoke(scheduled_event(rule, datetime.now(UTC)))
                self.schedules[i] = (spec, rule, period, due + period)
        for invoker in self.async_invokers.values():
            invoker.pump()
        for mapping in self.mappings:
            mapping.pump()
        for runtime in self.runtimes.values():
            runtime.pump()

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while not all(r.ready for r in self.runtimes.values()):
            if time.time() > deadline:
                raise TimeoutError("function workers did not initialise")
            for runtime in self.runtimes.values():
                runtime.pump()
            time.sleep(0.01)
        self.started = time.time()
        self.schedules = [(s, r, p, self.started + p) for s, r, p, _ in self.schedules]

    @property
    def idle(self) -> bool:
        return (
            all(m.idle for m in self.mappings)
            and all(r.idle for r in self.runtimes.values())
            and all(a.idle for a in self.async_invokers.values())
        )

    @property
    def streams_idle(self) -> bool:
        """Every stream mapping has caught up and has nothing in flight (scheduled runs may still be going)."""
        return all(m.idle for m in self.mappings)

    def run_until(self, done: Callable[[], bool], timeout: float, tick_s: float = 0.005) -> bool:
        """Drive the event sources until ``done()`` or the wall-clock ``timeout``; True if done."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.tick()
            if done():
                return True
            time.sleep(tick_s)  # the emulator's event-loop cadence, not a wait for a result
        return done()

    def quiesce(self, timeout: float) -> bool:
        """Stop the schedules and let what is running finish (invocations in flight, stream batches), so a
        report read afterwards counts whole runs. True if everything came to rest within ``timeout``."""
        self.paused = True
        return self.run_until(
            lambda: all(m.idle for m in self.mappings) and all(r.idle for r in self.runtimes.values()),
            timeout=timeout,
        )

    def close(self) -> None:
        for runtime in self.runtimes.values():
            runtime.close()
