"""Handlers in-process against a moto server and the fake X server, both over real HTTP on loopback."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from sevalocal.aws import moto_app
from sevalocal.emulator import scheduled_event
from sevalocal.fakex import FakeX, ServerThread, snowflake
from sevalocal.faults import FaultPlan
from sevalocal.template import Deployment, deploy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Context:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:ap-south-1:123456789012:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture(scope="session")
def aws_server():
    app = moto_app(FaultPlan())
    with ServerThread(app) as server:
        yield server.url, app


@pytest.fixture(scope="session")
def aws_url(aws_server):
    return aws_server[0]


@pytest.fixture
def stack(aws_url, monkeypatch) -> Iterator[Deployment]:
    """The template deployed to the local cloud. Every AWS call a handler makes during the test must be allowed by
    that function's role in the template (tests/integration/iam.py): the test fails on a call IAM would deny."""
    from tests.integration.iam import Policy, Recorder, patch

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_url)
    deployment = deploy(ROOT / "template.yaml", aws_url, stack=f"t{uuid.uuid4().hex[:10]}")
    recorder = Recorder()
    patch(monkeypatch, recorder)
    yield deployment
    denied = Policy(deployment).denied(recorder)
    import os

    if os.environ.get("SEVA_IAM_DUMP"):  # what the handlers asked for, to compare with the grants (tests/policy)
        policy = Policy(deployment)
        with open(os.environ["SEVA_IAM_DUMP"], "a") as out:
            for call in recorder.calls:
                for c in policy.calls(*call):
                    out.write(
                        f"{c.function} {c.action} {c.resource.split(':')[-1].split('/', 1)[-1]} {c.leading_keys}\n"
                    )
    assert not denied, f"AWS calls the function's role does not allow: {denied}"


@pytest.fixture
def fake_x():
    x = FakeX(speed=60.0)
    with ServerThread(x.wsgi) as server:
        x.url = server.url  # type: ignore[attr-defined]
        yield x


@pytest.fixture
def registry_file(tmp_path) -> Path:
    handles = [
        {"username": "Uppolice", "name": "UP Police", "kind": "state"},
        {"username": "lucknowpolice", "name": "Lucknow", "kind": "district", "district_code": 162},
        {"username": "agrapolice", "name": "Agra", "kind": "district", "district_code": 118},
    ]
    path = tmp_path / "handles.json"
    path.write_text(json.dumps({"handles": handles}))
    return path


class TestClock:
    """Time for the fake X and the handlers in this process: tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(fake_x, monkeypatch) -> TestClock:
    from datetime import UTC, datetime

    import seva.bootstrap

    test_clock = TestClock()
    fake_x.clock = test_clock
    monkeypatch.setattr(seva.bootstrap, "utcnow", lambda: datetime.fromtimestamp(test_clock(), UTC))
    return test_clock


@pytest.fixture
def poll_env(stack, fake_x, registry_file, monkeypatch, aws_url, clock):
    """The PollFunction's environment exactly as the template declares it, pointed at the local cloud."""
    spec = next(f for f in stack.functions if f.logical_id == "PollFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("X_API_BASE_URL", fake_x.url)
    monkeypatch.setenv("HANDLE_REGISTRY_PATH", str(registry_file))
    monkeypatch.setenv("X_RETRY_BASE_SECONDS", "0.01")
    # One cycle per invocation, a window ending 2 s before now (the tests publish tweets a few seconds old)
    monkeypatch.setenv("CYCLES_PER_INVOCATION", "1")
    monkeypatch.setenv("SETTLE_SECONDS", "2")
    for handle in json.loads(registry_file.read_text())["handles"]:
        fake_x.add_user(
            {"id": str(abs(hash(handle["username"])) % 10**9), "username": handle["username"], "name": handle["name"]}
        )
    sm = boto3.client("secretsmanager", endpoint_url=aws_url)
    sm.put_secret_value(
        SecretId=stack.secrets["XApiSecret"], SecretString=json.dumps({"bearer_token": fake_x.bearer_token})
    )
    return spec


class Publisher:
    """Posts tweets now (on the test clock); ``settle()`` moves time past the poller's settle lag."""

    def __init__(self, x: FakeX, clock: TestClock):
        self.x, self.clock = x, clock
        self.seq = 0

    def settle(self) -> None:
        self.clock.advance(3)  # the poller's window ends 2 s before now (SETTLE_SECONDS), in whole seconds

    def tweet(self, text: str, author: str = "citizen", **extra: Any) -> str:
        """Post a tweet now (its id the snowflake of this moment, as X's are)."""
        self.seq += 1
        from datetime import UTC, datetime

        at = self.clock()
        tid = str(snowflake(datetime.fromtimestamp(at, UTC), self.seq))
        user = {"id": str(10_000 + abs(hash(author)) % 10**6), "username": author, "name": author.title()}
        self.x.publish({"id": tid, "text": text, "lang": "en", **extra}, user, None, at)
        return tid


@pytest.fixture
def publish(fake_x, clock) -> Publisher:
    return Publisher(fake_x, clock)


def invoke_poll(settle: Publisher | None = None) -> dict[str, Any]:
    """One scheduled invocation (after the settle lag, when given the publisher); its (last) cycle's report."""
    from poll.app import handler

    if settle is not None:
        settle.settle()

    event = scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/test", __import__("datetime").datetime.now())
    return handler(event, Context())["cycles"][-1]


def stored_ids(stack: Deployment) -> list[str]:
    ddb = boto3.client("dynamodb")
    ids: list[str] = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack.tables["ComplaintsTable"], ConsistentRead=True):
        ids += [item["tweet_id"]["S"] for item in page["Items"]]
    return ids


def cursors(stack: Deployment) -> dict[str, int]:
    ddb = boto3.client("dynamodb")
    out = ddb.query(
        TableName=stack.tables["StateTable"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "cursor#search"}},
        ConsistentRead=True,
    )
    return {i["sk"]["S"]: int(i["since_id"]["N"]) for i in out["Items"] if "since_id" in i}


class Lanes:
    """What the lifecycle pipe and the event bus's rules deliver to a function's lanes: each transition written to
    the audit table, as an EventBridge event (the pipe's detail is the stream record) in an SQS message, for the
    rules (from template.yaml) that target the function's queues."""

    def __init__(self, stack: Deployment, function: str):
        from moto.events.models import EventPattern
        from sevalocal.template import load_template

        self.client = boto3.client("dynamodbstreams")
        self.arn = stack.attributes[("AuditTable", "StreamArn")]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        resources = load_template(ROOT / "template.yaml")["Resources"]
        queues = {
            e["Properties"]["Queue"]["Fn::GetAtt"][0]
            for e in resources[function]["Properties"]["Events"].values()
            if e["Type"] == "SQS"
        }
        self.rules = [
            (
                EventPattern.load(json.dumps(r["Properties"]["EventPattern"])),
                r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0],
            )
            for r in resources.values()
            if r["Type"] == "AWS::Events::Rule" and r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0] in queues
        ]
        self.n = 0

    def records(self) -> list[dict[str, Any]]:
        from sevalocal.emulator import to_lambda_record

        out = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = out["NextShardIterator"]
        records = []
        for raw in out["Records"]:
            record = to_lambda_record(raw, self.arn)
            if raw["eventName"] != "INSERT" or record["dynamodb"]["NewImage"]["kind"]["S"] != "transition":
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "ComplaintTransition",
                "source": "seva.lifecycle",
                "account": "123456789012",
                "time": "2026-12-01T00:00:00Z",
                "region": "ap-south-1",
                "resources": [],
                "detail": record,
            }
            for pattern, queue in self.rules:
                if pattern.matches_event(event):
                    self.n += 1
                    records.append(
                        {
                            "messageId": f"m{self.n}",
                            "receiptHandle": f"h{self.n}",
                            "body": json.dumps(event),
                            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                            "messageAttributes": {},
                            "md5OfBody": "-",
                            "eventSource": "aws:sqs",
                            "eventSourceARN": f"arn:aws:sqs:ap-south-1:123456789012:{queue}",
                            "awsRegion": "ap-south-1",
                        }
                    )
        return records
