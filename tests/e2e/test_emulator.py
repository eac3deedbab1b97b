"""The event-source emulator wires handlers as the template says, with Lambda's stream semantics, and builds
events shaped like the real samples."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sevalocal.aws import infra_client, moto_app
from sevalocal.emulator import Emulator, scheduled_event, to_lambda_record
from sevalocal.fakex import ServerThread
from sevalocal.faults import FaultPlan
from sevalocal.template import deploy

from tests.conftest import shared_file

FIXTURES = Path(__file__).parent / "fixtures"


def shape(value):
    """The structure of a JSON value: keys and types, not values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.fixture(scope="module")
def aws():
    with ServerThread(moto_app(FaultPlan())) as server:
        yield server.url


def test_scheduled_event_matches_the_real_sample_shape():
    sam_sample = json.loads(shared_file("events", "sam-cli", "ScheduledEvent.json").read_text())
    full_sample = json.loads(shared_file("events", "powertools", "eventBridgeEvent.json").read_text())
    ours = scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/x", datetime.now(UTC))
    # Every field of the SAM CLI sample, same types; nothing EventBridge would not send
    assert {k: shape(ours[k]) for k in sam_sample} == shape(sam_sample)
    assert set(ours) <= set(full_sample)
    assert ours["version"] == full_sample["version"]
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    assert parse(event=ours, model=EventBridgeModel).detail_type == "Scheduled Event"


def test_stream_records_match_the_real_sample_shape(aws):
    sample = json.loads(shared_file("events", "sam-cli", "DynamoDBUpdate.json").read_text())["Records"]
    deployment = deploy(FIXTURES / "probe_template.yaml", aws, stack="shape")
    table = deployment.tables["SourceTable"]
    ddb, streams = infra_client("dynamodb", aws), infra_client("dynamodbstreams", aws)
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "v": {"S": "a"}})
    ddb.put_item(TableName=table, Item={"id": {"S": "1"}, "v": {"S": "b"}})
    arn = deployment.attributes[("SourceTable", "StreamArn")]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = [to_lambda_record(r, arn) for r in streams.get_records(ShardIterator=it)["Records"]]
    by_name = {r["eventName"]: r for r in records}
    for sample_record in sample:
        if sample_record["eventName"] in by_name:
            ours = by_name[sample_record["eventName"]]
            assert set(ours) == set(sample_record)
            assert set(ours["dynamodb"]) == set(sample_record["dynamodb"])
            assert {k: shape(v) for k, v in ours.items() if k != "dynamodb"} == {
                k: shape(v) for k, v in sample_record.items() if k != "dynamodb"
            }
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    event = DynamoDBStreamEvent({"Records": records})
    assert [r.event_name.name for r in event.records] == ["INSERT", "MODIFY"]
    assert next(iter(event.records)).dynamodb.new_image["v"] == "a"


def test_stream_mappings_filter_bisect_retry_and_send_failures_to_the_destination(aws, tmp_path):
    # Given the probe template: a bisecting function (retries 1) and a partial-batch function (retries 2)
    deployment = deploy(FIXTURES / "probe_template.yaml", aws, stack="probe")
    env = {
        "AWS_ENDPOINT_URL": aws,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "ap-south-1",
        "AWS_DEFAULT_REGION": "ap-south-1",
    }
    for spec in deployment.functions:
        spec.env.update(env)
    emulator = Emulator(deployment, aws, speed=60, log_dir=tmp_path)
    try:
        emulator.wait_ready()
        ddb = infra_client("dynamodb", aws)
        table = deployment.tables["SourceTable"]
        # When 12 items are inserted (item 4 poisons any batch, item 7 is reported as failed) and one modified
        for i in range(12):
            mode = {4: "poison", 7: "report"}.get(i, "ok")
            ddb.put_item(TableName=table, Item={"id": {"S": str(i)}, "kind": {"S": "probe"}, "mode": {"S": mode}})
        ddb.put_item(TableName=table, Item={"id": {"S": "0"}, "kind": {"S": "probe"}, "mode": {"S": "ok"}})
        assert emulator.run_until(lambda: emulator.idle and _dlq(aws, deployment) >= 2, timeout=60)
    finally:
        emulator.close()
    seen = _seen(aws, deployment)
    # Then the filter delivered INSERTs only, batch sizes were respected
    assert {e for (_, _, e, _) in seen} == {"INSERT"}
    assert max(b for (p, _, _, b) in seen if p == "bisect") <= 8
    assert max(b for (p, _, _, b) in seen if p == "report") <= 5
    # And the bisecting function isolated the poison record: everything else succeeded
    bisect_ok = {i for (p, i, _, _) in seen if p == "bisect"}
    assert bisect_ok == {str(i) for i in range(12)}
    # And the reporting function retried from the reported record only: records before it in its batch ran once
    report_counts = Counter(i for (p, i, _, _) in seen if p == "report")
    assert report_counts["7"] == 3  # first try + MaximumRetryAttempts 2
    assert report_counts["5"] == report_counts["6"] == 1
    # And the destination received one record per exhausted batch, in Lambda's on-failure format:
    # the poison record alone (bisected down to it), and the reporting function's batch from record 7 on
    messages = _dlq_messages(aws, deployment)
    assert sorted(m["DDBStreamBatchInfo"]["batchSize"] for m in messages) == [1, 5]
    assert {m["requestContext"]["condition"] for m in messages} == {"RetryAttemptsExhausted"}
    stream_arn = deployment.attributes[("SourceTable", "StreamArn")]
    assert all(m["DDBStreamBatchInfo"]["streamArn"] == stream_arn for m in messages)


def _seen(aws, deployment):
    ddb = infra_client("dynamodb", aws)
    items = ddb.scan(TableName=deployment.tables["SeenTable"], ConsistentRead=True)["Items"]
    return [(i["pk"]["S"].split("#")[0], i["id"]["S"], i["event"]["S"], int(i["batch"]["N"])) for i in items]


def _dlq(aws, deployment) -> int:
    sqs = infra_client("sqs", aws)
    url = deployment.queues["ProbeDLQ"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def _dlq_messages(aws, deployment):
    sqs = infra_client("sqs", aws)
    url = deployment.queues["ProbeDLQ"]
    out, deadline = [], time.time() + 10
    while time.time() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        out += [json.loads(m["Body"]) for m in batch]
    return out


def _lane_rows(aws, deployment):
    ddb = infra_client("dynamodb", aws)
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=deployment.tables["SeenTable"], ConsistentRead=True):
        items += page["Items"]
    return [
        {
            "id": i["id"]["S"],
            "v": i["v"]["S"],
            "lane": i["lane"]["S"].rsplit(":", 1)[-1],
            "started": float(i["started"]["N"]),
            "ended": float(i["ended"]["N"]),
            "request": i["request"]["S"],
            "batch": int(i["batch"]["N"]),
            "nice": int(i["nice"]["N"]),
            "pid": int(i["pid"]["N"]),
        }
        for i in items
    ]


def _most_at_once(rows) -> int:
    spans = {}
    for r in rows:
        start, end = spans.get(r["request"], (r["started"], r["ended"]))
        spans[r["request"]] = (min(start, r["started"]), max(end, r["ended"]))
    points = sorted([(s, 1) for s, _ in spans.values()] + [(e, -1) for _, e in spans.values()])
    most = current = 0
    for _, step in points:
        current += step
        most = max(most, current)
    return most


def _deploy_lanes(aws, stack):
    """The lanes fixture deployed, its functions pointed at the local AWS."""
    deployment = deploy(FIXTURES / "lanes_template.yaml", aws, stack=stack)
    for spec in deployment.functions:
        spec.env.update(
            AWS_ENDPOINT_URL=aws,
            AWS_ACCESS_KEY_ID="t",
            AWS_SECRET_ACCESS_KEY="t",
            AWS_REGION="ap-south-1",
            AWS_DEFAULT_REGION="ap-south-1",
        )
    return deployment


def test_a_pipe_feeds_priority_lanes_that_run_while_the_normal_lane_is_saturated(aws, tmp_path):
    # Given a pipe from a table's stream to an event bus whose rules split P1 from the rest into two SQS
    # lanes of one function (reserved concurrency 4, each lane at most 2 at once)
    deployment = _deploy_lanes(aws, stack="lanes")
    emulator = Emulator(deployment, aws, speed=60, log_dir=tmp_path)
    ddb = infra_client("dynamodb", aws)
    table = deployment.tables["SourceTable"]
    try:
        emulator.wait_ready()
        # When a backlog of 24 slow routine records arrives, then 3 P1 records, plus one record that always
        # fails and one the pipe filters out
        for i in range(24):
            item = {"id": {"S": f"r{i}"}, "kind": {"S": "lane"}, "priority": {"S": "P3"}, "mode": {"S": "slow"}}
            ddb.put_item(TableName=table, Item=item)
        ddb.put_item(
            TableName=table,
            Item={"id": {"S": "bad"}, "kind": {"S": "lane"}, "priority": {"S": "P2"}, "mode": {"S": "fail"}},
        )
        ddb.put_item(TableName=table, Item={"id": {"S": "other"}, "kind": {"S": "other"}, "priority": {"S": "P1"}})
        emulator.run_until(lambda: emulator.stats["LaneFunction.Slow.batches"] >= 2, timeout=60)
        for i in range(3):
            ddb.put_item(TableName=table, Item={"id": {"S": f"sos{i}"}, "kind": {"S": "lane"}, "priority": {"S": "P1"}})
        dlq = deployment.queues["SlowDLQ"]
        assert emulator.run_until(
            lambda: emulator.idle and emulator.streams_idle and _depth(aws, dlq) == 1, timeout=120
        ), dict(emulator.stats)
    finally:
        emulator.close()
    rows = _lane_rows(aws, deployment)
    by_id = {}
    for r in rows:
        by_id.setdefault(r["id"], []).append(r)
    # Then every routine record ran once, each SOS once, on its lane; the filtered record never ran
    assert {f"r{i}" for i in range(24)} | {f"sos{i}" for i in range(3)} | {"bad"} == set(by_id)
    assert all(len(by_id[f"sos{i}"]) == 1 and by_id[f"sos{i}"][0]["batch"] == 1 for i in range(3))
    assert {r["lane"] for i in range(3) for r in by_id[f"sos{i}"]} == {"lanes-FastQueue"}
    # And the SOS finished while the routine backlog was still being worked through
    routine_end = max(r["ended"] for i in range(24) for r in by_id[f"r{i}"])
    assert max(r["ended"] for i in range(3) for r in by_id[f"sos{i}"]) < routine_end
    # And the routine lane never ran more than its 2 at once, batches of at most 4; two ran at once
    slow = [r for r in rows if r["lane"] == "lanes-SlowQueue"]
    assert max(r["batch"] for r in slow) <= 4
    assert _most_at_once(slow) == 2
    assert _most_at_once(rows) <= 4
    # And the record that kept failing went to the DLQ after maxReceiveCount (2) receives
    assert len(by_id["bad"]) == 2
    # And every invocation ran at the emulator's own CPU priority (P1 first on the CPU is not the default)
    assert {r["nice"] for r in rows} == {os.getpriority(os.PRIO_PROCESS, 0)}


@pytest.mark.skipif(os.geteuid() != 0, reason="lowering a worker's niceness again needs CAP_SYS_NICE (root)")
def test_with_p1_cpu_first_the_backlogs_batches_run_below_the_p1_lane_on_the_cpu(aws, tmp_path):
    # Given the lanes (the P1 lane's queue tagged seva:priority=P1) and a stream mapping, P1 lanes first on the CPU
    deployment = _deploy_lanes(aws, stack="cpufirst")
    # (one worker a function: it serves both lanes, and invocations wait for it)
    emulator = Emulator(deployment, aws, speed=60, log_dir=tmp_path, p1_cpu_first=True, max_workers=1)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    ddb = infra_client("dynamodb", aws)
    table = deployment.tables["SourceTable"]
    try:
        emulator.wait_ready()
        # When routine records, SOS records and stream records arrive, interleaved
        for i in range(8):
            lane = {"id": {"S": f"r{i}"}, "kind": {"S": "lane"}, "priority": {"S": "P3"}, "mode": {"S": "slow"}}
            ddb.put_item(TableName=table, Item=lane)
            ddb.put_item(TableName=table, Item={"id": {"S": f"p{i}"}, "kind": {"S": "parallel"}, "v": {"S": "0"}})
            if i % 2:
                sos = {"id": {"S": f"sos{i}"}, "kind": {"S": "lane"}, "priority": {"S": "P1"}}
                ddb.put_item(TableName=table, Item=sos)
        assert emulator.run_until(lambda: emulator.idle and emulator.streams_idle, timeout=120), dict(emulator.stats)
    finally:
        emulator.close()
    rows = _lane_rows(aws, deployment)
    by_lane: dict[str, set[int]] = {}
    for r in rows:
        by_lane.setdefault(r["lane"], set()).add(r["nice"])
    # Then the P1 lane's invocations ran at the emulator's own niceness, the backlog's (the untagged queue's and
    # the stream's batches) 10 steps lower, on the same workers, and nothing was refused
    assert by_lane == {
        "cpufirst-FastQueue": {base},
        "cpufirst-SlowQueue": {min(19, base + 10)},
        "parallel": {min(19, base + 10)},
    }
    assert sum(1 for r in rows if r["lane"] == "cpufirst-FastQueue") == 4
    # (a worker that ran a backlog's batch and then an SOS had its niceness lowered again)
    workers = {lane: {r["pid"] for r in rows if r["lane"] == lane} for lane in by_lane}
    assert workers["cpufirst-FastQueue"] & workers["cpufirst-SlowQueue"]
    assert emulator.stats["cpu_first_refused"] == 0


def test_parallelization_factor_runs_batches_of_one_shard_at_once_in_order_per_key(aws, tmp_path):
    deployment = _deploy_lanes(aws, stack="parallel")
    emulator = Emulator(deployment, aws, speed=60, log_dir=tmp_path)
    ddb = infra_client("dynamodb", aws)
    table = deployment.tables["SourceTable"]
    try:
        emulator.wait_ready()
        # When 12 keys are written three times each (slow records)
        for version in range(3):
            for key in range(12):
                item = {
                    "id": {"S": f"k{key}"},
                    "kind": {"S": "parallel"},
                    "mode": {"S": "slow"},
                    "v": {"S": str(version)},
                }
                ddb.put_item(TableName=table, Item=item)
        assert emulator.run_until(lambda: emulator.idle, timeout=120)
    finally:
        emulator.close()
    rows = [r for r in _lane_rows(aws, deployment) if r["lane"] == "parallel"]
    # Then up to 3 batches ran at once (ParallelizationFactor 3), and each key's versions ran in order
    assert _most_at_once(rows) == 3
    for key in range(12):
        versions = [r["v"] for r in sorted((r for r in rows if r["id"] == f"k{key}"), key=lambda r: r["started"])]
        assert versions == ["0", "1", "2"]


def _depth(aws, url) -> int:
    attrs = infra_client("sqs", aws).get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
